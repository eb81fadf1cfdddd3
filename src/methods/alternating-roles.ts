import type { AdapterContext } from '../adapters/context.js';
import type { PostgresSystem } from '../policy/types.js';
import { RotationError } from '../errors/errors.js';
import type { Secret } from '../secret/secret.js';
import { generatePassword } from '../secret/generate.js';
import { connect, describeTarget, pgError } from '../postgres/connect.js';
import { currentLogsIn } from '../postgres/own-login.js';
import { cutOffSessionsBefore, exposureNote, mergeCutOffs, type CutOff } from '../postgres/sessions.js';
import { proveOldPasswordRefused, roleAdmin, sqlName } from './postgres-role.js';
import { clusterSystemOf } from '../policy/cluster-link.js';
import { loginsOf } from '../policy/logins.js';
import type { CredentialMethod, PreflightReport, RevocationProof, StagedChange, Verified } from './method.js';

interface LoginRow {
  rolname: string;
  rolcanlogin: boolean;
  rolsuper: boolean;
  /** Member of the group with its privileges (INHERIT). */
  inherits: boolean;
  /** May SET ROLE to the group (PG16 grant option SET). */
  may_set: boolean;
  /** `ALTER ROLE login SET role = group` is in place: objects it creates belong to the group. */
  runs_as_group: boolean;
  admin: boolean;
}

/**
 * Zero-downtime Postgres rotation (AWS's "alternating users" strategy): a NOLOGIN group role owns
 * the objects and two login roles, each running as the group, take turns. The run sets a new
 * password on the idle login (it serves nobody, so the change is committed at once), the engine
 * stores user and password everywhere, refreshes the consumers and checks health through the
 * idle login, and only then does the previously active login get a fresh random password that is
 * stored nowhere. Consumers that have not switched yet keep logging in until that last step.
 *
 * Before the revoke the active login is never touched, so a failure anywhere leaves it working and
 * stored: back-out only puts the old user and password back into the stores already written.
 */
export function alternatingRoles(ctx: AdapterContext): CredentialMethod {
  const system = ctx.system as PostgresSystem;
  const group = ctx.credential.role;
  const logins = loginsOf(ctx.credential);
  const pg = roleAdmin(ctx, `group ${group}`);
  const { where } = pg;
  const loginAs = (password: Secret, user: string) => pg.loginAs(user, password);
  /** The login `current` logs in as (undefined: neither, the run proceeds on admin authority). */
  let active: string | undefined;
  let idle = logins[0];
  /** Server time when the idle login got its new password. */
  let switchedAt: Date | undefined;
  const other = (login: string) => (login === logins[0] ? logins[1] : logins[0]);

  return {
    name: `alternating-roles (${where}, logins ${logins.join(' / ')})`,
    generates: 'client',
    user: () => idle,
    currentUser: () => active ?? other(idle),

    async preflight(current): Promise<PreflightReport> {
      const notes: string[] = [];
      if (logins[0] === logins[1] || logins.includes(group)) {
        throw new RotationError(
          `credentials.${ctx.credential.id}.logins: expected two logins other than each other and the group role ${group}`,
        );
      }
      const adminNotes: string[] = [];
      const me = await pg.adminRole(adminNotes);
      const ident = sqlName;
      const provisionHint = `credential-rotation provision ${ctx.credential.id} --apply sets it up or repairs it (without --apply it prints the SQL)`;
      if ([group, ...logins].includes(me.user)) {
        throw new RotationError(`the admin connection logs in as ${me.user}, which this rotation changes: it would lock itself out`, {
          hint: 'use a separate admin role (see docs/database-admin.md); nothing was changed',
          code: 'NOT_ALLOWED',
        });
      }
      const [groupRow] = await pg.query<{ rolcanlogin: boolean }>('SELECT rolcanlogin FROM pg_roles WHERE rolname = $1', [group]);
      if (!groupRow)
        throw new RotationError(`group role ${JSON.stringify(group)} does not exist on ${describeTarget(system.adminUrl)}`, {
          hint: provisionHint,
        });
      if (groupRow.rolcanlogin) {
        throw new RotationError(
          `group role ${group} can log in: with alternating-roles it must be NOLOGIN (a password of its own would never be rotated)`,
          {
            hint: `once no consumer logs in as ${group}: ALTER ROLE ${ident(group)} NOLOGIN (docs/alternating-roles.md)`,
          },
        );
      }
      const rows = await pg.query<LoginRow>(
        `SELECT r.rolname, r.rolcanlogin, r.rolsuper,
                pg_has_role(r.oid, g.oid, 'USAGE') AS inherits, pg_has_role(r.oid, g.oid, 'SET') AS may_set,
                coalesce(r.rolconfig && ARRAY['role=' || g.rolname, 'role=' || quote_ident(g.rolname)], false) AS runs_as_group,
                pg_has_role(current_user, r.oid, 'MEMBER WITH ADMIN OPTION') AS admin
           FROM pg_roles r, pg_roles g WHERE r.rolname = ANY($1) AND g.rolname = $2`,
        [logins, group],
      );
      for (const login of logins) {
        const row = rows.find((r) => r.rolname === login);
        const l = ident(login);
        const g = ident(group);
        if (!row)
          throw new RotationError(`login role ${JSON.stringify(login)} does not exist on ${describeTarget(system.adminUrl)}`, {
            hint: provisionHint,
          });
        if (!row.rolcanlogin)
          throw new RotationError(`login role ${login} cannot log in (NOLOGIN)`, { hint: `${provisionHint}, or ALTER ROLE ${l} LOGIN` });
        if (row.rolsuper)
          throw new RotationError(`login role ${login} is a superuser: an application login must not be, and the admin may not change it`, {
            hint: `as a superuser: ALTER ROLE ${l} NOSUPERUSER (${provisionHint}, with a superuser's admin_url)`,
          });
        if (!row.inherits || !row.may_set) {
          throw new RotationError(`login role ${login} is not a member of ${group} with its privileges`, {
            hint: `${provisionHint}, or GRANT ${g} TO ${l} WITH INHERIT TRUE, SET TRUE`,
          });
        }
        if (!row.runs_as_group) {
          throw new RotationError(
            `login role ${login} does not run as ${group}: objects it creates would not be usable through the other login`,
            { hint: `${provisionHint}, or ALTER ROLE ${l} SET role = ${g}` },
          );
        }
        pg.requireMayChange(me, row, 'login role');
      }
      // On a DigitalOcean cluster: a pool pinned to a login cannot follow the switch (refused).
      // The survey's code loads only for a server the policy links to a DigitalOcean cluster.
      if (clusterSystemOf(ctx.policy, ctx.system))
        notes.push(
          ...(await (await import('../digitalocean/copies.js')).digitalOceanCopies(ctx, { method: 'alternating-roles', group, logins })),
        );
      // The cluster-wide lock (postgres/lock.ts) on both logins, once the admin may change them;
      // on exposure, what the cut-off will lack is said up front (it never blocks the change).
      await pg.lock([...logins]);
      if (ctx.reason === 'exposure') {
        for (const login of logins) {
          const note = await exposureNote(await pg.client(), login).catch((error: unknown) => {
            throw pgError(`preflight query on ${where}`, error);
          });
          if (note.includes('lacks')) notes.push(note);
        }
      }
      notes.push(...adminNotes);

      const sessions = await openSessions();
      active = current ? await whoLogsIn(current, sessions) : undefined;
      idle = active ? other(active) : leastUsed(sessions);
      notes.push(
        active
          ? `${active} is in use (current logs in as it): the new password goes to ${idle}`
          : `neither login accepts current: the new password goes to ${idle} (the one with fewer open sessions), and ${other(idle)} is revoked after health`,
      );
      if (ctx.reason === 'exposure')
        notes.push(`exposure: sessions of ${other(idle)} (and of ${idle} opened before the switch) will be terminated`);
      return { currentWorks: active !== undefined, notes, user: active };
    },

    async generate(chosen): Promise<StagedChange> {
      if (!chosen) throw new Error('alternating-roles needs a generated value');
      switchedAt = await pg.setPassword(idle, chosen);
      const previous = other(idle);
      return {
        value: chosen,
        reversible: true,
        previousUser: previous,
        detail: `new value generated and set on the idle login ${idle} (committed: it serves nobody yet); ${previous} untouched`,
        async apply() {
          return `${idle} has held the new password since step 1 (it served nobody); ${previous} untouched until step 7`;
        },
        async abort() {
          // Nothing to back out: the active login was never touched. The idle login keeps a
          // password that serves nobody (a store whose restore failed may still hold it, and work).
        },
      };
    },

    async verify(value): Promise<Verified> {
      const db = await connect(loginAs(value, idle), `login as ${idle} with the new password`);
      try {
        const { rows } = await db.query<{ session_user: string; current_user: string }>('SELECT session_user, current_user');
        if (rows[0].current_user !== group) throw new RotationError(`${idle} logs in but runs as ${rows[0].current_user}, not ${group}`);
        return { detail: `${idle} logs in with the new password and runs as ${group}` };
      } finally {
        await db.end().catch(() => undefined);
      }
    },

    async revoke(old, reason): Promise<RevocationProof> {
      const previous = other(idle);
      // A fresh random password that is never stored and never leaves this function.
      const revokedAt = await pg.setPassword(previous, generatePassword());
      let cutOff: CutOff | undefined;
      if (reason === 'exposure') {
        const db = await pg.client();
        cutOff = mergeCutOffs(
          await cutOffSessionsBefore(db, previous, revokedAt, pg.lockPids()),
          await cutOffSessionsBefore(db, idle, switchedAt ?? revokedAt, pg.lockPids()),
        );
      }
      return proveOldPasswordRefused({
        role: group,
        old,
        login: loginAs,
        logins,
        cutOff,
        opened: 'opened with an old password',
        left: `${previous} now has a password stored nowhere`,
        refusedNote: `${previous} has a fresh password stored nowhere`,
      });
    },

    close: () => pg.close(),
  };

  /**
   * The login `value` logs in as; undefined when it logs in as neither. The login with more open
   * sessions (the one in use, as a rule) is tried first, so the usual run adds no refused login
   * (a "password authentication failed" line) to the server's log.
   */
  async function whoLogsIn(value: Secret, sessions: (login: string) => number): Promise<string | undefined> {
    const order = sessions(logins[1]) > sessions(logins[0]) ? [logins[1], logins[0]] : [...logins];
    for (const login of order) {
      const hint = 'the logins must be able to connect to the admin URL’s host and database';
      if (await currentLogsIn(value, (password) => loginAs(password, login), `login ${login}`, hint)) return login;
    }
    return undefined;
  }

  /** Without a working `current`: the login with fewer open sessions is taken as the idle one. */
  function leastUsed(sessions: (login: string) => number): string {
    return sessions(logins[1]) < sessions(logins[0]) ? logins[1] : logins[0];
  }

  /** How many sessions each login has open now (pg_stat_activity: any role may count them). */
  async function openSessions(): Promise<(login: string) => number> {
    const rows = await pg.query<{ usename: string; n: number }>(
      'SELECT usename, count(*)::int AS n FROM pg_stat_activity WHERE usename = ANY($1) GROUP BY usename',
      [logins],
    );
    return (login) => rows.find((r) => r.usename === login)?.n ?? 0;
  }
}
