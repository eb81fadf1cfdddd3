import * as core from '@actions/core';
import { resolve } from 'node:path';
import { appendFileSync } from 'node:fs';
import { ActionsReporter } from './report/actions-reporter.js';
import { triggerFromEnv } from './engine/trigger.js';
import { describeError } from './errors/errors.js';
import { REASONS, type Reason } from './evidence/record.js';
import { summaryMarkdown } from './evidence/summary.js';
import { Secret } from './secret/secret.js';
import { deadlineFrom } from './runtime/deadline.js';
import { failpointFromEnv } from './engine/failpoints.js';
import { RotationError } from './errors/errors.js';

/**
 * The policy reader (yaml, the compiled schema) and the engine (pg, Octokit) load only once the
 * inputs are read: a run with a bad input stops as fast as node starts.
 */
const loadEngine = () =>
  Promise.all([
    import('./policy/load.js'),
    import('./registry/load-policy.js'),
    import('./secret/policy-secrets.js'),
    import('./engine/live-runtime.js'),
    import('./engine/rotate.js'),
  ]);

/** The action: read the inputs, rotate one credential, set the outputs and the job summary. */
export async function runAction(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const reporter = new ActionsReporter();
  // Invariant 2: the token is masked before anything else happens.
  const tokenInput = core.getInput('github-token');
  const githubToken = tokenInput ? new Secret(tokenInput) : undefined;
  if (githubToken) reporter.mask(githubToken);
  core.saveState('started', 'true');

  try {
    const credential = core.getInput('credential', { required: true });
    core.saveState('credential', reporter.scrub(credential));
    const reason = core.getInput('reason') || 'manual';
    if (!REASONS.includes(reason as Reason)) throw new RotationError(`input reason: expected ${REASONS.join(' | ')}, got '${reason}'`);
    const dryRun = core.getBooleanInput('dry-run');
    const [{ DEFAULT_POLICY_PATH }, { loadPolicy }, { maskPolicySecrets }, { liveRuntime }, { rotateCredential }] = await loadEngine();
    const workspace = env.GITHUB_WORKSPACE ?? process.cwd();
    const configInput = core.getInput('config') || DEFAULT_POLICY_PATH;
    const policy = loadPolicy(resolve(workspace, configInput), env, { label: configInput });
    maskPolicySecrets(policy, (secret) => reporter.mask(secret));
    const runtime = liveRuntime({ env, reporter, workspace, githubToken });
    // No wait or retry of the run goes past this (default 30 min).
    runtime.deadline = deadlineFrom(core.getInput('deadline-minutes'), runtime.now().getTime());
    // Kill tests only (CREDENTIAL_ROTATION_FAILPOINT=<point>:kill); unset in production.
    runtime.failpoint = failpointFromEnv(env);
    const result = await rotateCredential(policy, { credential, reason: reason as Reason, dryRun, trigger: triggerFromEnv(env) }, runtime);

    // Outputs, state and summary are sinks too: each passes the run's one scrubber.
    core.setOutput('status', result.status);
    core.setOutput('rotated-at', reporter.scrub(result.rotatedAt ?? ''));
    core.setOutput('evidence-path', reporter.scrub(result.evidencePath ?? ''));
    if (env.GITHUB_STEP_SUMMARY)
      appendFileSync(
        env.GITHUB_STEP_SUMMARY,
        summaryMarkdown(result.record, result.evidencePath, (text) => reporter.scrub(text)),
      );
    core.saveState('finished', result.status);
    if (result.status === 'failed') process.exitCode = 1; // the engine already reported the error
  } catch (error) {
    // Configuration and input problems: nothing was changed.
    core.setOutput('status', 'failed');
    core.saveState('finished', 'failed');
    reporter.error(`${describeError(error)} (nothing was changed)`);
    process.exitCode = 1;
  }
}
