// supabase-db-password: the project's `postgres` password set through the Management API
// (PATCH /v1/projects/{ref}/database/password), on a real PostgreSQL 16 whose stand-in role the
// Supabase model really changes, with a pooler stand-in (a TCP proxy answering 28P01 for a while
// after the change, as Supavisor does while its credential cache catches up).
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setupServer } from 'msw/node';
import { parsePolicy } from '../../src/registry/load-policy.js';
import { rotateCredential, type RotationResult } from '../../src/engine/rotate.js';
import { whyNotCounted } from '../../src/evidence/validate.js';
import { verifyCredential } from '../../src/cli/verify.js';
import { scramVerifier } from '../../src/postgres/scram.js';
import { Secret } from '../../src/secret/secret.js';
import type { EvidenceRecord, Reason } from '../../src/evidence/record.js';
import { createSupabaseModel, type SupabaseModel } from '../models/supabase.js';
import { testRuntime, type TestRuntime } from '../helpers/runtime.js';
import { leakHaystack, login, makeRole, usePostgres } from '../helpers/postgres.js';
import { startPoolerStandIn, type PoolerStandIn } from '../helpers/pooler.js';
import { supabaseSystemYaml } from '../helpers/supabase.js';
import { REF } from '../helpers/supabase.js';
import { ECHO_FORMS, echoing, leakForms, type Echo } from '../helpers/echo.js';

const PAT = 'sbp_dbpassword_0123456789abcdef0123456789abcdef';
const ROLE = 'sb_postgres';
const server = setupServer();
const pg = usePostgres();
let pooler: PoolerStandIn | undefined;
beforeAll(() => server.listen({ onUnhandledFrame: 'error' }));
afterEach(async () => {
  server.resetHandlers();
  await pooler?.stop();
  pooler = undefined;
});
afterAll(() => server.close());

let current = '';
beforeAll(async () => {
  current = (await makeRole(pg(), ROLE)).reveal();
});

interface World {
  runtime: TestRuntime;
  sb: SupabaseModel;
  pooler: PoolerStandIn;
}

/** The Supabase model over the real server, and a pooler stand-in that refuses for `refuseMs` after each change. */
async function world(refuseMs: number, status = 'ACTIVE_HEALTHY'): Promise<World> {
  const runtime = testRuntime();
  pooler = await startPoolerStandIn({ host: '127.0.0.1', port: pg().server.port }, { refuseMs, now: () => runtime.now().getTime() });
  const standIn = pooler;
  const sb = createSupabaseModel({
    token: PAT,
    now: runtime.now,
    projects: [
      {
        ref: REF,
        status,
        database: { host: '127.0.0.1', adminUrl: pg().platform.adminUrl, role: ROLE, onPasswordChange: () => standIn.changed() },
      },
    ],
  });
  server.use(...sb.handlers);
  return { runtime, sb, pooler: standIn };
}

interface RunOptions {
  dryRun?: boolean;
  reason?: Reason;
  /** db_url through the pooler stand-in (as from a runner without IPv6): the method's own proofs wait for it too. */
  viaPooler?: boolean;
}

function policyText(w: World, settle: number, o: RunOptions): string {
  const port = o.viaPooler ? w.pooler.port : pg().server.port;
  return `version: 1
systems:
${supabaseSystemYaml(REF, undefined, { dbUrl: `postgresql://${ROLE}@127.0.0.1:${port}/odoo?sslmode=disable`, dbPooler: o.viaPooler })}credentials:
  supabase_db:
    system: supabase-ssot
    method: supabase-db-password
    role: ${ROLE}
    cadence: quarterly
    current: \${SUPABASE_DB_PASSWORD}
${o.viaPooler ? `    settle_seconds: ${settle}\n` : ''}    store:
      - file: { path: .secrets/supabase.env, key: SUPABASE_DB_PASSWORD }
    health:
      - postgres-login: { url: "postgresql://${ROLE}:{password}@127.0.0.1:${w.pooler.port}/odoo?sslmode=disable", pooler: true, settle_seconds: ${settle} }
`;
}

async function rotate(w: World, settle: number, o: RunOptions = {}): Promise<RotationResult> {
  const policy = parsePolicy(policyText(w, settle, o), 'rotation.yaml', { SUPABASE_ACCESS_TOKEN: PAT, SUPABASE_DB_PASSWORD: current });
  return rotateCredential(
    policy,
    { credential: 'supabase_db', reason: o.reason ?? 'scheduled', dryRun: o.dryRun ?? false, trigger: { event: 'schedule', actor: 'ops' } },
    w.runtime,
  );
}

const stored = (w: World) => /SUPABASE_DB_PASSWORD=(.*)/.exec(readFileSync(join(w.runtime.workspace, '.secrets/supabase.env'), 'utf8'))![1];
const evidence = (w: World, r: RotationResult) =>
  JSON.parse(readFileSync(join(w.runtime.workspace, r.evidencePath!), 'utf8')) as EvidenceRecord;
const patches = (w: World) => w.sb.count({ method: 'PATCH', path: `/v1/projects/${REF}/database/password` });

/** No value of the run in any sink: log, result, evidence, the model's request log, the server's log. */
function expectNoLeak(w: World, r: RotationResult, values: string[]): void {
  const files = r.evidencePath
    ? [
        readFileSync(join(w.runtime.workspace, r.evidencePath), 'utf8'),
        readFileSync(join(w.runtime.workspace, r.evidencePath.replace(/\.json$/, '.md')), 'utf8'),
      ]
    : [];
  const text = leakHaystack(w.runtime.reporter.lines, JSON.stringify(r), JSON.stringify(w.sb.requests), files, pg().server.log);
  for (const value of [...values, PAT]) expect(text.includes(value), `a secret (${value.length} chars) leaked`).toBe(false);
}

describe('supabase-db-password', () => {
  it('sets the password through the API after the store holds it; direct login works, old refused 28P01; waits for the pooler and records how long', async () => {
    const w = await world(7_000);
    const old = current;
    const result = await rotate(w, 30);
    expect(result.summary).toMatch(/^rotated/);
    expect(result.status).toBe('rotated');
    const fresh = stored(w);
    current = fresh;
    expect(fresh).not.toBe(old);
    expect(patches(w)).toBe(1);
    // The real server: the new value logs in directly, the old one is refused.
    expect((await login(pg(), ROLE, fresh)).ok).toBe(true);
    expect(((await login(pg(), ROLE, old)) as { code?: string }).code).toBe('28P01');

    const record = evidence(w, result);
    expect(whyNotCounted(record, result.evidencePath!.split('/').slice(-3), new Date('2100-01-01'))).toBeUndefined();
    // The store was written before the password changed (the API cannot stage it).
    const order = record.steps.map((s) => s.step);
    expect(order.indexOf('store')).toBeLessThan(order.indexOf('apply'));
    expect(record.steps.find((s) => s.step === 'apply')!.detail).toMatch(/Supabase set the password/);
    expect(record.old_credential).toMatchObject({ tried: true, rejected: true });
    expect(record.old_credential.detail).toMatch(/28P01/);
    // The pooler refused for 7 s on the run's clock, retried 3 s apart: accepted on the 4th login.
    expect(w.pooler.refused).toBe(3);
    expect(record.health[0]).toMatchObject({ outcome: 'ok', pooler: { accepted: true, refusals: 3, window_seconds: 30 } });
    expect(record.health[0].pooler!.waited_seconds).toBeGreaterThanOrEqual(7);
    expect(record.health[0].detail).toMatch(/the pooler accepted the new value after 9 s \(3 login\(s\) refused first/);
    // The plaintext reached only the API (by design); the server got a verifier.
    expectNoLeak(w, result, [old, fresh]);
  });

  it('a pooler that never accepts fails the run honestly: the old value is already dead, the store holds the live new one', async () => {
    const w = await world(Infinity);
    const old = current;
    const result = await rotate(w, 9);
    expect(result.status).toBe('failed');
    const fresh = stored(w);
    current = fresh;
    expect((await login(pg(), ROLE, fresh)).ok).toBe(true);
    expect(((await login(pg(), ROLE, old)) as { code?: string }).code).toBe('28P01');
    expect(result.summary).toMatch(/the pooler refused the new value for 9 s/);
    expect(result.summary).toMatch(/file \.secrets\/supabase\.env SUPABASE_DB_PASSWORD: new value/);
    expect(result.summary).toMatch(/The old value no longer works \(old password refused with SQLSTATE 28P01\)/);
    const record = evidence(w, result);
    expect(record.old_credential).toMatchObject({ tried: true, rejected: true });
    expect(record.health[0]).toMatchObject({ outcome: 'failed', pooler: { accepted: false, refusals: 4, window_seconds: 9 } });
    expect(record.stores[0].holds).toBe('new value');
    expect(whyNotCounted(record, result.evidencePath!.split('/').slice(-3), new Date('2100-01-01'))).toBeUndefined();
    expectNoLeak(w, result, [old, fresh]);
  });

  it('a refused API call changes nothing: the store is put back and the old value still logs in', async () => {
    const w = await world(0);
    mkdirSync(join(w.runtime.workspace, '.secrets'));
    writeFileSync(join(w.runtime.workspace, '.secrets/supabase.env'), `SUPABASE_DB_PASSWORD=${current}\n`);
    w.sb.failNext({ method: 'PATCH' }, { status: 403, message: 'You do not have permission to perform this action' });
    const result = await rotate(w, 9);
    expect(result.status).toBe('failed');
    expect(result.summary).toMatch(/database:write/);
    expect(stored(w)).toBe(current);
    expect((await login(pg(), ROLE, current)).ok).toBe(true);
    expect(evidence(w, result).stores[0].holds).toBe('restored');
  });

  it('a call whose replies are all lost but which landed counts as applied: the new value logs in', async () => {
    const w = await world(0);
    const old = current;
    // Each try sets the (same) password, then its reply is lost: the client's retries run out.
    w.sb.failNext({ method: 'PATCH' }, { status: 502, applied: true }, 10);
    const result = await rotate(w, 9);
    expect(patches(w)).toBeGreaterThan(1);
    expect(result.status).toBe('rotated');
    expect(result.record.steps.find((s) => s.step === 'apply')!.detail).toMatch(/but the new password logs in: Supabase set it/);
    current = stored(w);
    expect((await login(pg(), ROLE, current)).ok).toBe(true);
    expect(((await login(pg(), ROLE, old)) as { code?: string }).code).toBe('28P01');
  });

  it('preflight refuses a project that is not ACTIVE_HEALTHY, before anything changes; a dry run sends no PATCH', async () => {
    const paused = await world(0, 'INACTIVE');
    const refused = await rotate(paused, 9);
    expect(refused.status).toBe('failed');
    expect(refused.summary).toMatch(/the project is INACTIVE, not ACTIVE_HEALTHY/);
    expect(patches(paused)).toBe(0);
    await pooler!.stop();
    pooler = undefined;
    server.resetHandlers();
    const w = await world(0);
    const dry = await rotate(w, 9, { dryRun: true });
    expect(dry.summary).toMatch(/^dry run: preflight passed/);
    expect(w.sb.requests.filter((r) => r.method !== 'GET')).toEqual([]);
    expect((await login(pg(), ROLE, current)).ok).toBe(true);
  });
  it('with db_url through the pooler (no IPv6 on the runner), its own proofs wait for it: verify accepts late, the old value is refused', async () => {
    const w = await world(7_000);
    const old = current;
    const result = await rotate(w, 30, { viaPooler: true });
    expect(result.summary).toMatch(/^rotated/);
    current = stored(w);
    const verify = result.record.steps.find((s) => s.step === 'verify')!;
    expect(verify.detail).toMatch(
      /logs in with the new password at 127\.0\.0\.1:\d+\/odoo\?sslmode=disable; the pooler accepted the new value after 9 s \(3 login\(s\) refused first, window 30 s\)/,
    );
    // The health check came after: the pooler took the value by then.
    expect(result.record.health[0].pooler).toMatchObject({ accepted: true, refusals: 0 });
    expect(result.record.old_credential).toMatchObject({ tried: true, rejected: true });
    expect(((await login(pg(), ROLE, old)) as { code?: string }).code).toBe('28P01');
    expect((await login(pg(), ROLE, current)).ok).toBe(true);
  });

  it("on exposure, the sessions opened with the old password are ended by the role itself; the rotation lock's is spared", async () => {
    const w = await world(0);
    const old = current;
    const { connect, connectionConfig } = await import('../../src/postgres/connect.js');
    const url = new Secret(`postgresql://${ROLE}@127.0.0.1:${pg().server.port}/odoo?sslmode=disable`);
    const attacker = await connect(
      { ...connectionConfig(url, { user: ROLE, password: new Secret(old) }), application_name: 'attacker' },
      'attacker',
    );
    try {
      const pid = (await attacker.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
      const result = await rotate(w, 9, { reason: 'exposure' });
      expect(result.summary).toMatch(/^rotated/);
      current = stored(w);
      expect(result.record.incident?.cut_off.join(' ')).toContain(`pid ${pid}`);
      expect(result.record.old_credential.detail).toMatch(
        /old password refused with SQLSTATE 28P01; 1 session\(s\) opened before the password change terminated/,
      );
      await expect(attacker.query('SELECT 1')).rejects.toThrow();
    } finally {
      await attacker.end().catch(() => undefined);
    }
  });
  it('refuses, before any change, when an admin_url of the policy logs in as the same role on the same server', async () => {
    const w = await world(0);
    const text = policyText(w, 9, {}).replace(
      'credentials:',
      `  supabase-audit:
    type: postgres
    admin_url: postgresql://${ROLE}:\${SUPABASE_DB_PASSWORD}@127.0.0.1:${pg().server.port}/odoo?sslmode=disable
credentials:`,
    );
    const policy = parsePolicy(text, 'rotation.yaml', { SUPABASE_ACCESS_TOKEN: PAT, SUPABASE_DB_PASSWORD: current });
    const result = await rotateCredential(
      policy,
      { credential: 'supabase_db', reason: 'scheduled', dryRun: false, trigger: { event: 'schedule', actor: 'ops' } },
      w.runtime,
    );
    expect(result.status).toBe('failed');
    expect(result.summary).toMatch(/refusing to rotate role sb_postgres: systems\.supabase-audit\.admin_url logs in as sb_postgres/);
    expect(patches(w)).toBe(0);
    expect((await login(pg(), ROLE, current)).ok).toBe(true);
  });
  it("verify (the CLI command) proves the stored password without changing anything, and catches one changed behind the tool's back", async () => {
    const w = await world(0);
    const rotated = await rotate(w, 9);
    expect(rotated.status).toBe('rotated');
    current = stored(w);
    const mark = w.sb.requests.length;
    const policy = parsePolicy(policyText(w, 9, {}), 'rotation.yaml', { SUPABASE_ACCESS_TOKEN: PAT, SUPABASE_DB_PASSWORD: current });
    const ok = await verifyCredential(policy, 'supabase_db', w.runtime);
    expect(ok).toMatchObject({ ok: true, works: true, source: 'current' });
    expect(ok.stores).toEqual([{ target: 'file .secrets/supabase.env SUPABASE_DB_PASSWORD', outcome: 'agrees' }]);
    // Behind the tool's back (the dashboard's "Reset database password"): verify says so.
    const db = await pg().server.client();
    const elsewhere = 'reset-in-the-dashboard-Q1x';
    await db.query(`ALTER ROLE ${ROLE} PASSWORD ${db.escapeLiteral(scramVerifier(new Secret(elsewhere)))}`);
    await db.end();
    const stale = await verifyCredential(policy, 'supabase_db', w.runtime);
    expect(stale).toMatchObject({ ok: false, works: false });
    expect(stale.detail).toMatch(/the value from current no longer works at supabase-db-password/);
    expect(w.sb.requests.slice(mark).filter((r) => r.method !== 'GET')).toEqual([]);
    current = elsewhere;
  });
  // The request body carries the plaintext (that is Supabase's API): a server that echoes it in
  // its error must not put it in any sink, whether the refusal is definite (400) or not (500).
  it.each(ECHO_FORMS.flatMap((form) => [400, 500].map((status) => ({ form, status }))))(
    'an API echoing the password in its $status answer ($form) leaks nothing; nothing changed',
    async ({ form, status }) => {
      const w = await world(0);
      const echo: Echo = { hits: 0, sealed: [] };
      server.use(echoing(w.sb.apiUrl, 'PATCH', /\/database\/password$/, status, echo, form));
      const masked: string[] = [];
      const mask = w.runtime.reporter.mask.bind(w.runtime.reporter);
      w.runtime.reporter.mask = (secret) => {
        masked.push(secret.reveal());
        mask(secret);
      };
      const result = await rotate(w, 9);
      expect(echo.hits).toBeGreaterThan(0);
      expect(result.status).toBe('failed');
      expect((await login(pg(), ROLE, current)).ok).toBe(true);
      const sinks = leakHaystack(
        w.runtime.reporter.lines,
        JSON.stringify(result),
        result.evidencePath ? readFileSync(join(w.runtime.workspace, result.evidencePath), 'utf8') : '',
      );
      expect(sinks).toMatch(form === 'plain' ? /with headers/ : new RegExp(`echo ${form}:`));
      for (const secret of new Set([...masked, PAT, current]))
        for (const leak of leakForms(secret)) expect(sinks.includes(leak), `a secret leaked (${secret.length} chars)`).toBe(false);
    },
  );
  it('the policy: role defaults to postgres; a bad settle_seconds or db_url is refused naming the key, before anything runs', async () => {
    const w = await world(0);
    const env = { SUPABASE_ACCESS_TOKEN: PAT, SUPABASE_DB_PASSWORD: current };
    const text = policyText(w, 9, { viaPooler: true });
    expect(parsePolicy(text.replace(`    role: ${ROLE}\n`, ''), 'rotation.yaml', env).credentials.supabase_db.role).toBe('postgres');
    expect(() => parsePolicy(text.replace('settle_seconds: 9\n    store', 'settle_seconds: 0\n    store'), 'rotation.yaml', env)).toThrow(
      /credentials\.supabase_db\.settle_seconds/,
    );
    expect(() => parsePolicy(text.replace('db_url: postgresql://', 'db_url: mysql://'), 'rotation.yaml', env)).toThrow(
      /systems\.supabase-ssot\.db_url: expected a postgresql:\/\/ connection URL/,
    );
    expect(w.sb.requests).toEqual([]);
  });
});
