import type { Runtime } from '../runtime/runtime.js';
import { liveRuntime } from '../engine/live-runtime.js';
import { ConsoleReporter } from '../report/console-reporter.js';
import type { Reporter } from '../report/reporter.js';
import { Secret } from '../secret/secret.js';
import { RotationError } from '../errors/errors.js';

/** The collaborators of a CLI run: the terminal, the real clock, the real network. */
export function cliRuntime(
  workspace: string,
  env: NodeJS.ProcessEnv = process.env,
  token?: string,
  reporter: Reporter = new ConsoleReporter(),
): Runtime {
  const githubToken = token ? new Secret(token) : undefined;
  if (githubToken) reporter.mask(githubToken);
  return liveRuntime({ env, reporter, workspace, githubToken });
}

/**
 * The variables a policy's `${NAME}` may name: the process environment first, then the JSON
 * objects in ROTATION_SECRETS_JSON and ROTATION_VARS_JSON, which a workflow step fills with
 * `${{ toJSON(secrets) }}` and `${{ toJSON(vars) }}` so a job can use exactly the names the
 * policy mentions without exporting each by hand. The runner masks every secret value in logs.
 */
export function policyEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const fromJson = (name: string): Record<string, string> => {
    const text = env[name];
    if (!text) return {};
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new RotationError(`${name} is not JSON (expected an object of names and values, e.g. \${{ toJSON(secrets) }})`);
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
      throw new RotationError(`${name} is not a JSON object of names and values`);
    return Object.fromEntries(Object.entries(parsed).filter(([, v]) => typeof v === 'string') as [string, string][]);
  };
  return { ...fromJson('ROTATION_VARS_JSON'), ...fromJson('ROTATION_SECRETS_JSON'), ...env };
}
