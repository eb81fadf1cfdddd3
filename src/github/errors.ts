import { RotationError } from '../errors/errors.js';
import { httpError, networkError, runtimeErrorOptions, type HttpErrorOptions, type StatusHints } from '../http/http-error.js';
import { withRetry, runtimeRetry } from '../http/retry.js';
import type { Runtime } from '../runtime/runtime.js';

export type { StatusHints } from '../http/http-error.js';

/** The shape of Octokit's RequestError, without depending on the transitive package. */
interface OctokitFailure {
  name?: string;
  status?: number;
  cause?: unknown;
  message?: string;
  response?: { headers?: Record<string, string | undefined>; data?: unknown };
}

/**
 * A redirect the GitHub client did not follow (it would carry the token to wherever it points).
 * Thrown from inside Octokit's fetch, which wraps it as a failed request (its `cause`).
 */
export class RedirectRefused extends Error {
  constructor(
    readonly status: number,
    readonly headers: Headers,
  ) {
    super(`HTTP ${status} redirect not followed`);
    this.name = 'RedirectRefused';
  }
}

const REDIRECT_HINT =
  'GitHub answered with a redirect, which is not followed (it would carry the token): a renamed or transferred repository or organization is named by its new name in the policy; otherwise check GITHUB_API_URL';

/**
 * Maps a thrown Octokit error to a RotationError that names the call and what to do. Only the
 * status, GitHub's own `message` and the rate-limit headers are used: never the request (its body
 * holds the sealed value, its headers the token), and Octokit's error is not kept as the cause.
 */
export function githubError(
  what: string,
  error: unknown,
  hints: StatusHints,
  signal: AbortSignal | undefined,
  options: Pick<HttpErrorOptions, 'now' | 'scrub'>,
): unknown {
  if (error instanceof RotationError) return error;
  if (typeof error !== 'object' || error === null) return error;
  const failure = error as OctokitFailure;
  if (failure.name === 'AbortError' || signal?.aborted) {
    if (signal?.aborted) return new RotationError(`${what}: cancelled`, { code: 'CANCELLED' });
    return networkError(what, error);
  }
  if (failure.cause instanceof RedirectRefused) {
    const { status, headers } = failure.cause;
    return httpError(what, status, headers, undefined, { hints: { [status]: hints[status] ?? REDIRECT_HINT }, ...options });
  }
  if (typeof failure.status !== 'number') return error;
  if (!failure.response) {
    // Octokit reports a failed fetch (DNS, refused, reset) as status 500 without a response.
    return networkError(what, failure.cause instanceof Error ? failure.cause : new Error(failure.message ?? 'network error'));
  }
  const data = failure.response.data as { message?: unknown } | undefined;
  const body = data && typeof data.message === 'string' ? JSON.stringify({ message: data.message }) : undefined;
  return httpError(what, failure.status, failure.response.headers ?? {}, body, { hints, ...options });
}

/**
 * Runs one GitHub call with the shared retry policy: network errors, 5xx and 429 (or a 403 with
 * Retry-After, GitHub's secondary rate limit) are retried with backoff; everything else is thrown
 * at once, mapped by `githubError`.
 */
export function githubCall<T>(runtime: Runtime, what: string, fn: () => Promise<T>, hints: StatusHints = {}): Promise<T> {
  return withRetry(async () => {
    try {
      return await fn();
    } catch (error) {
      throw githubError(what, error, hints, runtime.signal, runtimeErrorOptions(runtime));
    }
  }, runtimeRetry(runtime));
}
