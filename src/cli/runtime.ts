import type { Runtime } from '../engine/runtime.js';
import { createGitHubClient, githubApiUrl } from '../github/client.js';
import { ConsoleReporter } from '../report/console-reporter.js';
import { Secret } from '../secret/secret.js';

/** The collaborators of a CLI run: the terminal, the real clock, the real network. */
export function cliRuntime(workspace: string, env: NodeJS.ProcessEnv = process.env, token?: string): Runtime {
  const reporter = new ConsoleReporter();
  const githubToken = token ? new Secret(token) : undefined;
  if (githubToken) reporter.mask(githubToken);
  return {
    env,
    reporter,
    workspace,
    now: () => new Date(),
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    fetch: globalThis.fetch,
    github: (t) => createGitHubClient(t, githubApiUrl(env)),
    githubToken,
  };
}
