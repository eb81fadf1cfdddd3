// `provision` on a real PostgreSQL 16 with a non-superuser admin as on DigitalOcean: doadmin has
// CREATEROLE and CREATEDB, created the database and owns what Odoo created in it (the P0 case:
// Odoo connects as doadmin). After `provision --apply` the roles do what the policy says, no more.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { parsePolicy } from '../../src/registry/load-policy.js';
import { provisionCredential } from '../../src/provision/run.js';
import { rotateCredential } from '../../src/engine/rotate.js';
import { generatePassword } from '../../src/secret/generate.js';
import { scramVerifier } from '../../src/postgres/scram.js';
import { Secret } from '../../src/secret/secret.js';
import { testRuntime } from '../helpers/runtime.js';
import { usePostgres } from '../helpers/postgres.js';
import { rotationRequest } from '../helpers/request.js';

const fx = usePostgres();
const doadminPassword = generatePassword().reveal();
let adminUrl = '';

const POLICY = `version: 1
systems:
  odoo-sor:
    type: postgres
    admin_url: \${ADMIN_URL}
credentials:
  odoo_app:
    system: odoo-sor
    method: alternating-roles
    role: shop_app
    access: readwrite
    cadence: quarterly
    current: \${ODOO_DB_PASSWORD}
    store:
      - file: { path: .secrets/odoo.env, key: ODOO_DB_PASSWORD }
      - file: { path: .secrets/odoo.env, key: ODOO_DB_USER, format: "{user}" }
  superset_ro:
    system: odoo-sor
    method: alternating-roles
    role: shop_ro
    access: readonly
    schemas: [public]
    cadence: quarterly
    current: \${SUPERSET_RO_PASSWORD}
    store:
      - file: { path: .secrets/superset.env, key: SUPERSET_RO_PASSWORD }
      - file: { path: .secrets/superset.env, key: SUPERSET_RO_USER, format: "{user}" }
`;
const policy = () =>
  parsePolicy(POLICY, 'rotation.yaml', { ADMIN_URL: adminUrl, ODOO_DB_PASSWORD: 'none-yet', SUPERSET_RO_PASSWORD: 'none-yet' });

async function client(user: string, password: string, database = 'shop'): Promise<pg.Client> {
  const c = new pg.Client({ host: '127.0.0.1', port: fx().server.port, user, password, database });
  c.on('error', () => undefined);
  await c.connect();
  return c;
}
async function run(user: string, password: string, sql: string) {
  const c = await client(user, password);
  try {
    return await c.query(sql);
  } finally {
    await c.end();
  }
}
/** The SQLSTATE the statement fails with, or 'ok'. */
const outcome = (user: string, password: string, sql: string) =>
  run(user, password, sql).then(
    () => 'ok',
    (e: { code?: string }) => e.code ?? 'error',
  );

beforeAll(async () => {
  const su = await fx().server.client();
  await su.query(`CREATE ROLE doadmin LOGIN CREATEROLE CREATEDB PASSWORD ${su.escapeLiteral(scramVerifier(new Secret(doadminPassword)))}`);
  await su.end();
  const admin = await client('doadmin', doadminPassword, 'postgres');
  await admin.query('CREATE DATABASE shop');
  await admin.end();
  // What Odoo created while it connected as doadmin.
  await run(
    'doadmin',
    doadminPassword,
    `
    CREATE TYPE order_state AS ENUM ('draft', 'done');
    CREATE TABLE res_partner (id serial PRIMARY KEY, name text);
    CREATE TABLE sale_order (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, partner_id int REFERENCES res_partner, state order_state);
    CREATE SEQUENCE ir_sequence_001;
    CREATE VIEW partner_names AS SELECT name FROM res_partner;
    CREATE FUNCTION public.partner_count() RETURNS bigint LANGUAGE sql AS 'SELECT count(*) FROM res_partner';
    INSERT INTO res_partner (name) VALUES ('Acme')`,
  );
  adminUrl = `postgresql://doadmin:${doadminPassword}@127.0.0.1:${fx().server.port}/shop`;
});

describe('provision on PostgreSQL 16 with a DigitalOcean-like admin (CREATEROLE, CREATEDB, not a superuser)', () => {
  it('odoo_app: prints the SQL by default and changes nothing; the take-over from doadmin is listed object by object', async () => {
    const result = await provisionCredential(policy(), 'odoo_app', { runtime: testRuntime(), apply: false, takeOverFrom: 'doadmin' });
    expect(result.applied).toBe(false);
    expect(result.script).toContain('CREATE ROLE "shop_app" NOLOGIN;');
    expect(result.script).toContain('GRANT "shop_app" TO "shop_app_a" WITH INHERIT TRUE, SET TRUE;');
    expect(result.script).toContain(`ALTER ROLE "shop_app_b" SET role = 'shop_app';`);
    for (const object of [
      'TABLE public.res_partner',
      'TABLE public.sale_order',
      'SEQUENCE public.ir_sequence_001',
      'VIEW public.partner_names',
      'FUNCTION public.partner_count()',
      'TYPE public.order_state',
    ]) {
      expect(result.script).toContain(`ALTER ${object} OWNER TO "shop_app";`);
    }
    // Sequences that belong to a column follow their table.
    expect(result.script).not.toContain('res_partner_id_seq');
    expect(result.script.indexOf('BEGIN;')).toBeLessThan(result.script.indexOf('CREATE ROLE'));
    const su = await fx().server.client();
    expect((await su.query("SELECT 1 FROM pg_roles WHERE rolname = 'shop_app'")).rowCount).toBe(0);
    await su.end();
  });

  it('odoo_app --apply: the group owns every object, the logins run as it, the admin holds ADMIN OPTION only; a rerun has nothing to do', async () => {
    const applied = await provisionCredential(policy(), 'odoo_app', { runtime: testRuntime(), apply: true, takeOverFrom: 'doadmin' });
    expect(applied.applied).toBe(true);
    const su = await fx().server.client('shop');
    try {
      const owners = await su.query(
        `SELECT DISTINCT pg_get_userbyid(relowner) AS owner FROM pg_class c JOIN pg_namespace n ON n.oid = relnamespace WHERE nspname = 'public'`,
      );
      expect(owners.rows).toEqual([{ owner: 'shop_app' }]);
      const grants = await su.query(
        `SELECT member::regrole::text AS member, admin_option, inherit_option, set_option FROM pg_auth_members WHERE roleid = 'shop_app'::regrole ORDER BY 1`,
      );
      expect(grants.rows).toEqual([
        { member: 'doadmin', admin_option: true, inherit_option: false, set_option: false },
        { member: 'shop_app_a', admin_option: false, inherit_option: true, set_option: true },
        { member: 'shop_app_b', admin_option: false, inherit_option: true, set_option: true },
      ]);
      const attrs = await su.query(
        `SELECT rolname, rolcanlogin, rolsuper OR rolcreaterole OR rolreplication OR rolbypassrls AS powers, rolconfig FROM pg_roles WHERE rolname LIKE 'shop_app%' ORDER BY 1`,
      );
      expect(attrs.rows).toEqual([
        { rolname: 'shop_app', rolcanlogin: false, powers: false, rolconfig: null },
        { rolname: 'shop_app_a', rolcanlogin: true, powers: false, rolconfig: ['role=shop_app'] },
        { rolname: 'shop_app_b', rolcanlogin: true, powers: false, rolconfig: ['role=shop_app'] },
      ]);
    } finally {
      await su.end();
    }
    const rerun = await provisionCredential(policy(), 'odoo_app', { runtime: testRuntime(), apply: true, takeOverFrom: 'doadmin' });
    expect(rerun.plan.statements).toEqual([]);
    expect(rerun.script).toContain('nothing to do');
    expect(rerun.script).not.toMatch(/^(CREATE|GRANT|ALTER|REVOKE|BEGIN)/m);
  });

  it('the first rotation gives shop_app_a its password on the admin authority; the app can write and cannot create roles', async () => {
    const runtime = testRuntime({ now: () => new Date() });
    const result = await rotateCredential(policy(), rotationRequest('odoo_app'), runtime);
    expect(result.summary).toMatch(/^rotated/);
    const { readFileSync } = await import('node:fs');
    const env = readFileSync(join(runtime.workspace, '.secrets/odoo.env'), 'utf8');
    const user = /ODOO_DB_USER=(.*)/.exec(env)![1];
    const password = /ODOO_DB_PASSWORD=(.*)/.exec(env)![1];
    expect(
      await outcome(
        user,
        password,
        "INSERT INTO res_partner (name) VALUES ('Beta'); UPDATE res_partner SET name = name; CREATE TABLE stock_move (id int); ALTER TABLE res_partner ADD COLUMN email text",
      ),
    ).toBe('ok');
    expect(await outcome(user, password, 'CREATE ROLE sneaky')).toBe('42501');
    appPassword = { user, password };
  });

  it('superset_ro --apply: reads every table, today and later, and cannot write or create anything; a rerun has nothing to do', async () => {
    const applied = await provisionCredential(policy(), 'superset_ro', { runtime: testRuntime(), apply: true });
    expect(applied.script).toContain(
      'ALTER DEFAULT PRIVILEGES FOR ROLE "shop_app" IN SCHEMA "public" GRANT SELECT ON TABLES TO "shop_ro";',
    );
    // Acting as odoo_app was granted for the transaction only.
    const su = await fx().server.client('shop');
    const left = await su.query(
      `SELECT set_option, inherit_option FROM pg_auth_members WHERE roleid = 'shop_app'::regrole AND member = 'doadmin'::regrole`,
    );
    expect(left.rows).toEqual([{ set_option: false, inherit_option: false }]);
    await su.end();
    expect((await provisionCredential(policy(), 'superset_ro', { runtime: testRuntime(), apply: false })).plan.statements).toEqual([]);

    const runtime = testRuntime({ now: () => new Date() });
    const result = await rotateCredential(policy(), rotationRequest('superset_ro'), runtime);
    expect(result.summary).toMatch(/^rotated/);
    const { readFileSync } = await import('node:fs');
    const env = readFileSync(join(runtime.workspace, '.secrets/superset.env'), 'utf8');
    const [user, password] = [/SUPERSET_RO_USER=(.*)/.exec(env)![1], /SUPERSET_RO_PASSWORD=(.*)/.exec(env)![1]];

    // A table the app creates after provisioning is readable too (default privileges).
    await run(appPassword.user, appPassword.password, 'CREATE TABLE account_move (id int); INSERT INTO account_move VALUES (7)');
    expect((await run(user, password, 'SELECT count(*)::int AS n FROM res_partner')).rows[0].n).toBeGreaterThan(0);
    expect((await run(user, password, 'SELECT * FROM account_move')).rows).toEqual([{ id: 7 }]);
    expect((await run(user, password, 'SELECT * FROM partner_names LIMIT 1')).rowCount).toBe(1);
    for (const sql of [
      "INSERT INTO res_partner (name) VALUES ('x')",
      "UPDATE res_partner SET name = 'x'",
      'DELETE FROM res_partner',
      'TRUNCATE res_partner',
      'CREATE TABLE evil (id int)',
      'INSERT INTO account_move VALUES (8)',
    ]) {
      expect(await outcome(user, password, sql), sql).toBe('42501');
    }
  });

  it('through the CLI: provision prints the SQL, --apply runs it, a rerun prints nothing to do', async () => {
    const ws = mkdtempSync(join(tmpdir(), 'provision-cli-'));
    mkdirSync(join(ws, '.github'));
    writeFileSync(
      join(ws, '.github/rotation.yaml'),
      POLICY.replace(
        '  superset_ro:',
        '  plane_app:\n    system: odoo-sor\n    method: alter-role\n    access: readwrite\n    cadence: quarterly\n    store:\n      - file: { path: .secrets/plane.env, key: P }\n  superset_ro:',
      ),
    );
    const env = { ADMIN_URL: adminUrl, ODOO_DB_PASSWORD: 'x', SUPERSET_RO_PASSWORD: 'x' };
    const shown = await cli(['-C', ws, 'provision', 'plane_app'], env);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toContain('CREATE ROLE "plane_app" LOGIN;');
    expect(shown.stdout).toContain('-- not applied: rerun with --apply');
    const applied = await cli(['-C', ws, 'provision', 'plane_app', '--apply'], env);
    expect(applied.stdout).toMatch(/-- applied: \d+ statement\(s\) committed/);
    const again = await cli(['-C', ws, 'provision', 'plane_app', '--apply'], env);
    expect(again.stdout).toContain('nothing to do');
    for (const out of [shown, applied, again]) expect(out.stdout + out.stderr).not.toContain(doadminPassword);
    const bad = await cli(['-C', ws, 'provision', 'plane_app', '--take-over-from', 'nobody_here'], env);
    expect(bad.stderr).toContain('--take-over-from: role "nobody_here" does not exist');
  });
});

let appPassword = { user: '', password: '' };

function cli(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [resolve('dist/cli.js'), ...args], { env: { PATH: process.env.PATH, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}
