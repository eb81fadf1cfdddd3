import type { Runtime } from '../runtime/runtime.js';
import { httpError, networkError, parseJson, runtimeErrorOptions, type StatusHints } from './http-error.js';
import { runtimeRetry, withRetry } from './retry.js';
import { REQUEST_TIMEOUT_MS, runtimeRequest } from './request.js';

export interface CallOptions {
  method?: string;
  headers?: Record<string, string>;
  /** Sent as is (a string) or as JSON. */
  body?: unknown;
  /** Per try; REQUEST_TIMEOUT_MS unless the caller knows better (a user's webhook, say). */
  timeoutMs?: number;
  /** What to tell a person per status, replacing the generic hint. */
  hints?: StatusHints;
  /** Removes values that must not reach a message (a URI with a password, say), before the run's own scrubber. */
  scrub?: (text: string) => string;
  /**
   * Tries in all for transient failures (5xx, 429, network); default 4. 1 for a call that is not
   * safe to send twice (a POST that creates): its caller decides what a retry must check first.
   */
  attempts?: number;
}

export interface CallResult {
  status: number;
  headers: Headers;
  text: string;
  json: unknown;
}

/**
 * One HTTP call through runtime.fetch: a non-2xx answer becomes a RotationError that quotes the
 * server's own message (scrubbed) and a hint per status; 5xx, 429 and network failures are
 * retried with backoff, waiting as long as Retry-After asks on the run's clock, never past its
 * deadline. An empty 2xx body gives `json: undefined`.
 */
export async function jsonCall(runtime: Runtime, what: string, url: string, options: CallOptions): Promise<CallResult> {
  // The adapter's own values, then the run's scrubber: every message is scrubbed before it is cut.
  const errorOptions = runtimeErrorOptions(runtime, options.scrub);
  const scrub = errorOptions.scrub!;
  const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
  let body: string | undefined;
  if (options.body !== undefined) {
    body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
    headers['content-type'] ??= 'application/json';
  }
  return withRetry(
    async () => {
      let response: Response;
      let text: string;
      try {
        response = await runtimeRequest(runtime, url, {
          method: options.method ?? 'GET',
          headers,
          body,
          timeoutMs: options.timeoutMs ?? REQUEST_TIMEOUT_MS,
        });
        text = await response.text();
      } catch (error) {
        throw networkError(what, new Error(scrub(describeCause(error))));
      }
      if (response.status < 200 || response.status > 299) {
        throw httpError(scrub(what), response.status, response.headers, text, { hints: options.hints, ...errorOptions });
      }
      return { status: response.status, headers: response.headers, text, json: parseJson(text) };
    },
    { ...runtimeRetry(runtime), attempts: options.attempts, maxDelayMs: 10_000 },
  );
}

function describeCause(error: unknown): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) return 'timed out';
  return error instanceof Error ? error.message : String(error);
}
