// Issue 16 §2: provision converges on what the audit demands. On a DigitalOcean-like cluster
// (doadmin: CREATEROLE, CREATEDB, not a superuser, owner of the odoo database and of what Odoo
// created while it connected as doadmin) the platform's roles are provisioned from the example
// policy, then superset_ro is over-granted every way the audit knows. After `provision --apply`
// the audit passes, a second provision has nothing to do, and the read-only login is refused
// every write it tries.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startLocalPostgres, type LocalPostgres } from '../../src/demo/local-postgres.js';
import { parsePolicy } from '../../src/registry/load-policy.js';
import { provisionCredential } from '../../src/provision/run.js';
import { runAudit } from '../../src/audit/run.js';
import { generatePassword } from '../../src/secret/generate.js';
import { scramVerifier } from '../../src/postgres/scram.js';
import { Secret } from '../../src/secret/secret.js';
import { createDoadminLike } from '../helpers/digitalocean.js';
import { testRuntime } from '../helpers/runtime.js';

const FILE = join(import.meta.dirname, '../../examples/platform/rotation.yaml');
// odoo_app's schemas: public and a schema doadmin created (it moves too).
const TEXT = readFileSync(FILE, 'utf8').replace('    schemas: [public]\n', '    schemas: [public, odoo_reports]\n');
let server: LocalPostgres;
const doadmin = generatePassword();
const loginPassword = generatePassword().reveal();
const doadminUrl = () => `postgresql://doadmin:${encodeURIComponent(doadmin.reveal())}@127.0.0.1:${server.port}/odoo`;
const superuserUrl = () => server.superuserUrl.replace(/\/postgres$/, '/odoo');
const policy = (adminUrl = doadminUrl()) => parsePolicy(TEXT, FILE, { ROTATION_ADMIN_URL: adminUrl }, { withoutSecrets: true });

async function as(user: string, password: string, sql: string): Promise<pg.QueryResult> {
  const c = new pg.Client({ host: '127.0.0.1', port: server.port, user, password, database: 'odoo' });
  c.on('error', () => undefined);
  await c.connect();
  try {
    return await c.query(sql);
  } finally {
    await c.end();
  }
}
/** As the superuser, optionally acting as `role` (what that role granted). */
async function su(sql: string, role?: string): Promise<pg.QueryResult> {
  const c = await server.client('odoo');
  try {
    if (role) await c.query(`SET ROLE ${role}`);
    return await c.query(sql);
  } finally {
    await c.end();
  }
}
/** The SQLSTATE the statement fails with as superset_ro_a (which runs as superset_ro), or 'ok'. */
const tryAsReadonly = (sql: string) =>
  as('superset_ro_a', loginPassword, sql).then(
    () => 'ok',
    (e: { code?: string }) => e.code ?? 'error',
  );

/** The audit's verdict on superset_ro (and its findings) with the given admin connection. */
async function auditOf(id: string, adminUrl = doadminUrl()) {
  const report = await runAudit(policy(adminUrl), 'odoo-sor', { runtime: testRuntime({ now: () => new Date() }) });
  const checks = report.systems.flatMap((s) => s.checks).filter((c) => c.subject === id && c.rule !== 'policy-boundaries');
  return {
    pass: checks.length > 0 && checks.every((c) => c.verdict === 'pass'),
    findings: checks.flatMap((c) => c.findings.map((f) => f.what)),
  };
}

const WRITES = [
  "INSERT INTO res_partner (name) VALUES ('x')",
  "UPDATE res_partner SET name = 'x'",
  'DELETE FROM res_partner',
  'TRUNCATE res_partner',
  "SELECT nextval('ir_sequence_001')",
  "SELECT setval('ir_sequence_001', 42)",
  'CREATE TRIGGER sneaky BEFORE UPDATE ON sale_order FOR EACH ROW EXECUTE FUNCTION suppress_redundant_updates_trigger()',
  'CREATE TABLE evil (id int)',
  'CREATE SCHEMA evil',
  'CREATE DATABASE evil',
  'SET ROLE odoo_app',
  'DROP TABLE ro_scratch',
  'ALTER FUNCTION ro_fn() RENAME TO ro_fn2',
  "SELECT lo_put(9001, 0, '\\x00')",
  "SELECT lo_put(9002, 0, '\\x00')",
  'INSERT INTO doadmin_notes VALUES (1)',
  'INSERT INTO created_later VALUES (1)',
  'SELECT close_period()',
  'INSERT INTO sale_order (partner_id) VALUES (NULL)',
];

beforeAll(async () => {
  server = await startLocalPostgres();
  await createDoadminLike(server, 'doadmin', doadmin);
  const d = doadmin.reveal();
  const c = new pg.Client({ host: '127.0.0.1', port: server.port, user: 'doadmin', password: d, database: 'defaultdb' });
  await c.connect();
  await c.query('CREATE DATABASE odoo');
  await c.end();
  // What Odoo created while it connected as doadmin.
  await as(
    'doadmin',
    d,
    `
    CREATE TYPE order_state AS ENUM ('draft', 'done');
    CREATE DOMAIN positive AS int CHECK (VALUE > 0);
    CREATE TABLE res_partner (id serial PRIMARY KEY, name text);
    CREATE TABLE sale_order (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, partner_id int REFERENCES res_partner, state order_state);
    CREATE SEQUENCE ir_sequence_001;
    CREATE VIEW partner_names AS SELECT name FROM res_partner;
    CREATE MATERIALIZED VIEW partner_count_mv AS SELECT count(*) FROM res_partner;
    CREATE FUNCTION partner_count() RETURNS bigint LANGUAGE sql AS 'SELECT count(*) FROM res_partner';
    CREATE AGGREGATE total(int) (sfunc = int4pl, stype = int);
    CREATE SCHEMA odoo_reports;
    CREATE VIEW odoo_reports.partners AS SELECT * FROM res_partner;
    CREATE SCHEMA scratch;
    INSERT INTO res_partner (name) VALUES ('Acme')`,
  );
}, 120_000);
afterAll(async () => {
  await server?.stop();
});

describe('provision --take-over-from doadmin (odoo_app, readwrite)', () => {
  it('moves every kind of object doadmin owns in the schemas, and a rerun has nothing to do', async () => {
    const result = await provisionCredential(policy(), 'odoo_app', { runtime: testRuntime(), apply: true, takeOverFrom: 'doadmin' });
    expect(result.converged, result.remaining.join('\n')).toBe(true);
    for (const object of [
      'SCHEMA odoo_reports',
      'VIEW odoo_reports.partners',
      'TABLE public.res_partner',
      'SEQUENCE public.ir_sequence_001',
      'MATERIALIZED VIEW public.partner_count_mv',
      'AGGREGATE public.total(integer)',
      'TYPE public.positive',
      'TYPE public.order_state',
      'FUNCTION public.partner_count()',
    ]) {
      expect(result.script).toContain(`ALTER ${object} OWNER TO "odoo_app";`);
    }
    const left = await su(`SELECT pg_describe_object(classid, objid, objsubid) AS what FROM pg_shdepend
                            WHERE deptype = 'o' AND refobjid = 'doadmin'::regrole AND dbid = (SELECT oid FROM pg_database WHERE datname = 'odoo')`);
    // Only the schema outside odoo_app's schemas stays with doadmin.
    expect(left.rows.map((r) => r.what)).toEqual(['schema scratch']);
    const rerun = await provisionCredential(policy(), 'odoo_app', { runtime: testRuntime(), apply: false, takeOverFrom: 'doadmin' });
    expect(rerun.plan.statements).toEqual([]);
    expect(rerun.script).toContain('nothing to do');
  });
});

describe('provision --take-over-from the superuser (pg_shdepend records nothing for it: the catalogs are read)', () => {
  it('moves what the superuser created in the schemas, with a superuser admin connection', async () => {
    await su(`CREATE TABLE pg_ledger (id int); CREATE FUNCTION pg_fn(int) RETURNS int LANGUAGE sql AS 'SELECT 1';
              CREATE AGGREGATE pg_total(int) (sfunc = int4pl, stype = int); CREATE TYPE pg_kind AS (a int)`);
    const refused = await provisionCredential(policy(), 'odoo_app', {
      runtime: testRuntime(),
      apply: false,
      takeOverFrom: 'postgres',
    }).then(
      () => 'planned',
      (e: Error) => e.message,
    );
    expect(refused).toContain('does not have the privileges of postgres');
    const moved = await provisionCredential(policy(superuserUrl()), 'odoo_app', {
      runtime: testRuntime(),
      apply: true,
      takeOverFrom: 'postgres',
    });
    expect(moved.converged, moved.remaining.join('\n')).toBe(true);
    const left = await su(`SELECT count(*)::int AS n FROM (
      SELECT relowner AS o FROM pg_class WHERE relnamespace = 'public'::regnamespace UNION ALL SELECT proowner FROM pg_proc WHERE pronamespace = 'public'::regnamespace
      UNION ALL SELECT typowner FROM pg_type WHERE typnamespace = 'public'::regnamespace) x WHERE o = 'postgres'::regrole`);
    expect(left.rows).toEqual([{ n: 0 }]);
    expect((await provisionCredential(policy(), 'odoo_app', { runtime: testRuntime(), apply: false })).script).toContain('nothing to do');
  });
});

describe('provision --apply superset_ro (readonly) converges on what the audit demands', () => {
  it('revokes every write path granted since, as the role that granted it; the audit passes; a rerun has nothing to do', async () => {
    expect((await provisionCredential(policy(), 'superset_ro', { runtime: testRuntime(), apply: true })).converged).toBe(true);
    await su(`ALTER ROLE superset_ro_a PASSWORD '${scramVerifier(new Secret(loginPassword))}'`);
    expect((await auditOf('superset_ro')).pass).toBe(true);

    // The over-grants, each by the role that could make it.
    await su(
      `GRANT INSERT, TRUNCATE ON res_partner TO superset_ro;
              GRANT TRIGGER, REFERENCES ON sale_order TO superset_ro;
              GRANT UPDATE (name) ON res_partner TO superset_ro_a;
              GRANT USAGE, UPDATE ON SEQUENCE ir_sequence_001 TO superset_ro;
              GRANT DELETE ON res_partner TO PUBLIC;
              ALTER DEFAULT PRIVILEGES FOR ROLE odoo_app IN SCHEMA public GRANT INSERT ON TABLES TO superset_ro;
              SELECT lo_create(9001); GRANT UPDATE ON LARGE OBJECT 9001 TO superset_ro`,
      'odoo_app',
    );
    await as(
      'doadmin',
      doadmin.reveal(),
      `
              GRANT CREATE ON SCHEMA public TO superset_ro;
              GRANT CREATE ON DATABASE odoo TO superset_ro;
              ALTER ROLE superset_ro_a CREATEDB;
              GRANT odoo_app TO superset_ro;
              CREATE TABLE doadmin_notes (id int);
              GRANT INSERT ON doadmin_notes TO superset_ro;
              CREATE ROLE etl NOLOGIN`,
    );
    // A read it may pass on: the audit counts a GRANT OPTION as a way to hand out privileges.
    await su('GRANT SELECT ON res_partner TO superset_ro WITH GRANT OPTION', 'odoo_app');
    // superset_ro passed on a write it held WITH GRANT OPTION.
    await su('GRANT INSERT ON sale_order TO superset_ro WITH GRANT OPTION', 'odoo_app');
    await su('GRANT INSERT ON sale_order TO PUBLIC', 'superset_ro');
    // A grant made by another holder of GRANT OPTION: only etl may revoke it.
    await su('GRANT UPDATE ON res_partner TO etl WITH GRANT OPTION', 'odoo_app');
    await su('GRANT UPDATE ON res_partner TO superset_ro', 'etl');
    await su(
      `CREATE TABLE ro_scratch (id int); CREATE FUNCTION ro_fn() RETURNS int LANGUAGE sql AS 'SELECT 1'; SELECT lo_create(9002)`,
      'superset_ro',
    );
    // A SECURITY DEFINER function of the writer: callable by PUBLIC by default, it writes as odoo_app.
    await su(
      `CREATE FUNCTION close_period() RETURNS void LANGUAGE sql SECURITY DEFINER AS $$ INSERT INTO res_partner (name) VALUES ('closed') $$`,
      'odoo_app',
    );
    const misuse = await provisionCredential(policy(), 'superset_ro', {
      runtime: testRuntime(),
      apply: true,
      takeOverFrom: 'doadmin',
    }).then(
      () => 'ran',
      (e: Error) => e.message,
    );
    expect(misuse).toContain('--take-over-from: superset_ro is access: readonly');
    const before = await auditOf('superset_ro');
    expect(before.pass).toBe(false);

    const applied = await provisionCredential(policy(), 'superset_ro', { runtime: testRuntime(), apply: true });
    expect(applied.applied).toBe(true);
    expect(applied.converged, applied.remaining.join('\n')).toBe(true);
    // Revokes of a grant odoo_app made run as odoo_app; ownership goes to the readwrite role.
    // The owner's grants with the owner's rights (granted to doadmin for the transaction only); etl's as etl.
    expect(applied.script).toMatch(
      /GRANT "odoo_app" TO "doadmin" WITH INHERIT TRUE, SET TRUE;[^]*\nREVOKE INSERT, REFERENCES, TRIGGER ON TABLE public\.sale_order FROM "superset_ro" CASCADE;[^]*REVOKE "odoo_app" FROM "doadmin" GRANTED BY "doadmin";/,
    );
    expect(applied.script).toContain('SET ROLE "superset_ro";\nREVOKE INSERT ON TABLE public.sale_order FROM PUBLIC;\nRESET ROLE;');
    expect(applied.script).toContain('SET ROLE "etl";\nREVOKE UPDATE ON TABLE public.res_partner FROM "superset_ro" CASCADE;\nRESET ROLE;');
    expect(applied.script).toContain('ALTER TABLE public.ro_scratch OWNER TO "odoo_app";');
    expect(applied.script).toContain('ALTER FUNCTION public.ro_fn() OWNER TO "odoo_app";');
    expect(applied.script).toContain('ALTER LARGE OBJECT 9002 OWNER TO "odoo_app";');

    const after = await auditOf('superset_ro');
    expect(after.findings).toEqual([]);
    expect(after.pass).toBe(true);
    const rerun = await provisionCredential(policy(), 'superset_ro', { runtime: testRuntime(), apply: false });
    expect(rerun.plan.statements).toEqual([]);
    expect(rerun.script).toContain('nothing to do');

    // Proven by trying: every write is refused, reads still work.
    await su('CREATE TABLE created_later (id int)', 'odoo_app');
    expect((await as('superset_ro_a', loginPassword, 'SELECT count(*)::int AS n FROM res_partner')).rows[0].n).toBe(1);
    expect((await as('superset_ro_a', loginPassword, 'SELECT * FROM created_later')).rowCount).toBe(0);
    for (const sql of WRITES) expect([sql, await tryAsReadonly(sql)]).toEqual([sql, '42501']);
    // The writer still calls its own routine.
    expect((await su("SELECT has_function_privilege('odoo_app', 'close_period()', 'EXECUTE') AS ok")).rows).toEqual([{ ok: true }]);
    const refs = await as(
      'superset_ro_a',
      loginPassword,
      `SELECT has_table_privilege('sale_order', 'REFERENCES') AS refs, has_column_privilege('res_partner', 'name', 'UPDATE') AS col,
      has_table_privilege('res_partner', 'SELECT WITH GRANT OPTION') AS pass_on, has_table_privilege('res_partner', 'SELECT') AS reads`,
    );
    expect(refs.rows).toEqual([{ refs: false, col: false, pass_on: false, reads: true }]);
  });

  it('what doadmin cannot undo (grants by the superuser) is named with the SQL for a superuser, never "nothing to do"; with a superuser it converges', async () => {
    await su(`CREATE TABLE pg_made (id int); GRANT INSERT ON pg_made TO superset_ro; GRANT pg_write_all_data TO superset_ro;
              CREATE FOREIGN DATA WRAPPER dummy_fdw; CREATE SERVER dummy_server FOREIGN DATA WRAPPER dummy_fdw;
              GRANT USAGE ON FOREIGN SERVER dummy_server TO superset_ro; GRANT ALTER SYSTEM ON PARAMETER work_mem TO superset_ro`);
    const blocked = await provisionCredential(policy(), 'superset_ro', { runtime: testRuntime(), apply: true });
    expect(blocked.converged).toBe(false);
    expect(blocked.script).not.toContain('nothing to do');
    expect(blocked.remaining.join('\n')).toContain('REVOKE INSERT ON TABLE public.pg_made FROM "superset_ro"');
    expect(blocked.remaining.join('\n')).toContain('pg_write_all_data');
    expect(blocked.remaining.join('\n')).toContain('REVOKE USAGE ON FOREIGN SERVER dummy_server FROM "superset_ro" CASCADE;');
    expect(blocked.remaining.join('\n')).toContain('REVOKE ALTER SYSTEM ON PARAMETER work_mem FROM "superset_ro" CASCADE;');
    expect(await tryAsReadonly('INSERT INTO pg_made VALUES (1)')).toBe('ok');

    const fixed = await provisionCredential(policy(superuserUrl()), 'superset_ro', { runtime: testRuntime(), apply: true });
    expect(fixed.converged, fixed.remaining.join('\n')).toBe(true);
    expect((await auditOf('superset_ro')).pass).toBe(true);
    expect((await provisionCredential(policy(), 'superset_ro', { runtime: testRuntime(), apply: false })).script).toContain(
      'nothing to do',
    );
    for (const sql of [
      'INSERT INTO pg_made VALUES (1)',
      'CREATE USER MAPPING FOR CURRENT_USER SERVER dummy_server',
      "ALTER SYSTEM SET work_mem = '8MB'",
      ...WRITES,
    ]) {
      expect([sql, await tryAsReadonly(sql)]).toEqual([sql, '42501']);
    }
  });
});

describe('write paths in another database of the cluster (privileges are per database; the audit reads them all)', () => {
  const inDb = async (database: string, sql: string, user = 'doadmin', password = doadmin.reveal()) => {
    const c = new pg.Client({ host: '127.0.0.1', port: server.port, user, password, database });
    c.on('error', () => undefined);
    await c.connect();
    return c.query(sql).finally(() => c.end());
  };

  it('are taken away there, in a transaction of that database; what the admin may not undo there is named with its database', async () => {
    // Shelf's database on the same cluster, created by doadmin; PUBLIC may connect to it (the default).
    await inDb('defaultdb', 'CREATE DATABASE shelf_db');
    await inDb('shelf_db', 'CREATE TABLE other_app (id int); GRANT INSERT ON other_app TO superset_ro');
    const c = new pg.Client({ connectionString: server.superuserUrl.replace(/\/postgres$/, '/shelf_db') });
    await c.connect();
    await c.query('CREATE TABLE su_table (id int); GRANT UPDATE ON su_table TO superset_ro').finally(() => c.end());

    const result = await provisionCredential(policy(), 'superset_ro', { runtime: testRuntime(), apply: true });
    expect(result.script).toContain('\\connect "shelf_db"\nBEGIN;');
    expect(result.script).toContain('REVOKE INSERT ON TABLE public.other_app FROM "superset_ro" CASCADE;');
    expect(result.converged).toBe(false);
    expect(result.script).not.toContain('nothing to do');
    expect(result.remaining.join('\n')).toContain('in database shelf_db: ');
    expect(result.remaining.join('\n')).toContain('REVOKE UPDATE ON TABLE public.su_table FROM "superset_ro" CASCADE;');
    const tryThere = (sql: string) =>
      inDb('shelf_db', sql, 'superset_ro_a', loginPassword).then(
        () => 'ok',
        (e: { code?: string }) => e.code,
      );
    expect(await tryThere('INSERT INTO other_app VALUES (1)')).toBe('42501');

    const fixed = await provisionCredential(policy(superuserUrl()), 'superset_ro', { runtime: testRuntime(), apply: true });
    expect(fixed.converged, fixed.remaining.join('\n')).toBe(true);
    expect((await auditOf('superset_ro')).pass).toBe(true);
    expect(await tryThere('UPDATE su_table SET id = 2')).toBe('42501');
  });
});

describe('provision --apply odoo_app (readwrite) leaves it no way to act as an admin', () => {
  it('a membership in an admin role and a SECURITY DEFINER routine of an admin are taken away; the audit passes; proven by trying', async () => {
    await su(`ALTER ROLE odoo_app_a PASSWORD '${scramVerifier(new Secret(loginPassword))}'`);
    await as(
      'doadmin',
      doadmin.reveal(),
      `CREATE ROLE ops_admin NOLOGIN CREATEROLE CREATEDB; GRANT ops_admin TO odoo_app; ALTER ROLE odoo_app_a CREATEDB`,
    );
    await su('GRANT ALTER SYSTEM ON PARAMETER work_mem TO odoo_app');
    await su(`CREATE FUNCTION make_role(name text) RETURNS void LANGUAGE plpgsql SECURITY DEFINER AS $$ BEGIN EXECUTE format('CREATE ROLE %I', name); END $$;
              ALTER FUNCTION make_role(text) OWNER TO ops_admin`);
    expect((await auditOf('odoo_app')).pass).toBe(false);

    // The superuser's grant on a parameter: doadmin names it; a superuser admin connection takes it away.
    const named = await provisionCredential(policy(), 'odoo_app', { runtime: testRuntime(), apply: true });
    expect(named.converged).toBe(false);
    expect(named.remaining.join('\n')).toContain('REVOKE ALTER SYSTEM ON PARAMETER work_mem FROM "odoo_app" CASCADE;');
    const applied = await provisionCredential(policy(superuserUrl()), 'odoo_app', { runtime: testRuntime(), apply: true });
    expect(applied.converged, applied.remaining.join('\n')).toBe(true);
    expect(await auditOf('odoo_app')).toEqual({ pass: true, findings: [] });
    expect((await provisionCredential(policy(), 'odoo_app', { runtime: testRuntime(), apply: false })).script).toContain('nothing to do');
    const tryAsApp = (sql: string) =>
      as('odoo_app_a', loginPassword, sql).then(
        () => 'ok',
        (e: { code?: string }) => e.code ?? 'error',
      );
    for (const sql of [
      'SET ROLE ops_admin',
      "SELECT make_role('sneaky')",
      'CREATE DATABASE sneaky',
      'CREATE ROLE sneaky',
      "ALTER SYSTEM SET work_mem = '8MB'",
    ])
      expect([sql, await tryAsApp(sql)]).toEqual([sql, '42501']);
    expect(await tryAsApp("INSERT INTO res_partner (name) VALUES ('still writes')")).toBe('ok');
  });
});
