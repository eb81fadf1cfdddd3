import type pg from 'pg';
import type { Runtime } from '../runtime/runtime.js';
import { untilDeadline } from '../runtime/deadline.js';
import type { Secret } from '../secret/secret.js';
import { RotationError } from '../errors/errors.js';
import { connect, pgError, tryLogin } from './connect.js';
import { cutOffSessionsBefore, type CutOff } from './sessions.js';

/*
 * Logins as the rotated user itself. Every Postgres method asks whether the current value logs
 * in; for a password a provider's API changed (digitalocean-reset, supabase-db-password) there is
 * no admin session on the server, so the other proofs are made as the user too, with the new value.
 */

/**
 * Whether `current` logs in as the user (false when none is given or the server refuses it with
 * 28P01). Anything else (unreachable, TLS) is no answer: it throws, with `reach` as the hint (a
 * TLS refusal's own message already says what to do).
 */
export async function currentLogsIn(
  current: Secret | undefined,
  login: (value: Secret) => pg.ClientConfig,
  where: string,
  reach: string,
): Promise<boolean> {
  if (!current) return false;
  const result = await tryLogin(login(current));
  if (result.ok || result.rejected) return result.ok;
  throw new RotationError(`cannot test the current password of ${where}: ${result.message}`, { hint: result.tls ? undefined : reach });
}

/**
 * Logs in with the new value until it works (a provider may take a moment to apply it) and reads
 * the server's clock then: the moment from which sessions opened with the old value are stale.
 */
export async function firstLoginClock(
  runtime: Runtime,
  login: pg.ClientConfig,
  what: string,
  seconds: number,
): Promise<{ ok: true; value: Date } | { ok: false; why: string }> {
  return untilDeadline(runtime, seconds, async () => {
    try {
      const db = await connect(login, what);
      try {
        return { ok: true, value: (await db.query<{ now: Date }>('SELECT now()')).rows[0].now };
      } finally {
        await db.end().catch(() => undefined);
      }
    } catch (error) {
      return { ok: false, why: (error as Error).message };
    }
  });
}

/**
 * On exposure: the user's sessions opened before the change are ended from a new session with
 * the new value (a role may end its own). `spare`: the tool's own sessions (the rotation lock,
 * opened with the old value before the change), where nothing else runs.
 */
export async function cutOffOwnSessions(
  login: pg.ClientConfig,
  user: string,
  changedAt: Date,
  spare: number[],
  what: string,
): Promise<CutOff> {
  const db = await connect(login, what);
  try {
    return await cutOffSessionsBefore(db, user, changedAt, spare);
  } catch (error) {
    throw pgError(`terminating old sessions of ${user}`, error);
  } finally {
    await db.end().catch(() => undefined);
  }
}
