import type pg from 'pg';
import type { Runtime } from '../runtime/runtime.js';
import { untilDeadline } from '../runtime/deadline.js';
import { tryLogin } from './connect.js';

/** A health check through a pooler that caches credentials: how long it took to accept the new value. */
export interface PoolerSettle {
  /** Whether the pooler accepted the new value within the window. */
  accepted: boolean;
  /** Seconds from the first login through the pooler to the one it accepted (or to giving up). */
  waited_seconds: number;
  /** Logins it refused (28P01, or the connection closed) before it accepted, or in all. */
  refusals: number;
  /** The bounded window the check waited in (settle_seconds). */
  window_seconds: number;
}

/**
 * Logins through a connection pooler that caches credentials (Supabase's Supavisor).
 *
 * Supavisor keeps the roles' SCRAM secrets in a cache and refreshes it when a login fails, at most
 * 3 times a minute per pool (supabase/supavisor PR #728); a password change can still strand one
 * fresh upstream connection with 28P01 (supabase/supavisor#1142). Supabase documents the first
 * pooled logins after a change failing with 28P01 as expected, to be retried "leaving a couple of
 * seconds between attempts" (supabase/supabase PRs #50122, #50510), and blocks an address that
 * fails too often (its "Circuit breaker open" troubleshooting page). So a pooled login is retried,
 * a few seconds apart, for a bounded window: a minute covers the three refreshes a minute allows.
 * Sources: docs/supabase.md.
 */
export const DEFAULT_SETTLE_SECONDS = 60;
/** Seconds apart: Supabase asks for "a couple of seconds" between attempts, and its circuit breaker counts failures. */
export const SETTLE_INTERVAL_MS = 3_000;

/** A host of Supabase's shared pooler (aws-0-<region>.pooler.supabase.com), where logins are pooled. */
export function isSupabasePoolerHost(host: string | undefined): boolean {
  return /\.pooler\.supabase\.com$/i.test(host ?? '');
}

/** Whether logins to `host` go through a pooler: as configured, else by Supabase's pooler host name. */
export function throughPooler(host: string | undefined, configured: unknown): boolean {
  return typeof configured === 'boolean' ? configured : isSupabasePoolerHost(host);
}

export type PooledLogin = { ok: true; settle: PoolerSettle } | { ok: false; why: string; settle: PoolerSettle };

/**
 * Logs in through a pooler until it accepts or `windowSeconds` pass, and says how long it took
 * and how many logins it refused first (for the evidence). Every failure is retried in the
 * window: a pooler refreshing its cache answers 28P01, one restarting a pool may close the socket.
 */
export async function loginThroughPooler(runtime: Runtime, config: pg.ClientConfig, windowSeconds: number): Promise<PooledLogin> {
  const started = runtime.now().getTime();
  let refusals = 0;
  const result = await untilDeadline(
    runtime,
    windowSeconds,
    async () => {
      const login = await tryLogin(config);
      if (login.ok) return { ok: true as const, value: undefined };
      refusals++;
      return { ok: false as const, why: login.message };
    },
    SETTLE_INTERVAL_MS,
  );
  const waited = Math.round((runtime.now().getTime() - started) / 100) / 10;
  const settle: PoolerSettle = { accepted: result.ok, waited_seconds: waited, refusals, window_seconds: windowSeconds };
  return result.ok ? { ok: true, settle } : { ok: false, why: result.why, settle };
}

/** One line for a person: how the pooler took the new value. */
export function describeSettle(settle: PoolerSettle): string {
  if (!settle.accepted)
    return `the pooler refused the new value for ${settle.waited_seconds} s (${settle.refusals} logins, window ${settle.window_seconds} s)`;
  if (settle.refusals === 0) return 'the pooler accepted the new value at the first login';
  return `the pooler accepted the new value after ${settle.waited_seconds} s (${settle.refusals} login(s) refused first, window ${settle.window_seconds} s)`;
}
