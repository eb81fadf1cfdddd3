import type pg from 'pg';
import type { AdapterFactory } from '../adapters/context.js';
import { RotationError } from '../errors/errors.js';
import type { PostgresSystem } from '../policy/types.js';
import { connect, connectionConfig, loginConfig } from '../postgres/connect.js';
import { holdsRotationLockSql } from '../postgres/lock.js';
import { systemCa } from '../adapters/system-ca.js';
import { loginsOf } from '../policy/logins.js';
import type { HealthProbe } from './probe.js';
import { untilDeadline } from '../runtime/deadline.js';
import { optionsOf } from '../adapters/options.js';

interface Session {
  pid: number;
  application_name: string;
  client_addr: string | null;
  backend_start: Date;
}

/**
 * "Confirm no app container references the old credential": once the consumers were refreshed,
 * no session of the role opened before the change remains, other than the tool's own rotation lock. Sessions
 * keep working after a password change, so a container that was not restarted shows up here.
 * Retried for grace_seconds (default 120), the time old containers take to drain.
 *
 * The cut-off is the server's clock when the new value first logged in (the method's verify step
 * says so, and the engine passes it here).
 * Without one (alter-role), it is the run's start, mapped onto the server's clock.
 */
export const noStaleSessions: AdapterFactory<HealthProbe> = (spec, ctx) => {
  const { runtime } = ctx;
  const o = optionsOf(spec, runtime);
  const role = o.optionalString('role') ?? ctx.credential.role;
  // alternating-roles: the group never logs in; the stale sessions are those of the login the run
  // switched away from (the one not holding the new value).
  const alternating = o.optionalString('role') === undefined && ctx.credential.method === 'alternating-roles';
  const watched = () => (alternating ? (loginsOf(ctx.credential).find((l) => l !== ctx.user?.()) ?? role) : role);
  const grace = o.number('grace_seconds', 120);
  const runStart = runtime.now().getTime();
  const label = `no-stale-sessions of role ${role}`;

  return {
    label,
    async probe(value, change) {
      let config: pg.ClientConfig;
      if (change) config = loginConfig(change.login, value);
      else if (ctx.system.type === 'postgres') config = connectionConfig((ctx.system as PostgresSystem).adminUrl, undefined, systemCa(ctx));
      else throw new RotationError(`${spec.path}: the method of ${ctx.credential.id} recorded no change to compare sessions with`);

      let seen: Session[] = [];
      // Fixed at the first look: recomputed on each look, it would move with every grace wait
      // whenever the tool's clock and the server's do not advance together (a clock step, a fake clock).
      let cutoff = change?.changedAt;
      const result = await untilDeadline(
        runtime,
        grace,
        async () => {
          const db = await connect(config, `${label}: connection as ${String(config.user)}`);
          try {
            cutoff ??= await serverTimeAt(db, runStart, runtime.now().getTime());
            const { rows } = await db.query<Session>(
              // The tool's own session of the role is its rotation lock (digitalocean-reset takes it as
              // the user), known by the lock it holds: application_name is the client's to set, and a
              // session opened with the old password may well call itself credential-rotation.
              `SELECT a.pid, a.application_name, a.client_addr::text AS client_addr, a.backend_start FROM pg_stat_activity a
                WHERE a.usename = $1 AND (a.backend_start < $2 OR a.backend_start IS NULL) AND a.pid <> pg_backend_pid()
                  AND NOT EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolname = $1 AND ${holdsRotationLockSql('a.pid', 'r.oid')})
                ORDER BY a.backend_start`,
              [watched(), cutoff],
            );
            // Without the right to read other roles' statistics the start times are NULL, and the
            // check would pass without having seen anything.
            if (rows.some((r) => r.backend_start === null)) {
              throw new RotationError(`${label}: the connection as ${String(config.user)} cannot see when sessions of ${role} started`, {
                hint: `grant it the statistics it needs (GRANT pg_read_all_stats TO ${String(config.user)}) or remove this check`,
              });
            }
            seen = rows;
            if (rows.length === 0)
              return { ok: true as const, value: `no session of ${role} opened before ${cutoff.toISOString()} remains` };
            return {
              ok: false as const,
              why: `${rows.length} session(s) of ${alternating ? `login ${watched()}` : role} opened before the rotation remain: ${rows.slice(0, 5).map(describe).join('; ')}`,
            };
          } finally {
            await db.end().catch(() => undefined);
          }
        },
        5_000,
      );
      if (result.ok) return result.value;
      throw new RotationError(`${label}: ${result.why}`, {
        hint: `a consumer still runs on the old password: restart it (or end the sessions: SELECT pg_terminate_backend(pid) for pids ${seen.map((s) => s.pid).join(', ')})`,
      });
    },
  };
};

function describe(s: Session): string {
  return `pid ${s.pid} application '${s.application_name}'${s.client_addr ? ` from ${s.client_addr}` : ''} since ${s.backend_start.toISOString()}`;
}

/** A moment of the tool's clock on the server's clock, through the offset between them now. */
async function serverTimeAt(db: pg.Client, moment: number, toolNow: number): Promise<Date> {
  const serverNow = (await db.query<{ now: Date }>('SELECT clock_timestamp() AS now')).rows[0].now.getTime();
  return new Date(serverNow - (toolNow - moment));
}
