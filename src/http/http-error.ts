import { RotationError } from '../engine/errors.js';
import { parseRetryAfter } from './retry.js';

/**
 * Turns an HTTP failure into a RotationError a person can act on. `what` names the call, e.g.
 * "GitHub: write secret ODOO_DB_PASSWORD in acme/ops". 429 and 5xx are retryable; the rest not.
 */
export function httpError(what: string, status: number, headers: Headers | Record<string, string | undefined>, body?: string): RotationError {
  const get = (name: string) => (headers instanceof Headers ? headers.get(name) : headers[name] ?? headers[name.toLowerCase()]) ?? undefined;
  // GitHub's secondary rate limit may come as a bare 403; its docs say to wait at least a minute.
  const secondaryLimit = status === 403 && /secondary rate limit/i.test(body ?? '');
  const retryAfterMs =
    parseRetryAfter(get('retry-after')) ??
    (get('x-ratelimit-remaining') === '0' && get('x-ratelimit-reset') ? Math.max(0, Number(get('x-ratelimit-reset')) * 1000 - Date.now()) : undefined) ??
    (secondaryLimit ? 60_000 : undefined);
  const retryable = status === 429 || status >= 500 || (status === 403 && retryAfterMs !== undefined);
  const error = new RotationError(`${what}: HTTP ${status}${shortBody(body)}`, { retryable, code: `HTTP_${status}`, hint: HINTS[status] });
  Object.assign(error, { status, retryAfterMs });
  return error;
}

/** A network failure or timeout: retryable. */
export function networkError(what: string, cause: unknown): RotationError {
  const detail = cause instanceof Error ? (cause.name === 'TimeoutError' || cause.name === 'AbortError' ? 'timed out' : cause.message) : String(cause);
  return new RotationError(`${what}: ${detail}`, { retryable: true, code: 'NETWORK', cause });
}

const HINTS: Record<number, string> = {
  401: 'the token is missing, expired or revoked',
  403: 'the token lacks a permission this call needs',
  404: 'it does not exist, or the token cannot see it',
  422: 'the request was refused as invalid',
  429: 'rate limited; retried with backoff',
};

function shortBody(body: string | undefined): string {
  if (!body) return '';
  let text = body;
  try {
    const parsed = JSON.parse(body) as { message?: string; error?: string };
    text = parsed.message ?? parsed.error ?? body;
  } catch {
    /* not JSON */
  }
  text = text.replace(/\s+/g, ' ').trim();
  return text ? ` (${text.slice(0, 200)})` : '';
}
