import { Octokit } from '@octokit/rest';
import { REQUEST_TIMEOUT_MS, runtimeRequest } from '../http/request.js';
import type { Runtime } from '../runtime/runtime.js';
import type { Secret } from '../secret/secret.js';
import { RedirectRefused } from './errors.js';

const silent = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

/**
 * An Octokit for the given token and API base URL whose every request is the run's own
 * (runtimeRequest): runtime.fetch, REQUEST_TIMEOUT_MS per call, the run's cancellation and deadline,
 * and no redirect followed. No retry or throttling plugins: the adapters retry through `githubCall`
 * (withRetry), so every retry is bounded and logged. The client logs nothing itself.
 */
export function createGitHubClient(token: Secret, baseUrl: string, runtime: Pick<Runtime, 'fetch' | 'signal'>): Octokit {
  return new Octokit({
    auth: token.reveal(),
    baseUrl: baseUrl.replace(/\/+$/, ''),
    userAgent: 'credential-rotation',
    log: silent,
    request: {
      fetch: async (input: RequestInfo | URL, init?: RequestInit) => {
        const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
        // runtimeRequest sets the signal and redirect itself, over any Octokit passes.
        const response = await runtimeRequest(runtime, url, { ...init, timeoutMs: REQUEST_TIMEOUT_MS });
        // Octokit takes any status below 400 but 304 for success: a redirect, not followed, must fail the call.
        if (response.status >= 300 && response.status < 400 && response.status !== 304) {
          await response.body?.cancel();
          throw new RedirectRefused(response.status, response.headers);
        }
        return response;
      },
      log: silent,
    },
  });
}

/** The REST API base URL a runner gives (GHES and local stand-ins included). */
export function githubApiUrl(env: NodeJS.ProcessEnv): string {
  return env.GITHUB_API_URL || 'https://api.github.com';
}
