import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parsePolicy } from '../../src/registry/load-policy.js';
import { rotateCredential } from '../../src/engine/rotate.js';
import { Secret } from '../../src/secret/secret.js';
import { testRuntime } from '../helpers/runtime.js';
import { alterRolePolicy, leakHaystack, login, makeRole, usePostgres } from '../helpers/postgres.js';
import { takeRotationLock } from '../../src/postgres/lock.js';
import { rotationRequest as request } from '../helpers/request.js';

const fx = usePostgres();
const stored = (workspace: string, key: string) =>
  readFileSync(join(workspace, '.secrets/app.env'), 'utf8').match(new RegExp(`^${key}=(.*)$`, 'm'))?.[1];

async function setup(role: string, extra = '', options: { adminOption?: boolean } = {}) {
  const old = await makeRole(fx(), role, options);
  const runtime = testRuntime({ now: () => new Date() });
  const env = { ROTATION_ADMIN_URL: fx().platform.adminUrl, CURRENT: old.reveal() };
  const policy = parsePolicy(alterRolePolicy(fx(), role, extra), 'rotation.yaml', env);
  return { old, runtime, policy };
}

describe('alter-role, end to end on a real PostgreSQL 16', () => {
  it('rotates: every store holds one new value that logs in, the old one is refused, evidence is written, nothing leaks', async () => {
    const { old, runtime, policy } = await setup(
      'app_happy',
      '    health:\n      - postgres-login: { url: "postgresql://app_happy:{password}@127.0.0.1:PORT/odoo" }\n'.replace(
        'PORT',
        String(fx().server.port),
      ),
    );
    const logStart = fx().server.log.length;
    const result = await rotateCredential(policy, request('app_happy'), runtime);

    expect(result.status).toBe('rotated');
    const fresh = stored(runtime.workspace, 'DB_PASSWORD')!;
    expect(fresh).toHaveLength(32);
    expect(stored(runtime.workspace, 'DATABASE_URL')).toBe(`postgresql://app_happy:${fresh}@127.0.0.1:${fx().server.port}/odoo`);
    expect((await login(fx(), 'app_happy', fresh)).ok).toBe(true);
    expect(await login(fx(), 'app_happy', old)).toMatchObject({ ok: false, code: '28P01' });

    const json = JSON.parse(readFileSync(join(runtime.workspace, result.evidencePath!), 'utf8'));
    expect(json).toMatchObject({
      credential: 'app_happy',
      method: 'alter-role',
      status: 'rotated',
      old_credential: { tried: true, rejected: true },
    });
    expect(json.steps.map((s: { step: string; outcome: string }) => `${s.step}:${s.outcome}`)).toEqual([
      'preflight:ok',
      'generate:ok',
      'store:ok',
      'apply:ok',
      'verify:ok',
      'consumers:ok',
      'health:ok',
      'revoke:ok',
    ]);
    expect(result.evidencePath).toMatch(/^docs\/evidence\/\d{8}-\d{4}\/db-rotation\/app_happy\.json$/);
    const md = readFileSync(join(runtime.workspace, result.evidencePath!.replace(/\.json$/, '.md')), 'utf8');
    expect(md).toContain('SQLSTATE 28P01');

    const haystack = leakHaystack(
      runtime.reporter.lines,
      JSON.stringify(json),
      md,
      JSON.stringify(result),
      fx().server.log.slice(logStart),
    );
    for (const secret of [old.reveal(), fresh]) expect(haystack).not.toContain(secret);
    // The server saw the ALTER ROLE, with a verifier and not the password.
    expect(fx().server.log.slice(logStart).join('\n')).toMatch(/ALTER ROLE "app_happy" PASSWORD 'SCRAM-SHA-256\$4096:/);
  });

  it('a dry run checks everything and changes nothing', async () => {
    const { old, runtime, policy } = await setup('app_dry');
    const result = await rotateCredential(policy, request('app_dry', { dryRun: true }), runtime);
    expect(result.status).toBe('skipped');
    expect(result.summary).toMatch(/dry run: preflight passed/);
    expect((await login(fx(), 'app_dry', old)).ok).toBe(true);
    expect(existsSync(join(runtime.workspace, '.secrets/app.env'))).toBe(false);
    expect(existsSync(join(runtime.workspace, 'docs'))).toBe(false);
  });

  it('an unknown role fails in preflight with a clear message and changes nothing', async () => {
    const { runtime, policy } = await setup('app_real');
    policy.credentials.app_real.role = 'app_"; DROP ROLE x; --';
    const result = await rotateCredential(policy, request('app_real'), runtime);
    expect(result.status).toBe('failed');
    expect(result.summary).toContain('role "app_\\"; DROP ROLE x; --" does not exist');
    expect(existsSync(join(runtime.workspace, '.secrets/app.env'))).toBe(false);
  });

  it('an admin without ADMIN OPTION on the role is refused before any change, with the GRANT that fixes it', async () => {
    const { old, runtime, policy } = await setup('app_noadmin', '', { adminOption: false });
    const result = await rotateCredential(policy, request('app_noadmin'), runtime);
    expect(result.status).toBe('failed');
    expect(result.summary).toContain('may not change the password of role app_noadmin');
    expect(result.summary).toContain('GRANT app_noadmin TO rotation_admin WITH ADMIN OPTION');
    expect((await login(fx(), 'app_noadmin', old)).ok).toBe(true);
  });

  it('a second rotation of the same role while one runs exits at once and changes nothing', async () => {
    const { old, runtime, policy } = await setup('app_locked');
    // Held by a run whose connection names another database of the same server: the lock is the cluster's.
    const holder = await takeRotationLock({ connectionString: fx().server.superuserUrl }, 'app_locked', 'the other run');
    try {
      const result = await rotateCredential(policy, request('app_locked'), runtime);
      expect(result.status).toBe('failed');
      expect(result.summary).toContain('another rotation of role app_locked is running');
      expect((await login(fx(), 'app_locked', old)).ok).toBe(true);
      expect(existsSync(join(runtime.workspace, '.secrets/app.env'))).toBe(false);
    } finally {
      await holder.release();
    }
  });

  it('a store write that fails rolls the change back and restores the targets already written', async () => {
    // A third target, after the two that work: a folder stands where its file should be.
    const { old, runtime, policy } = await setup('app_storefail', '      - file: { path: .secrets/blocked, key: DB_PASSWORD }\n');
    mkdirSync(join(runtime.workspace, '.secrets/blocked'), { recursive: true });
    // The file holds the password in use, as it does in production: the back-out puts back what each target held.
    writeFileSync(join(runtime.workspace, '.secrets/app.env'), `DB_PASSWORD=${old.reveal()}\n`);
    const result = await rotateCredential(policy, request('app_storefail'), runtime);

    expect(result.status).toBe('failed');
    expect(result.summary).toContain('writing file .secrets/blocked DB_PASSWORD failed');
    expect((await login(fx(), 'app_storefail', old)).ok).toBe(true);
    expect(stored(runtime.workspace, 'DB_PASSWORD')).toBe(old.reveal());
    expect(result.record.notes).toContain('change aborted: the old credential is still the live one');
    expect(result.record.stores[0].detail).toBe('new value written, then restored to the old value');
  });

  it('when the current value no longer logs in (drift), it rotates on the admin authority and says so', async () => {
    const { runtime, policy } = await setup('app_drift');
    policy.credentials.app_drift.current = new Secret('not-the-password-anymore');
    const result = await rotateCredential(policy, request('app_drift'), runtime);
    expect(result.status).toBe('rotated');
    expect(result.record.notes.join('\n')).toContain('no longer logs in');
    expect((await login(fx(), 'app_drift', stored(runtime.workspace, 'DB_PASSWORD')!)).ok).toBe(true);
  });

  it('a scheduled run skips a credential that is not due, and two runs in one minute keep both records', async () => {
    const { runtime, policy } = await setup('app_sched');
    const first = await rotateCredential(policy, request('app_sched'), runtime);
    policy.credentials.app_sched.current = new Secret(stored(runtime.workspace, 'DB_PASSWORD')!);
    const second = await rotateCredential(policy, request('app_sched'), runtime);
    expect([first.status, second.status]).toEqual(['rotated', 'rotated']);
    expect(second.evidencePath).not.toBe(first.evidencePath);
    const dir = join(runtime.workspace, first.evidencePath!, '..');
    if (first.evidencePath!.split('/')[2] === second.evidencePath!.split('/')[2]) {
      expect(readdirSync(dir).sort()).toEqual(['app_sched-2.json', 'app_sched-2.md', 'app_sched.json', 'app_sched.md']);
    }
    const skipped = await rotateCredential(policy, request('app_sched', { reason: 'scheduled' }), runtime);
    expect(skipped.status).toBe('skipped');
    expect(skipped.summary).toMatch(/^not due: last rotated .* next due/);
  });

  it('an unknown credential is an error naming the ones that exist', async () => {
    const { runtime, policy } = await setup('app_known');
    await expect(rotateCredential(policy, request('nope'), runtime)).rejects.toThrow(/unknown credential 'nope'/);
  });
});
