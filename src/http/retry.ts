import { RotationError } from '../engine/errors.js';

export interface RetryOptions {
  /** Tries in all, the first included. */
  attempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** No wait may end after this moment (ms since epoch). */
  deadline?: number;
  sleep?: (ms: number) => Promise<void>;
  /** Called before each wait, e.g. to log it. */
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
}

/**
 * Retries transient failures (RotationError.retryable: network errors, timeouts, 5xx, 429) with
 * exponential backoff and full jitter, honouring a Retry-After the server gave. Other errors, and
 * any 4xx but 429, are thrown at once. Every wait is bounded by maxDelayMs and the deadline.
 */
export async function withRetry<T>(fn: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const attempts = options.attempts ?? 4;
  const base = options.baseDelayMs ?? 500;
  const max = options.maxDelayMs ?? 30_000;
  const sleep = options.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)));
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      const retryable = error instanceof RotationError && error.retryable;
      if (!retryable || attempt >= attempts) throw error;
      const hinted = (error as RotationError & { retryAfterMs?: number }).retryAfterMs;
      let delay = hinted ?? Math.random() * Math.min(max, base * 2 ** (attempt - 1));
      delay = Math.min(delay, max);
      if (options.deadline !== undefined && Date.now() + delay > options.deadline) throw error;
      options.onRetry?.(error, attempt, delay);
      await sleep(delay);
    }
  }
}

/** Milliseconds from a Retry-After header (seconds or an HTTP date), if there is one. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
