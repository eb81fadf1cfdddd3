// The one module for time limits: the run's overall deadline (deadlineFrom, boundedRuntime) and
// polling within it (untilDeadline), and the error a passed deadline raises.
import type { Runtime } from './runtime.js';
import { RotationError } from '../errors/errors.js';

/** The default overall deadline of one run, when the action input or CLI option does not set one. */
export const DEFAULT_DEADLINE_MINUTES = 30;
/** setTimeout's limit; a deadline further away than this needs no timer. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The deadline for a run that starts now, from minutes given as text (an input) or a number. */
export function deadlineFrom(minutes: string | number | undefined, now: number): number {
  const value = minutes === undefined || minutes === '' ? DEFAULT_DEADLINE_MINUTES : Number(minutes);
  if (!Number.isFinite(value) || value <= 0)
    throw new RotationError(`deadline-minutes: expected a number of minutes greater than 0, got '${minutes}'`, { code: 'USAGE' });
  return now + value * 60_000;
}

/**
 * The runtime the adapters of one run get: every wait goes through `sleep`, which refuses a wait
 * that would end past the deadline, and `signal` aborts at the deadline, so a hung request or a
 * poll that would run forever ends with a clear message. Without a deadline the runtime is unchanged.
 */
export function boundedRuntime(runtime: Runtime): Runtime {
  const { deadline } = runtime;
  if (deadline === undefined) return runtime;
  const remaining = Math.max(0, deadline - runtime.now().getTime());
  const signals = [runtime.signal, remaining <= MAX_TIMER_MS ? AbortSignal.timeout(remaining) : undefined].filter(
    (s): s is AbortSignal => s !== undefined,
  );
  return {
    ...runtime,
    signal: signals.length > 0 ? AbortSignal.any(signals) : undefined,
    sleep: async (ms: number) => {
      if (runtime.signal?.aborted) throw new RotationError('the run was cancelled', { code: 'CANCELLED' });
      if (runtime.now().getTime() + ms > deadline) throw deadlineError(runtime, `a wait of ${Math.ceil(ms / 1000)} s`);
      await runtime.sleep(ms);
    },
  };
}

/**
 * Polls: tries `attempt` every `intervalMs` until it returns a result or `timeoutSeconds` (a local
 * limit of this wait, e.g. a probe's timeout_seconds) pass; returns the last failure message.
 * Health checks and methods use it: a consumer that has just restarted may need a few seconds.
 * Each wait goes through runtime.sleep, which never passes the run's overall deadline (above).
 */
export async function untilDeadline<T>(
  runtime: Runtime,
  timeoutSeconds: number,
  attempt: () => Promise<{ ok: true; value: T } | { ok: false; why: string }>,
  intervalMs = 2_000,
): Promise<{ ok: true; value: T } | { ok: false; why: string; tries: number }> {
  const deadline = runtime.now().getTime() + timeoutSeconds * 1000;
  for (let tries = 1; ; tries++) {
    const result = await attempt();
    if (result.ok) return result;
    if (runtime.now().getTime() + intervalMs > deadline || runtime.signal?.aborted) return { ...result, tries };
    await runtime.sleep(intervalMs);
  }
}

/** Fails once the run's overall deadline has passed (Runtime.deadline, ms since the epoch). */
export function checkDeadline(runtime: Runtime, where: string): void {
  if (runtime.deadline !== undefined && runtime.now().getTime() >= runtime.deadline) throw deadlineError(runtime, where);
}

export function deadlineError(runtime: Runtime, where: string): RotationError {
  const at = runtime.deadline === undefined ? 'its deadline' : new Date(runtime.deadline).toISOString();
  return new RotationError(`the run's deadline (${at}) passed at ${where}: stopped instead of waiting longer`, {
    code: 'DEADLINE',
    hint: 'raise the deadline (input deadline-minutes, CLI --deadline-minutes) if this much waiting is expected; otherwise find what was slow in the log, then rerun',
  });
}
