import * as core from '@actions/core';
import { appendFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ActionsReporter } from '../report/actions-reporter.js';
import { DEFAULT_POLICY_PATH } from '../policy/load.js';
import { loadPolicy } from '../registry/load-policy.js';
import { describeError } from '../errors/errors.js';
import { Secret } from '../secret/secret.js';
import { maskPolicySecrets } from '../secret/policy-secrets.js';
import { liveRuntime } from '../engine/live-runtime.js';
import { inspectCredential, repairCommands } from './inspect.js';
import { RotationError } from '../errors/errors.js';

/**
 * The post step after a main step that was cancelled or killed mid-way (state `started` without
 * `finished`; src/post.ts decides that, and says so when the main step finished): it inspects the credential and states
 * exactly which command repairs it, as a warning and in the job summary. It writes no secret
 * anywhere: values it reads are masked and only ever tried as logins.
 */
export async function runPost(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  // Masks go to the runner and to the scrubber that also cleans the job summary.
  const reporter = new ActionsReporter();
  const tokenInput = core.getInput('github-token');
  if (tokenInput) reporter.mask(new Secret(tokenInput));

  const credentialId = core.getState('credential') || core.getInput('credential');
  if (!credentialId) {
    reporter.warning('credential-rotation: the main step stopped before it read its inputs; nothing was changed');
    return;
  }
  const findings: string[] = [];
  let verdict = `${credentialId} could not be inspected; a rerun repairs any half-done state with no other input`;
  try {
    const workspace = env.GITHUB_WORKSPACE ?? process.cwd();
    const configInput = core.getInput('config') || DEFAULT_POLICY_PATH;
    const policy = loadPolicy(resolve(workspace, configInput), env, { label: configInput });
    maskPolicySecrets(policy, (secret) => reporter.mask(secret));
    if (!policy.credentials[credentialId]) throw new RotationError(`${configInput} has no credential '${credentialId}'`);
    const runtime = liveRuntime({ env, reporter, workspace });
    const inspection = await inspectCredential(policy, credentialId, runtime);
    findings.push(...inspection.findings);
    verdict = !inspection.consistent
      ? `${credentialId} is half-rotated (a store is ahead of the live value, or the live value is not the one given); a rerun repairs it with no other input`
      : inspection.unverified > 0
        ? `the old value of ${credentialId} is still live and every store that can be read holds it; ${inspection.unverified} write-only target(s) may hold the cancelled run's unused value, which a rerun replaces`
        : `the old value of ${credentialId} is still live and every store holds it: nothing is broken, but the rotation did not happen`;
  } catch (error) {
    findings.push(`could not inspect the credential: ${describeError(error)}`);
  }

  const commands = repairCommands(credentialId);
  reporter.warning(`credential-rotation: the main step was cancelled mid-rotation. ${verdict}. To finish: ${commands.join('; ')}`);
  for (const line of findings) reporter.info(`- ${line}`);

  if (env.GITHUB_STEP_SUMMARY) {
    const md = [
      `### Credential rotation: \`${credentialId}\` ⚠️ cancelled`,
      '',
      `The main step was cancelled before it finished: ${verdict}.`,
      '',
      ...findings.map((f) => `- ${f.replace(/\n/g, ' ')}`),
      '',
      '**To repair:**',
      '',
      ...commands.map((c) => `- ${c}`),
      '',
    ].join('\n');
    appendFileSync(env.GITHUB_STEP_SUMMARY, reporter.scrub(md));
  }
}
