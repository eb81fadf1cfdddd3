import type pg from 'pg';
import { describeError } from '../errors/errors.js';
import type { CredentialPolicy, Policy } from '../policy/types.js';
import { planContext, type Statement } from './context.js';
import type { OpenDatabase } from './converged.js';
import { takeAwayWrites } from './readonly.js';
import { notAdmin } from './readwrite.js';
import type { AdminState } from './state.js';

/** What provision does in another database of the cluster: its own transaction there. */
export interface DatabasePlan {
  database: string;
  statements: Statement[];
  unresolved: string[];
}

/**
 * Privileges are per database: a read-only role may connect to every database PUBLIC may (the
 * default), and a write grant or a definer routine there is a way to write as much as one in the
 * admin_url's database. Each such database is read through the admin's own connection to it, and
 * what is there is taken away in a transaction of its own (the audit reads them the same way).
 */
export async function planOtherDatabases(
  db: pg.Client,
  admin: AdminState,
  policy: Policy,
  credential: CredentialPolicy,
  roles: string[],
  open: OpenDatabase | undefined,
): Promise<DatabasePlan[]> {
  if (!open) return [];
  const plans: DatabasePlan[] = [];
  for (const database of await connectable(db, roles)) {
    let other: pg.Client;
    try {
      other = await open(database);
    } catch (error) {
      plans.push({
        database,
        statements: [],
        unresolved: [
          `${roles[0]} may connect to database ${database}, which the admin connection could not read (${describeError(error)}): GRANT CONNECT ON DATABASE ${db.escapeIdentifier(database)} TO ${db.escapeIdentifier(admin.user)}; or REVOKE CONNECT ON DATABASE ${db.escapeIdentifier(database)} FROM PUBLIC;`,
        ],
      });
      continue;
    }
    try {
      const { ctx, finish } = planContext(other, { ...admin, database });
      if (credential.access === 'readonly') await takeAwayWrites(ctx, policy, credential, roles, 'database');
      else await notAdmin(ctx, credential, roles, 'database');
      const { statements, unresolved } = finish();
      if (statements.length > 0 || unresolved.length > 0)
        plans.push({ database, statements, unresolved: unresolved.map((u) => `in database ${database}: ${u}`) });
    } finally {
      await other.end().catch(() => undefined);
    }
  }
  return plans;
}

/** The databases, other than this one, that one of the roles may CONNECT to (pg_hba.conf aside). */
async function connectable(db: pg.Client, roles: string[]): Promise<string[]> {
  const { rows } = await db.query<{ name: string }>(
    `SELECT d.datname AS name FROM pg_database d
      WHERE d.datallowconn AND NOT d.datistemplate AND d.datname <> current_database()
        AND EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolname = ANY($1::text[]) AND has_database_privilege(r.oid, d.oid, 'CONNECT'))
      ORDER BY 1`,
    [roles],
  );
  return rows.map((r) => r.name);
}
