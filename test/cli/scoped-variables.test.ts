// Issue 16 §6: audit, provision and verify ask only for the variables of the credentials and
// systems they touch (a credential's system, and the system it takes its CA or cluster from); a
// missing variable there is still an error naming it, before anything is read or changed. A
// rotation still needs every variable of the policy, and refuses before any change without one.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parsePolicy } from '../../src/registry/load-policy.js';
import { PolicyError } from '../../src/policy/errors.js';
import { cli } from '../helpers/cli-child.js';
import { leakHaystack, login, makeRole, usePostgres } from '../helpers/postgres.js';

const fx = usePostgres();

/** Two systems, as on the platform: the one under test and another whose secrets are not here. */
const policyFor = (role: string) => `version: 1
systems:
  odoo-sor: { type: postgres, admin_url: "\${ROTATION_ADMIN_URL}" }
  supabase-db: { type: postgres, admin_url: "\${SUPABASE_DB_URL}" }
credentials:
  ${role}:
    system: odoo-sor
    method: alter-role
    access: readwrite
    cadence: quarterly
    current: \${APP_PASSWORD}
    store: [ { file: { path: .secrets/app.env, key: APP_PASSWORD } } ]
  superset_ro:
    system: odoo-sor
    method: alter-role
    access: readonly
    cadence: quarterly
    current: \${SUPERSET_RO_PASSWORD}
    store: [ { file: { path: .secrets/ro.env, key: SUPERSET_RO_PASSWORD } } ]
  edge_fn:
    system: supabase-db
    method: alter-role
    cadence: quarterly
    current: \${EDGE_PASSWORD}
    store: [ { file: { path: .secrets/edge.env, key: EDGE_PASSWORD } } ]
`;

function workspace(role: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'scoped-vars-'));
  mkdirSync(join(dir, '.github'));
  writeFileSync(join(dir, '.github/rotation.yaml'), policyFor(role));
  return dir;
}

describe('provision, verify and audit need only what they touch', () => {
  it('provision <credential> runs without the variables of other credentials and systems', async () => {
    const ws = workspace('scoped_app');
    const env = { ROTATION_ADMIN_URL: fx().platform.adminUrl, APP_PASSWORD: 'not-needed-by-provision-7' };
    const run = await cli(['-C', ws, 'provision', 'scoped_app'], env);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('CREATE ROLE "scoped_app"');
    expect(run.stdout).toContain('-- not applied: rerun with --apply to run it');
  });

  it('a variable of what it touches is still an error naming it, before anything is changed (exit 2)', async () => {
    const ws = workspace('scoped_app2');
    const run = await cli(['-C', ws, 'provision', 'scoped_app2', '--apply'], { APP_PASSWORD: 'x-1234567' });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('systems.odoo-sor.admin_url: environment variable ROTATION_ADMIN_URL is not set');
    expect(run.stderr).not.toMatch(/SUPERSET_RO_PASSWORD|SUPABASE_DB_URL|EDGE_PASSWORD/);
    const own = await cli(['-C', ws, 'provision', 'scoped_app2', '--apply'], { ROTATION_ADMIN_URL: fx().platform.adminUrl });
    expect(own.code).toBe(2);
    expect(own.stderr).toContain('credentials.scoped_app2.current: environment variable APP_PASSWORD is not set');
    // Nothing was created.
    const db = await fx().server.client();
    try {
      expect((await db.query("SELECT 1 FROM pg_roles WHERE rolname = 'scoped_app2'")).rowCount).toBe(0);
    } finally {
      await db.end();
    }
  });

  it("verify <credential> proves it without the other credentials' variables", async () => {
    const password = await makeRole(fx(), 'scoped_verify');
    const ws = workspace('scoped_verify');
    mkdirSync(join(ws, '.secrets'));
    writeFileSync(join(ws, '.secrets/app.env'), `APP_PASSWORD=${password.reveal()}\n`);
    const run = await cli(['-C', ws, 'verify', 'scoped_verify'], {
      ROTATION_ADMIN_URL: fx().platform.adminUrl,
      APP_PASSWORD: password.reveal(),
    });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^scoped_verify\s+ok\s+current\s/m);
    // Every credential: every variable is needed again.
    const all = await cli(['-C', ws, 'verify'], { ROTATION_ADMIN_URL: fx().platform.adminUrl, APP_PASSWORD: password.reveal() });
    expect(all.code).toBe(2);
    expect(all.stderr).toContain('systems.supabase-db.admin_url: environment variable SUPABASE_DB_URL is not set');
    expect(leakHaystack(run.stdout, run.stderr, all.stdout, all.stderr)).not.toContain(password.reveal());
  });

  it("audit <system> checks that system and its credentials without the other systems' variables", async () => {
    const ws = workspace('odoo_app');
    const env = {
      ROTATION_ADMIN_URL: fx().platform.adminUrl,
      APP_PASSWORD: fx().platform.passwords.odoo_app.reveal(),
      SUPERSET_RO_PASSWORD: fx().platform.passwords.superset_ro.reveal(),
    };
    const run = await cli(['-C', ws, 'audit', 'odoo-sor', '--no-record', '--json'], env);
    expect(run.stderr).toBe('');
    const report = JSON.parse(run.stdout);
    expect(report.systems.map((s: { system: string }) => s.system)).toEqual(['odoo-sor']);
    expect(report.systems[0].checks.map((c: { rule: string; subject: string }) => `${c.rule} ${c.subject}`)).toEqual(
      expect.arrayContaining(['app-role-not-admin odoo_app', 'readonly-is-readonly superset_ro']),
    );
    // The credentials it audits are touched: their variables are asked for.
    const { SUPERSET_RO_PASSWORD: _unset, ...without } = env;
    const missing = await cli(['-C', ws, 'audit', 'odoo-sor', '--no-record'], without);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('credentials.superset_ro.current: environment variable SUPERSET_RO_PASSWORD is not set');
  });
});

describe('which systems a credential touches', () => {
  const LINKED = `version: 1
systems:
  odoo-sor: { type: postgres, admin_url: "\${ROTATION_ADMIN_URL}", ca_from: odoo-do }
  odoo-do: { type: digitalocean, cluster_id: "\${DO_CLUSTER}", token: "\${DIGITALOCEAN_TOKEN}" }
  supabase-ssot: { type: supabase, project_ref: abcdefghijklmnopqrst, access_token: "\${SUPABASE_ACCESS_TOKEN}" }
credentials:
  app: { system: odoo-sor, method: alter-role, cadence: quarterly, store: [ { file: { path: .secrets/a.env, key: P } } ] }
  anon: { system: supabase-ssot, method: supabase-publishable-key, key_name: public_key, cadence: annually, current: "\${ANON_KEY}", store: [ { file: { path: .secrets/b.env, key: K } } ] }
`;
  const problems = (env: Record<string, string>, scope: { credentials?: string[]; systems?: string[] } | undefined) => {
    try {
      parsePolicy(LINKED, 'rotation.yaml', env, { scope });
      return [];
    } catch (error) {
      if (!(error instanceof PolicyError)) throw error;
      return error.problems;
    }
  };

  it('the system its CA comes from (ca_from) is touched: its token is needed', () => {
    expect(problems({ ROTATION_ADMIN_URL: 'postgresql://a:b@db.example:5432/odoo?sslmode=verify-full' }, { credentials: ['app'] })).toEqual(
      [
        'systems.odoo-do.cluster_id: environment variable DO_CLUSTER is not set',
        'systems.odoo-do.token: environment variable DIGITALOCEAN_TOKEN is not set',
      ],
    );
    const full = {
      ROTATION_ADMIN_URL: 'postgresql://a:b@db.example:5432/odoo?sslmode=verify-full',
      DO_CLUSTER: 'c0ffee00-0000-4000-8000-000000000000',
      DIGITALOCEAN_TOKEN: 'dop_v1_x',
    };
    expect(problems(full, { credentials: ['app'] })).toEqual([]);
    // Without a scope (rotate, the action), every variable.
    expect(problems(full, undefined)).toEqual([
      'systems.supabase-ssot.access_token: environment variable SUPABASE_ACCESS_TOKEN is not set',
      'credentials.anon.current: environment variable ANON_KEY is not set',
    ]);
  });
});

describe('a rotation still needs every variable, and refuses before any change', () => {
  it("rotate without another credential's variable exits 2 naming it; the password and the store are untouched", async () => {
    const password = await makeRole(fx(), 'scoped_rotate');
    const ws = workspace('scoped_rotate');
    mkdirSync(join(ws, '.secrets'));
    writeFileSync(join(ws, '.secrets/app.env'), `APP_PASSWORD=${password.reveal()}\n`);
    const run = await cli(['-C', ws, 'rotate', 'scoped_rotate'], {
      ROTATION_ADMIN_URL: fx().platform.adminUrl,
      APP_PASSWORD: password.reveal(),
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('environment variable SUPERSET_RO_PASSWORD is not set');
    expect((await login(fx(), 'scoped_rotate', password)).ok).toBe(true);
    expect(readFileSync(join(ws, '.secrets/app.env'), 'utf8')).toBe(`APP_PASSWORD=${password.reveal()}\n`);
    expect(leakHaystack(run.stdout, run.stderr)).not.toContain(password.reveal());
  });
});
