import { RotationError } from '../errors/errors.js';
import type { Runtime } from '../runtime/runtime.js';

export interface RetryOptions {
  /** Tries in all, the first included. */
  attempts?: number;
  baseDelayMs?: number;
  /** The longest backoff between two tries. */
  maxDelayMs?: number;
  /**
   * The longest wait a server's Retry-After (or rate-limit reset) may ask for. A longer one is not
   * waited out: the error is thrown at once, saying when to try again.
   */
  maxHintedDelayMs?: number;
  /** No wait may end after this moment (ms since epoch, on `now`'s clock). */
  deadline?: number;
  /** The clock the deadline and a server's retry date are read on (the run's: runtime.now). */
  now: () => number;
  /** Every wait (the run's: runtime.sleep, bounded by its deadline). */
  sleep: (ms: number) => Promise<void>;
  /** Called before each wait, e.g. to log it. */
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
}

/** Rate limits are answered by waiting this long at most per try (GitHub's secondary limit asks for 60 s). */
export const MAX_HINTED_DELAY_MS = 120_000;

/**
 * Retries transient failures (RotationError.retryable: network errors, timeouts, 5xx, 429, and
 * GitHub's rate-limit 403) with exponential backoff and full jitter, honouring the server's
 * Retry-After. Other errors, and every other 4xx, are thrown at once. Every wait is bounded: by
 * maxDelayMs for backoff, maxHintedDelayMs for a server's hint, and by the deadline.
 */
export async function withRetry<T>(fn: () => Promise<T>, options: RetryOptions): Promise<T> {
  const attempts = options.attempts ?? 4;
  const base = options.baseDelayMs ?? 500;
  const max = options.maxDelayMs ?? 30_000;
  const maxHinted = options.maxHintedDelayMs ?? MAX_HINTED_DELAY_MS;
  const { now, sleep } = options;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      const retryable = error instanceof RotationError && error.retryable;
      if (!retryable || attempt >= attempts) throw error;
      const delay = retryDelay(error, attempt, { base, max, maxHinted });
      if (delay === undefined) throw error;
      if (options.deadline !== undefined && now() + delay > options.deadline) throw error;
      options.onRetry?.(error, attempt, delay);
      await sleep(delay);
    }
  }
}

/** The wait before the next try, or undefined when the server asks for longer than we wait. */
export function retryDelay(error: unknown, attempt: number, bounds: { base: number; max: number; maxHinted: number }): number | undefined {
  const hinted = (error as { retryAfterMs?: number }).retryAfterMs;
  if (hinted !== undefined) return hinted <= bounds.maxHinted ? hinted : undefined;
  // Full jitter (AWS architecture blog): a random wait up to the exponential bound, so many runs
  // that failed together do not retry together.
  return Math.random() * Math.min(bounds.max, bounds.base * 2 ** (attempt - 1));
}

/** Milliseconds from a Retry-After header (seconds or an HTTP date), if there is one. */
export function parseRetryAfter(value: string | null | undefined, now: number): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * The retry options of a call made for a run: its clock, its sleep (which refuses a wait past the
 * run's deadline with the deadline's own message), and each retry logged as a warning.
 */
export function runtimeRetry(runtime: Pick<Runtime, 'now' | 'sleep' | 'reporter'>): RetryOptions {
  return {
    now: () => runtime.now().getTime(),
    sleep: runtime.sleep,
    onRetry: (error, attempt, delayMs) =>
      runtime.reporter.warning(
        `${error instanceof Error ? error.message : String(error)}; retry ${attempt} in ${Math.ceil(delayMs / 1000)}s`,
      ),
  };
}
