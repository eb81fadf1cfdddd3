import type { Runtime } from '../runtime/runtime.js';

/** One API call (a provider's REST API, GitHub's) may take this long before it is abandoned (and retried). */
export const REQUEST_TIMEOUT_MS = 30_000;

/**
 * One try of a probe that is repeated until its own timeout_seconds (a health check, a key
 * presented to a gateway): shorter, so a hung try leaves room for the next.
 */
export const PROBE_TRY_TIMEOUT_MS = 10_000;

/**
 * The one way a run sends an HTTP request: through runtime.fetch (the tests' models answer it),
 * ended by the call's own timeout or by the run's cancellation and deadline (runtime.signal),
 * and never following a redirect (a redirect to another host would carry the credential there).
 */
export function runtimeRequest(
  runtime: Pick<Runtime, 'fetch' | 'signal'>,
  url: string,
  init: Omit<RequestInit, 'signal' | 'redirect'> & { timeoutMs: number },
): Promise<Response> {
  const { timeoutMs, ...rest } = init;
  return runtime.fetch(url, {
    ...rest,
    redirect: 'manual',
    signal: AbortSignal.any([AbortSignal.timeout(timeoutMs), ...(runtime.signal ? [runtime.signal] : [])]),
  });
}

/** A base URL (any trailing slashes) and a path that starts with '/': one slash between them. */
export function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}${path}`;
}
