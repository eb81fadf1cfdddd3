#!/usr/bin/env node
// The CLI: the same engine as the action, outside GitHub Actions.
import { Command, Option } from 'commander';
import { resolve } from 'node:path';
import { loadPolicy, DEFAULT_POLICY_PATH } from './policy/load.js';
import { rotateCredential } from './engine/rotate.js';
import { triggerFromEnv } from './engine/trigger.js';
import { describeError } from './engine/errors.js';
import { REASONS, type Reason } from './evidence/record.js';
import { cliRuntime } from './cli/runtime.js';
import { planMatrix, planRotations, planTable } from './cli/plan.js';

const program = new Command('credential-rotation')
  .description('Rotate database passwords and API keys end to end, with evidence.')
  .option('-C, --workspace <dir>', 'the repository root: relative paths start here', process.cwd())
  .option('-c, --config <file>', 'the policy file', DEFAULT_POLICY_PATH)
  .showHelpAfterError();

const workspaceOf = () => resolve(program.opts().workspace as string);
const policyOf = (withoutSecrets = false) => loadPolicy(resolve(workspaceOf(), program.opts().config as string), process.env, { withoutSecrets });

program
  .command('rotate <credential>')
  .description('rotate one credential through the whole checklist')
  .addOption(new Option('--reason <reason>', 'why').choices(REASONS).default('manual'))
  .option('--dry-run', 'plan and preflight only, change nothing', false)
  .option('--github-token <token>', 'token that may write secrets (default: $GITHUB_TOKEN)')
  .action(async (credential: string, opts: { reason: Reason; dryRun: boolean; githubToken?: string }) => {
    const token = opts.githubToken ?? process.env.GITHUB_TOKEN;
    const runtime = cliRuntime(workspaceOf(), process.env, token);
    const result = await rotateCredential(policyOf(), { credential, reason: opts.reason, dryRun: opts.dryRun, trigger: triggerFromEnv(process.env) }, runtime);
    if (result.evidencePath) runtime.reporter.info(`evidence: ${result.evidencePath}`);
    runtime.reporter.info(`status: ${result.status}`);
    if (result.status === 'failed') process.exitCode = 1;
  });

program
  .command('plan')
  .description('what is due, and what each run would do')
  .option('--json', 'print the strategy.matrix of the due credentials', false)
  .action((opts: { json: boolean }) => {
    const rows = planRotations(policyOf(true), workspaceOf(), new Date());
    process.stdout.write(opts.json ? `${JSON.stringify(planMatrix(rows))}\n` : `${planTable(rows)}\n`);
  });

program
  .command('demo')
  .description('rotate odoo_app on a real PostgreSQL 16 started here, with a file store, and leave the evidence')
  .option('--dir <dir>', 'where the demo writes its policy, secrets file and evidence', 'demo-output')
  .action(async (opts: { dir: string }) => {
    const { runDemo } = await import('./demo/demo.js');
    const result = await runDemo(resolve(opts.dir));
    if (result.status !== 'rotated') process.exitCode = 1;
  });

try {
  await program.parseAsync();
} catch (error) {
  process.stderr.write(`error: ${describeError(error)}\n`);
  process.exitCode = 2;
}
