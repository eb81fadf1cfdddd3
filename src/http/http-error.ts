import { RotationError } from '../errors/errors.js';
import { parseRetryAfter } from './retry.js';
import { shorten } from '../secret/scrubber.js';
import type { Runtime } from '../runtime/runtime.js';

/** The longest server message an HttpError keeps (scrubbed first), for callers that read it. */
const MAX_SERVER_MESSAGE = 300;

/** What to tell the user for a given HTTP status of one call (replaces the generic hint). */
export type StatusHints = Partial<Record<number, string>>;

/**
 * The one error of a failed HTTP call, whatever client made it (jsonCall, Octokit): the
 * status, how long the server asks us to wait, and a hint a person can act on. Its message names
 * the call and quotes only the server's own short message, never the request.
 */
export class HttpError extends RotationError {
  readonly status: number;
  /** The wait the server asked for (Retry-After, a rate-limit reset), if any. */
  readonly retryAfterMs?: number;
  /** The server's own words (scrubbed), for callers that tell apart two answers of one status. */
  readonly serverMessage?: string;

  constructor(
    message: string,
    options: { status: number; retryAfterMs?: number; serverMessage?: string; hint?: string; retryable: boolean },
  ) {
    super(message, { hint: options.hint, retryable: options.retryable, code: `HTTP_${options.status}` });
    this.name = 'HttpError';
    this.status = options.status;
    this.retryAfterMs = options.retryAfterMs;
    this.serverMessage = options.serverMessage;
  }
}

export interface HttpErrorOptions {
  /** Per-status hints of this call, over the generic ones. */
  hints?: StatusHints;
  /** The clock a Retry-After date or rate-limit reset is read on (the runtime's). */
  now: () => number;
  /**
   * Removes values that must not reach a message: the run's scrubber (runtime.reporter.scrub), with
   * an adapter's own values. Every caller passes it: the message is cut after scrubbing, and a
   * scrubber that runs later sees only the cut.
   */
  scrub?: (text: string) => string;
}

/**
 * The clock and scrubber of an HTTP error from the run's runtime: its one scrubber, after the
 * adapter's own values (`scrub`, e.g. a Superset URI), so the message is cut only once both ran.
 */
export function runtimeErrorOptions(
  runtime: Pick<Runtime, 'now' | 'reporter'>,
  scrub?: (text: string) => string,
): Pick<HttpErrorOptions, 'now' | 'scrub'> {
  return { now: () => runtime.now().getTime(), scrub: (text) => runtime.reporter.scrub(scrub ? scrub(text) : text) };
}

/**
 * Turns an HTTP failure into an HttpError. `what` names the call, e.g. "GitHub: write secret
 * ODOO_DB_PASSWORD in acme/ops". 429 and 5xx are retryable, and a 403 that says when to retry
 * (GitHub's secondary rate limit); the rest not.
 */
export function httpError(
  what: string,
  status: number,
  headers: Headers | Record<string, string | undefined>,
  body: string | undefined,
  options: HttpErrorOptions,
): HttpError {
  const get = (name: string) =>
    (headers instanceof Headers ? headers.get(name) : (headers[name] ?? headers[name.toLowerCase()])) ?? undefined;
  const { now } = options;
  const scrub = options.scrub ?? ((t: string) => t);
  // Scrubbed whole, then cut (secret/scrubber.ts shorten): a cut first leaves part of a secret.
  const said = body === undefined ? undefined : shorten(serverMessage(body), MAX_SERVER_MESSAGE, scrub);
  // GitHub's secondary rate limit may come as a bare 403; its docs say to wait at least a minute.
  const secondaryLimit = status === 403 && /secondary rate limit/i.test(said ?? '');
  // GitHub names its limit headers x-ratelimit-*, DigitalOcean ratelimit-*: none left, wait until the reset.
  const resetAfter = (prefix: string) =>
    get(`${prefix}-remaining`) === '0' && get(`${prefix}-reset`) ? Math.max(0, Number(get(`${prefix}-reset`)) * 1000 - now()) : undefined;
  const retryAfterMs =
    parseRetryAfter(get('retry-after'), now()) ??
    resetAfter('x-ratelimit') ??
    resetAfter('ratelimit') ??
    (secondaryLimit ? 60_000 : undefined);
  const retryable = status === 429 || status >= 500 || (status === 403 && retryAfterMs !== undefined);
  return new HttpError(`${what}: HTTP ${status}${said ? ` (${shorten(said, 200, scrub)})` : ''}`, {
    status,
    retryAfterMs,
    serverMessage: said,
    hint: options.hints?.[status] ?? HINTS[status],
    retryable,
  });
}

/** A network failure or timeout: retryable. */
export function networkError(what: string, cause: unknown): RotationError {
  const detail =
    cause instanceof Error ? (cause.name === 'TimeoutError' || cause.name === 'AbortError' ? 'timed out' : cause.message) : String(cause);
  return new RotationError(`${what}: ${detail}`, { retryable: true, code: 'NETWORK', cause });
}

/** The HTTP status of a failed call, if it came from a response. */
export function statusOf(error: unknown): number | undefined {
  return error instanceof HttpError ? error.status : undefined;
}

const HINTS: Record<number, string> = {
  401: 'the token is missing, expired or revoked',
  403: 'the token lacks a permission this call needs',
  404: 'it does not exist, or the token cannot see it',
  422: 'the request was refused as invalid',
  429: 'rate limited; retried with backoff',
};

/** The server's own words, from the shapes these APIs use: message, msg, error, errors[].message. Not cut: the caller scrubs, then shortens. */
export function serverMessage(text: string): string {
  const parsed = parseJson(text) as Record<string, unknown> | undefined;
  let out: string = text;
  if (parsed && typeof parsed === 'object') {
    const errors = parsed.errors as { message?: unknown }[] | undefined;
    const candidate =
      parsed.message ??
      parsed.msg ??
      parsed.error ??
      (Array.isArray(errors)
        ? errors
            .map((e) => e?.message)
            .filter(Boolean)
            .join('; ')
        : undefined);
    if (candidate !== undefined && candidate !== '') out = typeof candidate === 'string' ? candidate : JSON.stringify(candidate);
  } else {
    out = text.replace(/<[^>]*>/g, ' ');
  }
  return out.replace(/\s+/g, ' ').trim();
}

export function parseJson(text: string): unknown {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}
