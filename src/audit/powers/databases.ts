import type pg from 'pg';
import { describeError } from '../../errors/errors.js';
import type { ReachedRole } from '../catalog.js';
import type { Finding } from '../types.js';

/**
 * Databases, other than the one `db` is connected to, that the role or a role it reaches may
 * CONNECT to (PUBLIC may, by default, on every database). pg_hba.conf may still refuse: the audit
 * cannot read it, so it assumes not.
 */
async function connectableDatabases(db: pg.Client, roles: number[]): Promise<string[]> {
  const { rows } = await db.query<{ name: string }>(
    `SELECT d.datname AS name FROM pg_database d
      WHERE d.datallowconn AND NOT d.datistemplate AND d.datname <> current_database()
        AND EXISTS (SELECT 1 FROM unnest($1::oid[]) r WHERE has_database_privilege(r, d.oid, 'CONNECT'))
      ORDER BY 1`,
    [roles],
  );
  return rows.map((r) => r.name);
}

/**
 * Runs the per-database part of a rule (`perDatabase`) in every other database the role may
 * connect to, through the admin's own connection there, and marks each finding with its database.
 * A database the admin cannot read is "could not tell" (fail-safe): its grants are unknown.
 */
export async function inOtherDatabases(
  db: pg.Client,
  role: string,
  byOid: Map<number, ReachedRole>,
  open: ((database: string) => Promise<pg.Client>) | undefined,
  perDatabase: (other: pg.Client, database: string) => Promise<Finding[]>,
): Promise<Finding[]> {
  if (!open) return [];
  const findings: Finding[] = [];
  for (const database of await connectableDatabases(db, [...byOid.keys()])) {
    let other: pg.Client;
    try {
      other = await open(database);
    } catch (error) {
      const admin = (await db.query<{ user: string }>('SELECT current_user AS user')).rows[0].user;
      findings.push({
        what: `${role} may connect to database ${database}, which the admin connection could not read (${describeError(error)}): could not tell what ${role} may write there`,
        severity: 'error',
        fixes: [
          `GRANT CONNECT ON DATABASE ${db.escapeIdentifier(database)} TO ${db.escapeIdentifier(admin)};`,
          `REVOKE CONNECT ON DATABASE ${db.escapeIdentifier(database)} FROM PUBLIC; (and from ${role}, if granted)`,
        ],
        path: 'undecided',
        object: `database ${database}`,
        database,
        facts: { role, database },
      });
      continue;
    }
    try {
      for (const f of await perDatabase(other, database))
        findings.push({ ...f, what: `in database ${database}: ${f.what}`, database, facts: { ...f.facts, database } });
    } finally {
      await other.end().catch(() => undefined);
    }
  }
  return findings;
}
