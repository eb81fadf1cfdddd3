import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parsePolicy } from '../../src/registry/load-policy.js';
import { rotateCredential } from '../../src/engine/rotate.js';
import { unformat, verifyCredential, verifyProblems, verifyTable } from '../../src/cli/verify.js';
import { generatePassword } from '../../src/secret/generate.js';
import { scramVerifier } from '../../src/postgres/scram.js';
import { Secret } from '../../src/secret/secret.js';
import { testRuntime } from '../helpers/runtime.js';
import { alterRolePolicy, leakHaystack, login, makeRole, usePostgres } from '../helpers/postgres.js';
import { rotationRequest } from '../helpers/request.js';

const fx = usePostgres();
const stored = (workspace: string, key: string) =>
  readFileSync(join(workspace, '.secrets/app.env'), 'utf8').match(new RegExp(`^${key}=(.*)$`, 'm'))?.[1];

/** A role rotated once by the tool, so its file store holds a value only the tool knows. */
async function rotated(role: string) {
  const old = await makeRole(fx(), role);
  const runtime = testRuntime({ now: () => new Date() });
  const policyText = alterRolePolicy(fx(), role);
  // Without a current value (undefined), the policy has no `current:` and verify reads the stores.
  const policyWith = (current?: string) =>
    parsePolicy(current ? policyText : withoutCurrent(policyText), 'rotation.yaml', {
      ROTATION_ADMIN_URL: fx().platform.adminUrl,
      CURRENT: current,
    });
  const result = await rotateCredential(policyWith(old.reveal()), rotationRequest(role), runtime);
  expect(result.status).toBe('rotated');
  return { old, runtime, policyWith, fresh: stored(runtime.workspace, 'DB_PASSWORD')! };
}

const withoutCurrent = (policy: string) => policy.replace(/^ {4}current: .*\n/m, '');

async function adminSessions(): Promise<number> {
  const db = await fx().server.client();
  try {
    const { rows } = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename = 'rotation_admin'");
    const locks = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory'");
    return rows[0].n + locks.rows[0].n;
  } finally {
    await db.end();
  }
}

describe('verify on a real PostgreSQL 16', () => {
  it('passes after a rotation, from current or from the file store, and every readable store agrees', async () => {
    const { runtime, policyWith, fresh } = await rotated('app_verify_ok');
    const fromCurrent = await verifyCredential(policyWith(fresh), 'app_verify_ok', runtime);
    expect(fromCurrent).toMatchObject({ ok: true, works: true, source: 'current' });
    expect(fromCurrent.stores).toEqual([
      { target: 'file .secrets/app.env DB_PASSWORD', outcome: 'agrees' },
      { target: 'file .secrets/app.env DATABASE_URL', outcome: 'agrees' },
    ]);
    // No current value given: the value the file store holds is proven.
    const fromFile = await verifyCredential(policyWith(), 'app_verify_ok', runtime);
    expect(fromFile).toMatchObject({ ok: true, works: true, source: 'file .secrets/app.env DB_PASSWORD' });
    expect(verifyProblems([fromCurrent, fromFile])).toEqual([]);
    expect(verifyTable([fromCurrent])).toMatch(/app_verify_ok\s+ok\s+current\s+2 agrees/);
    // method.close() ran: no admin connection (the rotation lock has its own) is left behind.
    expect(await adminSessions()).toBe(0);
  });

  it('catches a password changed behind the tool’s back, naming the credential and the target, and changes nothing', async () => {
    const { runtime, policyWith, fresh } = await rotated('app_verify_drift');
    const behind = generatePassword();
    const su = await fx().server.client();
    try {
      await su.query(`ALTER ROLE app_verify_drift PASSWORD ${su.escapeLiteral(scramVerifier(behind))}`);
    } finally {
      await su.end();
    }
    const before = readFileSync(join(runtime.workspace, '.secrets/app.env'), 'utf8');
    const logStart = fx().server.log.length;

    const row = await verifyCredential(policyWith(), 'app_verify_drift', runtime);
    expect(row).toMatchObject({ ok: false, works: false });
    const problems = verifyProblems([row]);
    expect(problems).toEqual([
      expect.stringMatching(
        /^app_verify_drift: the value from file \.secrets\/app\.env DB_PASSWORD no longer works at alter-role \(Postgres 127\.0\.0\.1:\d+\/odoo role app_verify_drift\)$/,
      ),
    ]);

    // Nothing changed: the drifted password still logs in, the store and evidence are untouched.
    expect((await login(fx(), 'app_verify_drift', behind)).ok).toBe(true);
    expect(readFileSync(join(runtime.workspace, '.secrets/app.env'), 'utf8')).toBe(before);
    // The rotation lock's ALTER ROLE … SET is rolled back; no password changes, nothing commits.
    expect(fx().server.log.slice(logStart).join('\n')).not.toMatch(/ALTER ROLE \S+ PASSWORD|COMMIT/);
    expect(await adminSessions()).toBe(0);

    const haystack = leakHaystack(
      runtime.reporter.lines,
      JSON.stringify(row),
      verifyTable([row]),
      problems,
      fx().server.log.slice(logStart),
    );
    for (const secret of [fresh, behind.reveal()]) expect(haystack).not.toContain(secret);
  });

  it('reports a store that disagrees with the value in use, or holds none', async () => {
    const { runtime, policyWith, fresh } = await rotated('app_verify_split');
    const file = join(runtime.workspace, '.secrets/app.env');
    writeFileSync(
      file,
      readFileSync(file, 'utf8').replace(
        /^DATABASE_URL=.*\n/m,
        'DATABASE_URL=postgresql://app_verify_split:stale-value-1234@127.0.0.1:1/odoo\n',
      ),
    );
    const row = await verifyCredential(policyWith(fresh), 'app_verify_split', runtime);
    expect(row).toMatchObject({ ok: false, works: true });
    expect(verifyProblems([row])).toEqual(['app_verify_split: file .secrets/app.env DATABASE_URL does not hold the value from current']);

    writeFileSync(file, `DB_PASSWORD=${fresh}\n`);
    const missing = await verifyCredential(policyWith(fresh), 'app_verify_split', runtime);
    expect(verifyProblems([missing])).toEqual(['app_verify_split: file .secrets/app.env DATABASE_URL holds no value']);
    expect(existsSync(join(runtime.workspace, 'docs/evidence'))).toBe(true); // only the rotation's record
  });

  it('a store that cannot be read fails its own check, naming why; the value is still proven and nothing leaks', async () => {
    const { runtime, policyWith, fresh } = await rotated('app_verify_unreadable');
    // A folder where the file should be: reading it fails (EISDIR), for root too.
    const file = join(runtime.workspace, '.secrets/app.env');
    rmSync(file);
    mkdirSync(file);
    const row = await verifyCredential(policyWith(fresh), 'app_verify_unreadable', runtime);
    expect(row).toMatchObject({ ok: false, works: true, source: 'current' });
    expect(row.stores.map((s) => s.outcome)).toEqual(['unreadable', 'unreadable']);
    const problems = verifyProblems([row]);
    expect(problems).toEqual([
      expect.stringMatching(
        /^app_verify_unreadable: file \.secrets\/app\.env DB_PASSWORD could not be read: .*the path is a folder, not a file/,
      ),
      expect.stringMatching(
        /^app_verify_unreadable: file \.secrets\/app\.env DATABASE_URL could not be read: .*the path is a folder, not a file/,
      ),
    ]);
    expect(verifyTable([row])).toContain('2 unreadable');
    // Without current, nothing can be proven: the run says so and names the unreadable targets.
    const none = await verifyCredential(policyWith(), 'app_verify_unreadable', runtime);
    expect(none).toMatchObject({ ok: false, works: false, source: null });
    expect(verifyProblems([none])).toContain('app_verify_unreadable: no value to verify: current is not set and no store can be read back');
    expect(verifyProblems([none]).filter((p) => p.includes('could not be read'))).toHaveLength(2);
    expect(leakHaystack(runtime.reporter.lines, problems, JSON.stringify([row, none]))).not.toContain(fresh);
  });

  it('says when there is nothing to verify, and refuses an unknown credential', async () => {
    await makeRole(fx(), 'app_verify_none');
    const runtime = testRuntime({ now: () => new Date() });
    const policy = parsePolicy(withoutCurrent(alterRolePolicy(fx(), 'app_verify_none')), 'rotation.yaml', {
      ROTATION_ADMIN_URL: fx().platform.adminUrl,
    });
    const row = await verifyCredential(policy, 'app_verify_none', runtime);
    expect(verifyProblems([row])).toEqual(['app_verify_none: no value to verify: current is not set and no store can be read back']);
    await expect(verifyCredential(policy, 'nope', runtime)).rejects.toThrow(/unknown credential 'nope'/);
  });
});

describe('unformat', () => {
  it('takes the password out of a format-rendered value', () => {
    const url = 'postgresql://odoo_app:{password}@db:25060/odoo?sslmode=require';
    expect(unformat(url, new Secret('postgresql://odoo_app:p4ss+w/rd@db:25060/odoo?sslmode=require'))?.reveal()).toBe('p4ss+w/rd');
    expect(unformat('postgres://u:{password_url}@h/d', new Secret('postgres://u:a%2Fb%40c@h/d'))?.reveal()).toBe('a/b@c');
    expect(unformat(url, new Secret('something else'))).toBeUndefined();
    expect(unformat(undefined, new Secret('bare'))?.reveal()).toBe('bare');
  });
});
