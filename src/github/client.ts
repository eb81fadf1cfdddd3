import { Octokit } from '@octokit/rest';
import type { Secret } from '../secret/secret.js';

const silent = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
/** One GitHub API call may take this long before it is abandoned and retried. */
const REQUEST_TIMEOUT_MS = 30_000;

/**
 * An Octokit for the given token and API base URL. No retry or throttling plugins: the adapters
 * retry through `withRetry`, so every retry is bounded and visible. Requests go through `fetchImpl`
 * (looked up on each call by default, so msw's patched global fetch is used in tests), and the
 * client logs nothing itself: the adapters report what happened, without request details.
 */
export function createGitHubClient(
  token: Secret,
  baseUrl: string,
  fetchImpl: typeof fetch = (input, init) => globalThis.fetch(input, init),
): Octokit {
  return new Octokit({
    auth: token.reveal(),
    baseUrl: baseUrl.replace(/\/+$/, ''),
    userAgent: 'credential-rotation',
    log: silent,
    // Each request is bounded (a hung connection becomes a retryable "timed out"), on top of the
    // run's own signal, which ends everything at its deadline.
    request: {
      fetch: (input: RequestInfo | URL, init?: RequestInit) =>
        fetchImpl(input, {
          ...init,
          signal: AbortSignal.any([AbortSignal.timeout(REQUEST_TIMEOUT_MS), ...(init?.signal ? [init.signal] : [])]),
        }),
      log: silent,
    },
  });
}

/** The REST API base URL a runner gives (GHES and local stand-ins included). */
export function githubApiUrl(env: NodeJS.ProcessEnv): string {
  return env.GITHUB_API_URL || 'https://api.github.com';
}
