import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rotateCredential, type RotationResult } from '../../src/engine/rotate.js';
import { parsePolicy } from '../../src/registry/load-policy.js';
import { connect, connectionConfig } from '../../src/postgres/connect.js';
import { Secret } from '../../src/secret/secret.js';
import { alterRolePolicy, leakHaystack, login, usePostgres } from '../helpers/postgres.js';
import { testRuntime, type TestRuntime } from '../helpers/runtime.js';

/**
 * reason: exposure on a real PostgreSQL 16: no cadence check; sessions of the role opened before
 * the change are terminated and listed in the evidence, a session opened after it survives. An admin
 * that may not end (or see) them does not block the change: the password changes first, and the
 * sessions that survive fail the run, listed with the GRANT that would end them (invariant 6).
 */
const fx = usePostgres();
const trigger = { event: 'workflow_dispatch', actor: 'ops' };
let health: Server;
let healthUrl: string;
let runtime: TestRuntime;
/** Sessions the "consumer" opened with the new password during the health step. */
const afterChange: pg.Client[] = [];

beforeAll(async () => {
  runtime = testRuntime();
  // The consumer restarts on the new password (read from the file store) while health is checked.
  health = createServer(async (_req, res) => {
    const line = readFileSync(join(runtime.workspace, '.secrets/app.env'), 'utf8').match(/^DB_PASSWORD=(.*)$/m)![1];
    const client = await connect(
      {
        ...connectionConfig(new Secret(fx().platform.adminUrl), { user: 'odoo_app', password: new Secret(line) }),
        application_name: 'odoo',
      },
      'odoo',
    );
    afterChange.push(client);
    res.writeHead(200).end('ok');
  });
  await new Promise<void>((r) => health.listen(0, '127.0.0.1', r));
  healthUrl = `http://127.0.0.1:${(health.address() as { port: number }).port}/health`;
});
afterAll(async () => {
  for (const c of afterChange) await c.end().catch(() => undefined);
  health?.close();
});

const policyText = () => alterRolePolicy(fx(), 'odoo_app', `    health:\n      - http: { url: "${healthUrl}", timeout_seconds: 5 }\n`);
const rotate = (current: string, reason: 'exposure' | 'scheduled' | 'manual') =>
  rotateCredential(
    parsePolicy(policyText(), '.github/rotation.yaml', { ROTATION_ADMIN_URL: fx().platform.adminUrl, CURRENT: current }),
    { credential: 'odoo_app', reason, dryRun: false, trigger },
    runtime,
  );
const fileValue = () => readFileSync(join(runtime.workspace, '.secrets/app.env'), 'utf8').match(/^DB_PASSWORD=(.*)$/m)?.[1];
const asSuperuser = async <T>(fn: (db: pg.Client) => Promise<T>): Promise<T> => {
  const db = await fx().server.client();
  try {
    return await fn(db);
  } finally {
    await db.end();
  }
};
function sessionAs(password: string): Promise<pg.Client> {
  return connect(
    {
      ...connectionConfig(new Secret(fx().platform.adminUrl), { user: 'odoo_app', password: new Secret(password) }),
      application_name: 'psql',
    },
    'psql',
  );
}
const pidOf = async (c: pg.Client) => (await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
function noLeak(result: RotationResult, secrets: string[], logStart: number) {
  const evidence = result.evidencePath
    ? [
        readFileSync(join(runtime.workspace, result.evidencePath), 'utf8'),
        readFileSync(join(runtime.workspace, result.evidencePath.replace(/json$/, 'md')), 'utf8'),
      ]
    : [];
  const haystack = leakHaystack(
    runtime.reporter.lines,
    result.summary,
    JSON.stringify(result.record),
    evidence,
    fx().server.log.slice(logStart),
  );
  for (const s of secrets) expect(haystack).not.toContain(s);
}

describe('reason: exposure with alter-role', () => {
  it('PG16: a grant WITH INHERIT FALSE does not let the admin terminate the role’s sessions (why the preflight checks)', async () => {
    const session = await sessionAs(fx().platform.passwords.odoo_app.reveal());
    const admin = new pg.Client({ connectionString: fx().platform.adminUrl });
    await admin.connect();
    try {
      await expect(admin.query('SELECT pg_terminate_backend($1)', [await pidOf(session)])).rejects.toMatchObject({ code: '42501' });
    } finally {
      await admin.end();
      await session.end();
    }
  });

  /** An exposure run with a session opened beforehand with the value in use: the password changes whatever the admin may do. */
  async function exposedWithSession() {
    const current = existsSync(join(runtime.workspace, '.secrets/app.env')) ? fileValue()! : fx().platform.passwords.odoo_app.reveal();
    const attacker = await sessionAs(current);
    const pid = await pidOf(attacker);
    const logStart = fx().server.log.length;
    const result = await rotate(current, 'exposure');
    const fresh = fileValue()!;
    // Rotated first: the new value is stored and live, the exposed one refused.
    expect(fresh).not.toBe(current);
    expect((await login(fx(), 'odoo_app', fresh)).ok).toBe(true);
    expect(await login(fx(), 'odoo_app', current)).toMatchObject({ ok: false, code: '28P01' });
    const evidence = JSON.parse(readFileSync(join(runtime.workspace, result.evidencePath!), 'utf8'));
    const markdown = readFileSync(join(runtime.workspace, result.evidencePath!.replace(/json$/, 'md')), 'utf8');
    noLeak(result, [current, fresh], logStart);
    return { attacker, pid, result, evidence, markdown, consumers: afterChange.splice(0) };
  }
  const endAll = async (clients: pg.Client[]) => {
    for (const c of clients) await c.end().catch(() => undefined);
  };

  it('least privilege: rotates first, then fails listing the sessions it could not see or end, with the exact GRANTs', async () => {
    const { attacker, pid, result, evidence, markdown, consumers } = await exposedWithSession();
    try {
      expect(result.status).toBe('failed');
      // The attacker's session lives on: the admin could neither see when it started nor end it.
      expect((await attacker.query<{ one: number }>('SELECT 1 AS one')).rows[0].one).toBe(1);
      const survivor = `odoo_app session pid ${pid} (start, application and client not visible to rotation_admin: it may predate the change)`;
      expect(result.summary).toContain(`exposure: the password changed and the old one is refused, but`);
      expect(result.summary).toContain(survivor);
      expect(result.summary).toContain(
        'as a superuser: GRANT pg_read_all_stats TO rotation_admin; GRANT pg_signal_backend TO rotation_admin',
      );
      expect(evidence.old_credential).toMatchObject({ tried: true, rejected: true });
      expect(evidence.incident).toMatchObject({
        exposure: true,
        cut_off: [],
        grants: ['GRANT pg_read_all_stats TO rotation_admin', 'GRANT pg_signal_backend TO rotation_admin'],
      });
      expect(evidence.incident.survived).toContain(survivor);
      expect(evidence.steps.find((s: { step: string }) => s.step === 'revoke').outcome).toBe('failed');
      expect(markdown).toContain(`- ${survivor}`);
      expect(markdown).toContain('`GRANT pg_signal_backend TO rotation_admin`');
    } finally {
      await endAll([attacker, ...consumers]);
    }
  });

  it('with pg_signal_backend only: still no session ended blindly; the survivors are listed with the one GRANT missing', async () => {
    await asSuperuser((db) => db.query('GRANT pg_signal_backend TO rotation_admin'));
    const { attacker, pid, result, evidence, consumers } = await exposedWithSession();
    try {
      expect(result.status).toBe('failed');
      expect((await attacker.query('SELECT 1')).rowCount).toBe(1);
      expect(evidence.incident.survived).toContain(
        `odoo_app session pid ${pid} (start, application and client not visible to rotation_admin: it may predate the change)`,
      );
      expect(evidence.incident.grants).toEqual(['GRANT pg_read_all_stats TO rotation_admin']);
      expect(result.summary).toMatch(/as a superuser: GRANT pg_read_all_stats TO rotation_admin; then end them/);
    } finally {
      await endAll([attacker, ...consumers]);
    }
  });

  it('with pg_read_all_stats only: the old sessions are seen, listed with application and client, and the GRANT to end them', async () => {
    await asSuperuser((db) => db.query('REVOKE pg_signal_backend FROM rotation_admin; GRANT pg_read_all_stats TO rotation_admin'));
    const { attacker, pid, result, evidence, consumers } = await exposedWithSession();
    try {
      expect(result.status).toBe('failed');
      expect((await attacker.query('SELECT 1')).rowCount).toBe(1);
      // The consumer's session opened after the change is visible as such, and not listed.
      expect(consumers).toHaveLength(1);
      expect(evidence.incident.survived).toEqual([
        expect.stringMatching(
          new RegExp(
            `^odoo_app session pid ${pid} \\(application 'psql', client 127\\.0\\.0\\.1, opened \\d{4}-.*\\): rotation_admin may not end it$`,
          ),
        ),
      ]);
      expect(evidence.incident.grants).toEqual(['GRANT pg_signal_backend TO rotation_admin']);
      expect(result.summary).toContain(`${evidence.incident.survived[0]}. as a superuser: GRANT pg_signal_backend TO rotation_admin`);
    } finally {
      await endAll([attacker, ...consumers]);
      await asSuperuser((db) => db.query('GRANT pg_signal_backend TO rotation_admin'));
    }
  });

  it('least privilege with no session of the role open: rotated (nothing survived)', async () => {
    await asSuperuser((db) => db.query('REVOKE pg_signal_backend, pg_read_all_stats FROM rotation_admin'));
    // No health check here: it would open a consumer session the admin cannot tell from an old one.
    const current = fileValue()!;
    const result = await rotateCredential(
      parsePolicy(alterRolePolicy(fx(), 'odoo_app'), '.github/rotation.yaml', {
        ROTATION_ADMIN_URL: fx().platform.adminUrl,
        CURRENT: current,
      }),
      { credential: 'odoo_app', reason: 'exposure', dryRun: false, trigger },
      runtime,
    );
    expect(result.status, result.summary).toBe('rotated');
    const evidence = JSON.parse(readFileSync(join(runtime.workspace, result.evidencePath!), 'utf8'));
    expect(evidence.incident).toEqual({ exposure: true, cut_off: [] });
    expect(evidence.notes).toContain(
      'exposure: the admin lacks pg_signal_backend and pg_read_all_stats, so sessions of odoo_app opened before the change may survive it; the password changes first, and any survivor fails the run (GRANT pg_signal_backend, pg_read_all_stats TO rotation_admin)',
    );
    await asSuperuser((db) => db.query('GRANT pg_signal_backend TO rotation_admin'));
  });

  it('with both grants: rotates although not due, cuts off the sessions opened before the change, keeps those opened after, records them', async () => {
    await asSuperuser((db) => db.query('GRANT pg_read_all_stats TO rotation_admin'));
    const original = fx().platform.passwords.odoo_app.reveal();
    // A rotation just now: a scheduled run is not due, an exposure run goes ahead regardless.
    const manual = await rotate(original, 'manual');
    expect(manual.status, manual.summary).toBe('rotated');
    const exposed = fileValue()!;
    runtime.advance(24 * 3600_000);
    const scheduled = await rotate(exposed, 'scheduled');
    expect(scheduled.status).toBe('skipped');
    expect(scheduled.summary).toMatch(/^not due/);

    // Opened with the exposed password: an attacker's, and the consumer's from the manual run.
    const attacker = await sessionAs(exposed);
    const attackerPid = await pidOf(attacker);
    const [consumer] = afterChange.splice(0);
    const consumerPid = await pidOf(consumer);
    const logStart = fx().server.log.length;
    const result = await rotate(exposed, 'exposure');
    expect(result.status, runtime.reporter.lines.join('\n')).toBe('rotated');
    const fresh = fileValue()!;

    // The session opened with the exposed password is gone; the one opened after the change lives.
    await expect(attacker.query('SELECT 1')).rejects.toThrow();
    await expect(consumer.query('SELECT 1')).rejects.toThrow();
    const alive = await asSuperuser(async (db) =>
      (await db.query<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE usename = 'odoo_app'")).rows.map((r) => r.pid),
    );
    expect(afterChange).toHaveLength(1);
    const keptPid = await pidOf(afterChange[0]);
    expect(alive).toEqual([keptPid]);
    expect((await afterChange[0].query<{ one: number }>('SELECT 1 AS one')).rows[0].one).toBe(1);
    expect(await login(fx(), 'odoo_app', exposed)).toMatchObject({ ok: false, code: '28P01' });

    // The evidence says what was cut off, and only that.
    const evidence = JSON.parse(readFileSync(join(runtime.workspace, result.evidencePath!), 'utf8'));
    expect(evidence.reason).toBe('exposure');
    expect(evidence.old_credential.detail).toBe(
      'old password refused with SQLSTATE 28P01; 2 session(s) opened before the change terminated',
    );
    const cutOff = [
      [attackerPid, 'psql'],
      [consumerPid, 'odoo'],
    ].map(([pid, app]) =>
      expect.stringMatching(new RegExp(`^odoo_app session pid ${pid} \\(application '${app}', client 127\\.0\\.0\\.1, opened \\d{4}-`)),
    );
    expect([...evidence.old_credential.cut_off].sort()).toEqual(expect.arrayContaining(cutOff));
    expect(evidence.old_credential.cut_off).toHaveLength(2);
    expect(evidence.old_credential.cut_off.join()).not.toContain(String(keptPid));
    noLeak(result, [original, exposed, fresh], logStart);
  });

  it('the evidence of an exposure run is marked as an incident with what was cut off', async () => {
    const current = fileValue()!;
    const attacker = await sessionAs(current);
    const pid = await pidOf(attacker);
    const result = await rotate(current, 'exposure');
    expect(result.status, result.summary).toBe('rotated');
    const evidence = JSON.parse(readFileSync(join(runtime.workspace, result.evidencePath!), 'utf8'));
    // Needs the engine to copy RevocationProof.cut_off into record.incident (src/engine/rotate.ts).
    expect(evidence.incident).toMatchObject({ exposure: true });
    expect(evidence.incident.cut_off).toEqual(expect.arrayContaining([expect.stringContaining(`pid ${pid} (application 'psql'`)]));
    await attacker.end().catch(() => undefined);
  });
});
