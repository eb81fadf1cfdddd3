import type { Reporter } from '../report/reporter.js';
import type { Secret } from '../secret/secret.js';
import type { Runtime } from '../runtime/runtime.js';

/**
 * The one way to build a Runtime: the collaborators of a real run (action, post step, CLI, demo):
 * the real clock, network and GitHub, unless `options` names its own (the demo's GitHub that
 * answers nothing, a test's fake clock). The caller masks the token first, before anything else happens.
 */
export function liveRuntime(
  options: { env: NodeJS.ProcessEnv; reporter: Reporter; workspace: string; githubToken?: Secret } & Partial<Runtime>,
): Runtime {
  const { env } = options;
  return {
    now: () => new Date(),
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    fetch: globalThis.fetch,
    // Loaded on first use (its own chunk in dist/): a run whose policy names no GitHub target never parses Octokit.
    github: async (token, run) => {
      const { createGitHubClient, githubApiUrl } = await import('../github/client.js');
      return createGitHubClient(token, githubApiUrl(env), run);
    },
    ...options,
  };
}
