import type pg from 'pg';
import { RotationError } from '../errors/errors.js';
import { connect, pgError } from './connect.js';

/** How long a second run waits for the lock before it gives up: "at once", with room for a slow round trip. */
const LOCK_WAIT_MS = 2_000;

/** A held rotation lock: its own session, which nothing else may use (an error there would release it). */
export interface RotationLock {
  /** The backend holding the lock, for session cut-offs to spare. */
  readonly pid: number;
  release(): Promise<void>;
}

/**
 * One rotation per role per cluster (invariant 4), whatever database the connection names.
 *
 * Roles are cluster objects, but advisory locks are per database (their lock tag carries the
 * database's oid): two runs through admin URLs ending in /odoo and /postgres both got "the" lock.
 * A fixed lock database does not work everywhere either (DigitalOcean's is defaultdb, Supabase's
 * postgres; a least-privilege admin or an application user may lack CONNECT on it).
 *
 * So the lock is a row lock in a shared catalog: a dedicated session opens a transaction and runs
 * `ALTER ROLE <role> SET application_name = …`, which writes the role's row of pg_db_role_setting
 * (one catalog for the whole cluster) and holds it until that transaction ends. It is never
 * committed: release() rolls it back, and a killed run's transaction is aborted by the server
 * with its connection, so the role's settings never change. A second run's same statement waits
 * on that row (or on the unique index, when the role has no settings row yet) and `lock_timeout`
 * turns the wait into SQLSTATE 55P03 at once. It needs no privilege beyond the rotation's own:
 * PG16 lets a CREATEROLE role with ADMIN OPTION on the role (alter-role), and any role for itself
 * (digitalocean-reset's session of the user), set the role's USERSET parameters. It blocks neither
 * logins (they read the committed settings) nor ALTER ROLE … PASSWORD (pg_authid, another catalog).
 * Checked on a real server by test/concurrency.test.ts.
 */
export async function takeRotationLock(
  session: pg.ClientConfig | Promise<pg.Client>,
  roles: string | string[],
  where: string,
): Promise<RotationLock> {
  // Several roles (alternating-roles' two logins) in one transaction, in a fixed order.
  const names = (Array.isArray(roles) ? [...roles] : [roles]).sort();
  const role = names.join(' / ');
  const db = await (session instanceof Promise ? session : openLockSession(session, where));
  let pid: number;
  try {
    // The lock lives in an idle transaction: a server-side idle timeout must not end it mid-run.
    await db.query('SET idle_in_transaction_session_timeout = 0');
    pid = (await db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
    await db.query('BEGIN');
    await db.query(`SET LOCAL lock_timeout = '${LOCK_WAIT_MS}ms'`);
    for (const name of names) await db.query(`ALTER ROLE ${db.escapeIdentifier(name)} SET application_name = 'credential-rotation lock'`);
  } catch (error) {
    await db.end().catch(() => undefined);
    if ((error as { code?: string }).code === '55P03') {
      throw new RotationError(`another rotation of role ${role} is running (it holds the role's cluster-wide rotation lock)`, {
        hint: 'wait for it to finish; nothing was changed',
        code: 'LOCKED',
      });
    }
    throw pgError(`taking the rotation lock of role ${role} on ${where}`, error);
  }
  return {
    pid,
    async release() {
      await db.query('ROLLBACK').catch(() => undefined);
      await db.end().catch(() => undefined);
    },
  };
}

/**
 * The session a rotation lock lives in, connected and not yet locking anything: connecting is most
 * of its cost, so a caller may open it early, beside other work, and pass it to takeRotationLock.
 */
export function openLockSession(config: pg.ClientConfig, where: string): Promise<pg.Client> {
  return connect(config, `rotation lock session on ${where}`);
}

/**
 * SQL: whether backend `pid` holds the rotation lock of role `roleOid` (both SQL expressions).
 * Read from the locks themselves, never from what a client says (application_name is the
 * client's to set). The lock is an open transaction that ran ALTER ROLE <role> SET …: its backend
 * holds a lock on the role's pg_authid object and RowExclusiveLock on pg_db_role_setting, and when
 * the role already has a settings row, that row's xmax is the backend's own transaction id (a row
 * lock pg_locks does not list, so it is matched through the transactionid lock the backend holds).
 * pg_locks is readable by any role. A session can only look like the lock by holding it, and
 * holding it blocks every rotation of the role (they fail LOCKED), so it cannot hide beside one.
 * When the role has no settings row yet, the lock's new row is invisible until commit: the other
 * two locks then decide.
 */
export function holdsRotationLockSql(pid: string, roleOid: string): string {
  return `(EXISTS (SELECT 1 FROM pg_locks o WHERE o.pid = ${pid} AND o.granted AND o.locktype = 'object' AND o.database = 0
                    AND o.classid = 'pg_catalog.pg_authid'::regclass AND o.objid = ${roleOid})
     AND EXISTS (SELECT 1 FROM pg_locks l WHERE l.pid = ${pid} AND l.granted AND l.locktype = 'relation' AND l.database = 0
                    AND l.relation = 'pg_catalog.pg_db_role_setting'::regclass AND l.mode = 'RowExclusiveLock')
     AND NOT EXISTS (SELECT 1 FROM pg_db_role_setting s WHERE s.setdatabase = 0 AND s.setrole = ${roleOid}
                        AND NOT EXISTS (SELECT 1 FROM pg_locks x WHERE x.pid = ${pid} AND x.granted AND x.locktype = 'transactionid'
                                           AND x.transactionid = s.xmax)))`;
}
