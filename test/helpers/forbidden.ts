import pg from 'pg';
import type { PostgresFixture } from './postgres.js';

/**
 * The forbidden things a login may try, as a hostile user of a read-only credential (rule 1) or of
 * an application role (rule 2) would: each is run for real on the server, in its own transaction
 * that is rolled back (CREATE DATABASE, which cannot run in one, is dropped after), and the ones
 * the server accepted are returned. `{schema}`, `{lo}`, `{role}` name the case's objects.
 */
export interface Attempt {
  name: string;
  sql: string;
  /** Runs outside a transaction (CREATE DATABASE); `cleanup` runs as the superuser after. */
  autocommit?: { cleanup: string };
}

export const WRITES: Attempt[] = [
  { name: 'INSERT', sql: `INSERT INTO {schema}.t (v) VALUES ('w')` },
  { name: 'UPDATE', sql: `UPDATE {schema}.t SET v = 'w'` },
  { name: 'DELETE', sql: `DELETE FROM {schema}.t` },
  { name: 'TRUNCATE', sql: `TRUNCATE {schema}.t` },
  { name: 'INSERT into a table created later', sql: `INSERT INTO {schema}.later (v) VALUES ('w')` },
  { name: 'nextval', sql: `SELECT nextval('{schema}.seq')` },
  { name: 'setval', sql: `SELECT setval('{schema}.seq', 42)` },
  { name: 'lo_put', sql: `SELECT lo_put({lo}, 0, '\\x77')` },
  { name: 'CREATE in the schema', sql: `CREATE TABLE {schema}.made (x int)` },
  { name: 'CREATE in public', sql: `CREATE TABLE public.made_{role} (x int)` },
  { name: 'CREATE SCHEMA', sql: `CREATE SCHEMA made_{role}` },
  {
    name: 'CREATE TRIGGER',
    sql: `CREATE TRIGGER made BEFORE UPDATE ON {schema}.t FOR EACH ROW EXECUTE FUNCTION suppress_redundant_updates_trigger()`,
  },
  { name: 'COMMENT ON SCHEMA', sql: `COMMENT ON SCHEMA {schema} IS 'w'` },
  { name: 'COMMENT ON TABLE', sql: `COMMENT ON TABLE {schema}.t IS 'w'` },
  { name: 'COMMENT ON FUNCTION', sql: `COMMENT ON FUNCTION {schema}.f() IS 'w'` },
  { name: 'COMMENT ON AGGREGATE', sql: `COMMENT ON AGGREGATE {schema}.agg(int) IS 'w'` },
  { name: 'COMMENT ON LARGE OBJECT', sql: `COMMENT ON LARGE OBJECT {lo} IS 'w'` },
  { name: 'call the definer function', sql: `SELECT {schema}.definer()` },
  // GRANT without the grant option only warns ("no privileges were granted"): the attempt checks it took effect.
  {
    name: 'GRANT to another role',
    sql: `DO $$ BEGIN GRANT SELECT ON {schema}.t TO PUBLIC;
            IF NOT EXISTS (SELECT 1 FROM aclexplode((SELECT relacl FROM pg_class WHERE oid = '{schema}.t'::regclass)) a WHERE a.grantee = 0) THEN RAISE EXCEPTION 'not granted'; END IF; END $$`,
  },
  // A program that reads its input: `true` may exit before the server writes, and the write then fails on a broken pipe.
  { name: 'COPY TO PROGRAM', sql: `COPY (SELECT 1) TO PROGRAM 'cat > /dev/null'` },
  { name: 'COPY TO a server file', sql: `COPY (SELECT 1) TO '/tmp/credential-rotation-audit-{role}.out'` },
  { name: 'COPY FROM a server file', sql: `DO $$ BEGIN CREATE TEMP TABLE f (l text); COPY f FROM 'PG_VERSION'; END $$` },
  { name: 'CREATE USER MAPPING', sql: `CREATE USER MAPPING FOR CURRENT_USER SERVER {schema}_srv` },
  { name: 'CREATE SERVER', sql: `CREATE SERVER made_{role} FOREIGN DATA WRAPPER {schema}_fdw` },
  {
    name: 'lo_put after SET lo_compat_privileges',
    sql: `DO $$ BEGIN SET LOCAL lo_compat_privileges = on; PERFORM lo_put({lo}, 0, '\x77'); END $$`,
  },
  { name: 'ALTER SYSTEM', sql: `ALTER SYSTEM SET work_mem = '5MB'`, autocommit: { cleanup: 'ALTER SYSTEM RESET work_mem' } },
  { name: 'CREATE ROLE', sql: `CREATE ROLE made_{role}` },
  { name: 'CREATE DATABASE', sql: `CREATE DATABASE made_{role}`, autocommit: { cleanup: `DROP DATABASE IF EXISTS made_{role}` } },
];

/** What an application role must not do: act on roles, databases or the server. */
export const ADMIN_ACTIONS: Attempt[] = [
  ...WRITES.filter((w) =>
    ['COPY TO PROGRAM', 'COPY TO a server file', 'COPY FROM a server file', 'ALTER SYSTEM', 'CREATE ROLE', 'CREATE DATABASE'].includes(
      w.name,
    ),
  ),
  { name: 'call the definer function', sql: `SELECT {schema}.make_role()` },
];

export function fill(sql: string, vars: Record<string, string>): string {
  return sql.replace(/\{(\w+)\}/g, (all, key: string) => vars[key] ?? all);
}

/**
 * Logs in as `login` (to `database`) and tries every attempt as itself and then as each of `roles`, the way
 * a user would get there: granting itself SET on the role first (which works with ADMIN OPTION),
 * then SET ROLE. Returns the attempts that succeeded, as "name" or "name as role".
 */
export async function tryForbidden(
  fx: PostgresFixture,
  login: string,
  password: string,
  attempts: Attempt[],
  vars: Record<string, string>,
  roles: string[],
  database = 'odoo',
): Promise<string[]> {
  const db = new pg.Client({ host: '127.0.0.1', port: fx.server.port, database, user: login, password, statement_timeout: 10_000 });
  db.on('error', () => undefined);
  await db.connect();
  const done: string[] = [];
  const ok = (sql: string) =>
    db.query(sql).then(
      () => true,
      () => false,
    );
  // Inside a transaction: grant itself SET on the role where it may (ADMIN OPTION), then SET ROLE.
  const become = async (role: string) => {
    await db.query('SAVEPOINT grant_self');
    if (!(await ok(`GRANT ${role} TO CURRENT_USER WITH INHERIT TRUE, SET TRUE`))) await db.query('ROLLBACK TO SAVEPOINT grant_self');
    return ok(`SET ROLE ${role}`);
  };
  const inTransaction = async (run: () => Promise<boolean>) => {
    await db.query('BEGIN');
    try {
      return await run();
    } finally {
      await db.query('ROLLBACK');
    }
  };
  try {
    for (const as of [undefined, ...roles]) {
      const role = as ? db.escapeIdentifier(as) : undefined;
      // A role it cannot become refuses every attempt made as it: no need to make them.
      if (role && !(await inTransaction(() => become(role)))) continue;
      for (const attempt of attempts) {
        const sql = fill(attempt.sql, vars);
        let accepted: boolean;
        if (attempt.autocommit) {
          accepted = role ? (await ok(`SET ROLE ${role}`)) && (await ok(sql)) : await ok(sql);
          await ok('RESET ROLE');
          if (accepted) {
            const su = await fx.server.client();
            await su.query(fill(attempt.autocommit.cleanup, vars)).finally(() => su.end());
          }
        } else {
          accepted = await inTransaction(async () => (!role || (await become(role))) && (await ok(sql)));
        }
        if (accepted) done.push(as ? `${attempt.name} as ${as}` : attempt.name);
      }
    }
  } finally {
    await db.end().catch(() => undefined);
  }
  return done;
}
