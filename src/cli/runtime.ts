import type { Runtime } from '../engine/runtime.js';
import { liveRuntime } from '../engine/live-runtime.js';
import { ConsoleReporter } from '../report/console-reporter.js';
import type { Reporter } from '../report/reporter.js';
import { Secret } from '../secret/secret.js';

/** The collaborators of a CLI run: the terminal, the real clock, the real network. */
export function cliRuntime(workspace: string, env: NodeJS.ProcessEnv = process.env, token?: string, reporter: Reporter = new ConsoleReporter()): Runtime {
  const githubToken = token ? new Secret(token) : undefined;
  if (githubToken) reporter.mask(githubToken);
  return liveRuntime({ env, reporter, workspace, githubToken });
}
