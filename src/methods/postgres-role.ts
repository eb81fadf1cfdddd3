import type pg from 'pg';
import type { AdapterContext } from '../adapters/context.js';
import type { PostgresSystem } from '../policy/types.js';
import type { RevocationProof } from './method.js';
import type { Secret } from '../secret/secret.js';
import { RotationError } from '../errors/errors.js';
import { connect, connectionConfig, describeTarget, pgError, tryLogin } from '../postgres/connect.js';
import { setPassword, stagePassword, type PasswordOptions } from '../postgres/password.js';
import { openLockSession, takeRotationLock, type RotationLock } from '../postgres/lock.js';
import type { CutOff } from '../postgres/sessions.js';
import { systemCa } from '../adapters/system-ca.js';

// Postgres role administration, shared by the methods that change a role's password through a
// postgres system's admin connection (alter-role, alternating-roles): the admin client, what the
// catalogs say the admin may do, setting a password, and proving the old one refused.

/** What the admin connection is and may do, read from the catalogs in preflight. */
export interface AdminRole {
  user: string;
  rolsuper: boolean;
  rolcreaterole: boolean;
}

/** A role whose password the admin would change, as the catalogs describe it. */
export interface TargetRole {
  rolname: string;
  rolsuper: boolean;
  /** The admin holds ADMIN OPTION on it. */
  admin: boolean;
}

export interface RoleAdmin {
  /** "Postgres <host>/<db> role x": names the place in messages. */
  readonly where: string;
  /** How to log in as `user` with `password`, as the admin URL connects (host, database, TLS). */
  loginAs(user: string, password: Secret): pg.ClientConfig;
  /** The admin connection, opened once. */
  client(): Promise<pg.Client>;
  /** A catalog query on the admin connection; a failure names the preflight query on `where`. */
  query<T extends pg.QueryResultRow>(sql: string, params?: unknown[]): Promise<T[]>;
  /**
   * Who the admin connection is, and the server settings a password change uses (scram_iterations,
   * whether it may keep the statement out of the log: if not, a note says so).
   */
  adminRole(notes: string[]): Promise<AdminRole>;
  /** Refuses, naming the GRANT that fixes it, when the admin may not change `target`'s password (PG16 rules). */
  requireMayChange(me: AdminRole, target: TargetRole, kind?: string): void;
  /** The cluster-wide rotation lock on `roles` (postgres/lock.ts), taken once. */
  lock(roles: string | string[]): Promise<void>;
  /** The lock's backend, which a session cut-off spares. */
  lockPids(): number[];
  /** ALTER ROLE … PASSWORD in a transaction left open: COMMIT makes it live, ROLLBACK backs out. */
  stagePassword(role: string, password: Secret): Promise<void>;
  /** ALTER ROLE … PASSWORD, committed at once; returns the server's clock after the commit. */
  setPassword(role: string, password: Secret): Promise<Date>;
  /** The server's clock, so a session cut-off compares like with like. */
  serverNow(): Promise<Date>;
  /** scram_iterations of the server (known after adminRole). */
  readonly iterations: number;
  close(): Promise<void>;
}

/** The admin of the credential's postgres system (`what` completes `where`, e.g. "role odoo_app"). */
export function roleAdmin(ctx: Pick<AdapterContext, 'policy' | 'system' | 'runtime'>, what: string): RoleAdmin {
  const system = ctx.system as PostgresSystem;
  const where = `Postgres ${describeTarget(system.adminUrl)} ${what}`;
  const ca = systemCa(ctx);
  const adminConfig = connectionConfig(system.adminUrl, undefined, ca);
  let admin: Promise<pg.Client> | undefined;
  /** The lock's session, connecting beside the admin's (it locks only once the checks pass): see lock(). */
  let lockSession: Promise<pg.Client> | undefined;
  let held: RotationLock | undefined;
  const settings: PasswordOptions = { iterations: 4096, hideStatement: false, lockTimeoutSeconds: system.lockTimeoutSeconds };

  const client = (): Promise<pg.Client> => {
    if (!admin) {
      // Every user of the admin takes the lock in its preflight: its session's connection (a round
      // of TLS and SCRAM) overlaps the admin's and the catalog checks instead of following them.
      lockSession = openLockSession(adminConfig, where);
      lockSession.catch(() => undefined); // awaited by lock(), or ended by close()
      admin = connect(adminConfig, `admin connection of system '${system.id}' (${describeTarget(system.adminUrl)})`);
    }
    return admin;
  };
  const query = async <T extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<T[]> => {
    const db = await client();
    try {
      return (await db.query<T>(sql, params)).rows;
    } catch (error) {
      throw pgError(`preflight query on ${where}`, error);
    }
  };
  const serverNow = async () => (await (await client()).query<{ now: Date }>('SELECT now()')).rows[0].now;

  return {
    where,
    loginAs: (user, password) => connectionConfig(system.adminUrl, { user, password }, ca),
    client,
    query,
    async adminRole(notes) {
      const [me] = await query<AdminRole & { iterations: string | null; hide: boolean }>(
        `SELECT current_user AS user, rolsuper, rolcreaterole, current_setting('scram_iterations', true) AS iterations,
                has_parameter_privilege('log_statement', 'SET') AS hide
           FROM pg_roles WHERE rolname = current_user`,
      );
      settings.iterations = Number(me.iterations ?? 4096) || 4096;
      settings.hideStatement = me.hide;
      if (!me.hide) notes.push('the admin may not SET log_statement: the ALTER ROLE may be logged, and carries only a SCRAM verifier');
      return { user: me.user, rolsuper: me.rolsuper, rolcreaterole: me.rolcreaterole };
    },
    requireMayChange(me, target, kind = 'role') {
      // PG16: a non-superuser may change another role's password only with CREATEROLE and ADMIN
      // OPTION on it, and never a superuser's.
      if (me.rolsuper || me.user === target.rolname || (me.rolcreaterole && target.admin && !target.rolsuper)) return;
      throw new RotationError(`the admin connection (role ${me.user}) may not change the password of ${kind} ${target.rolname}`, {
        hint: `it needs CREATEROLE and ADMIN OPTION on ${target.rolname}: GRANT ${sqlName(target.rolname)} TO ${sqlName(me.user)} WITH ADMIN OPTION, INHERIT FALSE, SET FALSE`,
        code: 'NOT_ALLOWED',
      });
    },
    async lock(roles) {
      if (held) return;
      const session = lockSession ?? adminConfig;
      lockSession = undefined; // takeRotationLock owns it now (and ends it when it fails)
      held = await takeRotationLock(session, roles, where);
    },
    lockPids: () => (held ? [held.pid] : []),
    async stagePassword(role, password) {
      await stagePassword(await client(), role, password, settings).catch((error: unknown) => {
        throw pgError(`ALTER ROLE on ${where}`, error);
      });
    },
    async setPassword(role, password) {
      try {
        await setPassword(await client(), role, password, settings);
        return await serverNow();
      } catch (error) {
        throw pgError(`ALTER ROLE ${role} on ${where}`, error);
      }
    },
    serverNow,
    get iterations() {
      return settings.iterations;
    },
    async close() {
      const [db, lock, session] = [admin, held, lockSession];
      [admin, held, lockSession] = [undefined, undefined, undefined];
      await lock?.release();
      // A preflight that stopped before the lock leaves its session unused.
      await session?.then((unused) => unused.end()).catch(() => undefined);
      const open = await db?.catch(() => undefined); // a connection that failed was reported where it failed
      await open?.end();
    },
  };
}

/** A role name as a person would paste it into SQL: quoted only when it needs it. */
export function sqlName(name: string): string {
  return /^[a-z_][a-z0-9_]*$/.test(name) ? name : `"${name.replace(/"/g, '""')}"`;
}

/**
 * The revoke step of a Postgres password (alter-role, alternating-roles, digitalocean-reset, …):
 * the change itself replaced the verifier, so revoking is proving it. The old password is
 * presented (as each login it may have belonged to) and must be refused with SQLSTATE 28P01
 * (invariant 3). On exposure, `cutOff` ran first; what it ended and what survived go into the
 * proof, and the engine fails the run when anything survived.
 */
export async function proveOldPasswordRefused(options: {
  role: string;
  old: Secret | undefined;
  login: (password: Secret, user: string) => pg.ClientConfig;
  /** The logins the old password is tried as (alternating-roles: both); default: the role alone. */
  logins?: string[];
  /** What the change left, said when nothing could be tried (default: "<role> now accepts only the new password"). */
  left?: string;
  /** Said after a refusal as each of `logins` (alternating-roles: where the other login's password went). */
  refusedNote?: string;
  cutOff?: CutOff;
  /** Which sessions the cut-off ended (default: "opened before the change"). */
  opened?: string;
  /** "the change" / "the reset": what the cut-off compared with. */
  change?: string;
}): Promise<RevocationProof> {
  const { role, old, cutOff, logins } = options;
  const opened = options.opened ?? `opened before ${options.change ?? 'the change'}`;
  const cut = cutOff
    ? `; ${cutOff.cut.length} session(s) ${opened} terminated${cutOff.survived.length ? `, ${cutOff.survived.length} still open` : ''}`
    : '';
  const extra = cutOff ? { cut_off: cutOff.cut, survived: cutOff.survived, grants: cutOff.grants } : {};
  // Honest evidence: with no current value nothing was tried, so nothing was proven refused.
  if (!old)
    return {
      tried: false,
      rejected: false,
      detail: `not tried: no current value was given (${options.left ?? `${role} now accepts only the new password`}, but nothing proved the old one refused)${cut}`,
      ...extra,
    };
  let code = '28P01';
  for (const user of logins ?? [role]) {
    const as = logins ? ` as ${user}` : '';
    const login = await tryLogin(options.login(old, user));
    if (login.ok)
      return {
        tried: true,
        rejected: false,
        detail: logins ? `the old password still logs in${as}` : `the old password of ${role} still logs in`,
        ...extra,
      };
    if (!login.rejected)
      return { tried: true, rejected: false, detail: `the old password could not be tried${as}: ${login.message}`, ...extra };
    code = login.code ?? code;
  }
  const refused = logins
    ? `old password refused with SQLSTATE ${code} as ${logins.join(' and ')}; ${options.refusedNote}`
    : `old password refused with SQLSTATE ${code}`;
  return { tried: true, rejected: true, detail: `${refused}${cut}`, ...extra };
}
