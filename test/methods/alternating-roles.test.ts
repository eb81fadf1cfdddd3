import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { parsePolicy } from '../../src/registry/load-policy.js';
import { rotateCredential } from '../../src/engine/rotate.js';
import { testRuntime } from '../helpers/runtime.js';
import { leakHaystack, login, usePostgres } from '../helpers/postgres.js';
import { alternatingYaml, makeAlternating } from '../helpers/alternating.js';
import { rotationRequest as request } from '../helpers/request.js';

const fx = usePostgres();
const stored = (workspace: string, key: string) => {
  const path = join(workspace, '.secrets/app.env');
  return existsSync(path) ? readFileSync(path, 'utf8').match(new RegExp(`^${key}=(.*)$`, 'm'))?.[1] : undefined;
};
/** User and password secrets as two targets (written in this order, user last), plus the URL. */
const policyText = (group: string, extra = '') =>
  alternatingYaml(
    group,
    'CURRENT',
    `    store:
      - file: { path: .secrets/app.env, key: DB_PASSWORD }
      - file: { path: .secrets/app.env, key: DB_USER, format: "{user}" }
      - file: { path: .secrets/app.env, key: DATABASE_URL, format: "postgresql://{user}:{password}@127.0.0.1:${fx().server.port}/odoo" }
    health:
      - postgres-login: {}
${extra}`,
  );

async function setup(group: string, extra = '') {
  const roles = await makeAlternating(fx(), group);
  const runtime = testRuntime({ now: () => new Date() });
  const policyFor = (current: string) =>
    parsePolicy(policyText(group, extra), 'rotation.yaml', { ROTATION_ADMIN_URL: fx().platform.adminUrl, CURRENT: current });
  return { ...roles, runtime, policyFor, policy: policyFor(roles.a.reveal()) };
}

/** Runs SQL as `user` (a login, so as its group) with `password`. */
async function asLogin(user: string, password: string, sql: string): Promise<pg.QueryResult> {
  const client = new pg.Client({ host: '127.0.0.1', port: fx().server.port, database: 'odoo', user, password });
  await client.connect();
  try {
    return await client.query(sql);
  } finally {
    await client.end();
  }
}

describe('alternating-roles on a real PostgreSQL 16', () => {
  it('rotates to the idle login: stores hold its user and the new password, the old password is refused, nothing leaks', async () => {
    const { a, runtime, policy } = await setup('alt_happy');
    const logStart = fx().server.log.length;
    const result = await rotateCredential(policy, request('alt_happy'), runtime);

    expect(result.summary).toMatch(/^rotated/);
    const fresh = stored(runtime.workspace, 'DB_PASSWORD')!;
    expect(stored(runtime.workspace, 'DB_USER')).toBe('alt_happy_b');
    expect(stored(runtime.workspace, 'DATABASE_URL')).toBe(`postgresql://alt_happy_b:${fresh}@127.0.0.1:${fx().server.port}/odoo`);
    expect((await login(fx(), 'alt_happy_b', fresh)).ok).toBe(true);
    // The previously active login now has a password stored nowhere: the old one is refused.
    expect(await login(fx(), 'alt_happy_a', a)).toMatchObject({ ok: false, code: '28P01' });
    expect(await login(fx(), 'alt_happy_a', fresh)).toMatchObject({ ok: false, code: '28P01' });

    expect(result.record.steps.map((s) => `${s.step}:${s.outcome}`)).toEqual([
      'preflight:ok',
      'generate:ok',
      'store:ok',
      'apply:ok',
      'verify:ok',
      'consumers:ok',
      'health:ok',
      'revoke:ok',
      'evidence:ok',
    ]);
    expect(result.record.old_credential).toMatchObject({ tried: true, rejected: true });
    expect(result.record.old_credential.detail).toContain('SQLSTATE 28P01');
    expect(result.record.health[0].detail).toContain('alt_happy_b logged in');
    expect(result.record.notes.join('\n')).toContain('alt_happy_a is in use');
    const json = readFileSync(join(runtime.workspace, result.evidencePath!), 'utf8');
    expect(JSON.parse(json)).toMatchObject({ method: 'alternating-roles', role: 'alt_happy', status: 'rotated' });

    const log = fx().server.log.slice(logStart).join('\n');
    expect(log).toMatch(/ALTER ROLE "alt_happy_b" PASSWORD 'SCRAM-SHA-256\$4096:/);
    const haystack = leakHaystack(runtime.reporter.lines, json, JSON.stringify(result), log);
    for (const secret of [a.reveal(), fresh]) expect(haystack).not.toContain(secret);
  });

  it('the next rotation switches back, and the login that was active keeps working until the revoke step', async () => {
    const { runtime, policyFor, policy } = await setup('alt_twice');
    await rotateCredential(policy, request('alt_twice'), runtime);
    const first = stored(runtime.workspace, 'DB_PASSWORD')!;

    // A consumer still on the first pair logs in at every checkpoint of the second run until the revoke.
    const seen: string[] = [];
    runtime.failpoint = async (name) => {
      if (name === 'revoke.after' || name === 'evidence.before') return;
      const ok = (await login(fx(), 'alt_twice_b', first)).ok;
      seen.push(`${name}:${ok ? 'ok' : 'refused'}`);
    };
    const result = await rotateCredential(policyFor(first), request('alt_twice'), runtime);
    expect(result.status).toBe('rotated');
    expect(seen.length).toBeGreaterThan(5);
    expect(seen.filter((s) => !s.endsWith(':ok'))).toEqual([]);
    expect(stored(runtime.workspace, 'DB_USER')).toBe('alt_twice_a');
    expect((await login(fx(), 'alt_twice_a', stored(runtime.workspace, 'DB_PASSWORD')!)).ok).toBe(true);
    expect(await login(fx(), 'alt_twice_b', first)).toMatchObject({ ok: false, code: '28P01' });
  });

  it('objects created through one login are read, written and altered through the other, both ways', async () => {
    const { a, runtime, policyFor, policy } = await setup('alt_objects');
    await asLogin('alt_objects_a', a.reveal(), 'CREATE TABLE alt_objects_t1 (id int); INSERT INTO alt_objects_t1 VALUES (1)');
    await rotateCredential(policy, request('alt_objects'), runtime);
    const pwB = stored(runtime.workspace, 'DB_PASSWORD')!;

    await asLogin(
      'alt_objects_b',
      pwB,
      'INSERT INTO alt_objects_t1 VALUES (2); ALTER TABLE alt_objects_t1 ADD COLUMN note text; UPDATE alt_objects_t1 SET note = $$b$$',
    );
    expect((await asLogin('alt_objects_b', pwB, 'SELECT count(*)::int AS n FROM alt_objects_t1')).rows[0].n).toBe(2);
    await asLogin('alt_objects_b', pwB, 'CREATE TABLE alt_objects_t2 (id int)');

    const result = await rotateCredential(policyFor(pwB), request('alt_objects'), runtime);
    expect(result.status).toBe('rotated');
    const pwA = stored(runtime.workspace, 'DB_PASSWORD')!;
    await asLogin(
      'alt_objects_a',
      pwA,
      'INSERT INTO alt_objects_t2 VALUES (1); ALTER TABLE alt_objects_t2 ADD COLUMN x int; DELETE FROM alt_objects_t1 WHERE id = 1',
    );
    expect((await asLogin('alt_objects_a', pwA, 'SELECT count(*)::int AS n FROM alt_objects_t1')).rows[0].n).toBe(1);
    // Both tables belong to the group, whichever login created them.
    const owners = await asLogin(
      'alt_objects_a',
      pwA,
      "SELECT DISTINCT pg_get_userbyid(relowner) AS owner FROM pg_class WHERE relname LIKE 'alt_objects_t%'",
    );
    expect(owners.rows).toEqual([{ owner: 'alt_objects' }]);
  });

  it('a failure before the switch leaves the active login untouched and puts its user and password back in the stores', async () => {
    const { a, runtime, policy } = await setup('alt_fail');
    // The file holds the login in use, as it does in production: the back-out puts back what each target held.
    mkdirSync(join(runtime.workspace, '.secrets'), { recursive: true });
    writeFileSync(join(runtime.workspace, '.secrets/app.env'), `DB_PASSWORD=${a.reveal()}\nDB_USER=alt_fail_a\n`);
    runtime.failpoint = async (name) => {
      if (name === 'store.after.1') throw new Error('injected: the next store write fails');
    };
    const result = await rotateCredential(policy, request('alt_fail'), runtime);
    expect(result.status).toBe('failed');
    expect((await login(fx(), 'alt_fail_a', a)).ok).toBe(true);
    expect(stored(runtime.workspace, 'DB_PASSWORD')).toBe(a.reveal());
    expect(stored(runtime.workspace, 'DB_USER')).toBe('alt_fail_a');
    const written = result.record.stores.filter((s) => s.outcome !== 'skipped');
    expect(written.map((s) => s.detail)).toEqual([
      'new value written, then restored to the old value',
      'new value written, then restored to the old value',
    ]);
    // The target not reached is listed too, as holding what it held.
    expect(result.record.stores.filter((s) => s.outcome === 'skipped').map((s) => s.holds)).toEqual(['unchanged']);
  });

  it('on exposure, sessions of the previously active login are cut off and recorded', async () => {
    const { a, runtime, policy } = await setup('alt_exposed');
    const old = new pg.Client({
      host: '127.0.0.1',
      port: fx().server.port,
      database: 'odoo',
      user: 'alt_exposed_a',
      password: a.reveal(),
      application_name: 'odoo-worker',
    });
    old.on('error', () => undefined);
    await old.connect();
    // The platform's admin may see and signal sessions (the exposure set-up, docs/database-admin.md).
    const su = await fx().server.client('odoo');
    await su.query('GRANT pg_signal_backend, pg_read_all_stats TO rotation_admin');
    try {
      const result = await rotateCredential(policy, request('alt_exposed', { reason: 'exposure' }), runtime);
      expect(result.status).toBe('rotated');
      expect(result.record.incident?.cut_off.join('\n')).toMatch(/alt_exposed_a session pid \d+ \(application 'odoo-worker'/);
      await expect(old.query('SELECT 1')).rejects.toThrow();
    } finally {
      await su.query('REVOKE pg_signal_backend, pg_read_all_stats FROM rotation_admin');
      await su.end();
      await old.end().catch(() => undefined);
    }
  });

  it('when current logs in as neither login, it rotates on the admin authority and says so', async () => {
    const { runtime, policyFor } = await setup('alt_drift');
    const result = await rotateCredential(policyFor('not-the-password-anymore'), request('alt_drift'), runtime);
    expect(result.status).toBe('rotated');
    expect(result.record.notes.join('\n')).toContain('neither login accepts current');
    const user = stored(runtime.workspace, 'DB_USER')!;
    expect((await login(fx(), user, stored(runtime.workspace, 'DB_PASSWORD')!)).ok).toBe(true);
  });

  describe('preflight refuses, naming the fix, and changes nothing', () => {
    const refused = async (group: string, prepare: (su: pg.Client) => Promise<void>, message: string) => {
      const { a, b, runtime, policy } = await setup(group);
      const su = await fx().server.client('odoo');
      try {
        await prepare(su);
      } finally {
        await su.end();
      }
      const result = await rotateCredential(policy, request(group), runtime);
      expect(result.status).toBe('failed');
      expect(result.summary).toContain(message);
      expect(existsSync(join(runtime.workspace, '.secrets/app.env'))).toBe(false);
      expect((await login(fx(), `${group}_a`, a)).ok).toBe(true);
      if (!message.includes('does not exist')) expect((await login(fx(), `${group}_b`, b)).ok).toBe(true);
    };
    it('a group role that can log in', () =>
      refused('alt_grouplogin', (su) => su.query('ALTER ROLE alt_grouplogin LOGIN').then(), 'group role alt_grouplogin can log in'));
    it('a login that does not run as the group', () =>
      refused('alt_noset', (su) => su.query('ALTER ROLE alt_noset_b RESET role').then(), 'ALTER ROLE alt_noset_b SET role = alt_noset'));
    it('a login that is not a member', () =>
      refused(
        'alt_nomember',
        (su) => su.query('REVOKE alt_nomember FROM alt_nomember_b').then(),
        'GRANT alt_nomember TO alt_nomember_b WITH INHERIT TRUE, SET TRUE',
      ));
    it('an admin without ADMIN OPTION on a login', () =>
      refused(
        'alt_noadmin',
        (su) => su.query('REVOKE alt_noadmin_b FROM rotation_admin').then(),
        'GRANT alt_noadmin_b TO rotation_admin WITH ADMIN OPTION',
      ));
    it('a missing login', () =>
      refused(
        'alt_missing',
        (su) => su.query('ALTER ROLE alt_missing_b RENAME TO alt_missing_c').then(),
        'login role "alt_missing_b" does not exist',
      ));
  });

  it('an admin URL that logs in as one of the logins is refused: it would lock itself out', async () => {
    const { a, runtime } = await setup('alt_self');
    const url = new URL(fx().platform.adminUrl);
    url.username = 'alt_self_a';
    url.password = a.reveal();
    const policy = parsePolicy(policyText('alt_self'), 'rotation.yaml', { ROTATION_ADMIN_URL: url.toString(), CURRENT: a.reveal() });
    const result = await rotateCredential(policy, request('alt_self'), runtime);
    expect(result.status).toBe('failed');
    expect(result.summary).toContain('it would lock itself out');
    expect((await login(fx(), 'alt_self_a', a)).ok).toBe(true);
  });

  it('a dry run checks everything and changes nothing', async () => {
    const { a, runtime, policy } = await setup('alt_dry');
    const result = await rotateCredential(policy, request('alt_dry', { dryRun: true }), runtime);
    expect(result.summary).toMatch(/^dry run: preflight passed/);
    expect((await login(fx(), 'alt_dry_a', a)).ok).toBe(true);
    expect(existsSync(join(runtime.workspace, '.secrets/app.env'))).toBe(false);
  });

  it('logins: names the two logins; a policy naming the group among them, or logins on another method, is refused', async () => {
    await makeAlternating(fx(), 'alt_named', ['alt_named_blue', 'alt_named_green']);
    const text = policyText('alt_named').replace(
      '    method: alternating-roles\n',
      '    method: alternating-roles\n    logins: [alt_named_blue, alt_named_green]\n',
    );
    const runtime = testRuntime({ now: () => new Date() });
    const policy = parsePolicy(text, 'rotation.yaml', { ROTATION_ADMIN_URL: fx().platform.adminUrl, CURRENT: 'no-current-value-yet' });
    const result = await rotateCredential(policy, request('alt_named'), runtime);
    expect(result.status).toBe('rotated');
    expect(['alt_named_blue', 'alt_named_green']).toContain(stored(runtime.workspace, 'DB_USER'));
    const env = { ROTATION_ADMIN_URL: fx().platform.adminUrl, CURRENT: 'no-current-value-yet' };
    expect(() =>
      parsePolicy(text.replace('[alt_named_blue, alt_named_green]', '[alt_named, alt_named_green]'), 'rotation.yaml', env),
    ).toThrow('credentials.alt_named.logins: expected two logins other than the group role alt_named');
    expect(() => parsePolicy(text.replace('method: alternating-roles', 'method: alter-role'), 'rotation.yaml', env)).toThrow(
      'credentials.alt_named.logins: only method alternating-roles has logins',
    );
  });
});
