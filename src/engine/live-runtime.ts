import { createGitHubClient, githubApiUrl } from '../github/client.js';
import type { Reporter } from '../report/reporter.js';
import type { Secret } from '../secret/secret.js';
import type { Runtime } from '../runtime/runtime.js';

/**
 * The collaborators of a real run (action, post step, CLI): the real clock, network and GitHub.
 * The caller masks the token first, before anything else happens.
 */
export function liveRuntime(options: { env: NodeJS.ProcessEnv; reporter: Reporter; workspace: string; githubToken?: Secret }): Runtime {
  const { env } = options;
  return {
    ...options,
    now: () => new Date(),
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    fetch: globalThis.fetch,
    github: (token) => createGitHubClient(token, githubApiUrl(env), globalThis.fetch),
  };
}
