#!/usr/bin/env node
// The CLI: the same engine as the action, outside GitHub Actions.
import { Command, CommanderError, Option } from 'commander';
import { resolve } from 'node:path';
import { loadPolicy } from './registry/load-policy.js';
import { DEFAULT_POLICY_PATH, type LoadOptions } from './policy/load.js';
import { updateCurrentHint } from './cli/next-step.js';
import { rotateCredential } from './engine/rotate.js';
import { triggerFromEnv } from './engine/trigger.js';
import { describeError } from './errors/errors.js';
import { REASONS, type Reason } from './evidence/record.js';
import { cliRuntime, policyEnvironment } from './cli/runtime.js';
import { ConsoleReporter } from './report/console-reporter.js';
import { maskPolicySecrets } from './secret/policy-secrets.js';
import { scrubDeep, scrubError } from './secret/scrubber.js';
import { deadlineFrom, DEFAULT_DEADLINE_MINUTES } from './runtime/deadline.js';
import { failpointFromEnv } from './engine/failpoints.js';
import { parseNow, planMatrix, planRotations, planTable } from './cli/plan.js';
import { overdueMessage, statusRows, statusTable, writeStepSummary } from './cli/status.js';
import { checkStoreTargets } from './cli/status-stores.js';
import { evidenceRoot } from './evidence/folder.js';
import { commandWork, exitCodeOf, WorkFailed } from './cli/exit-code.js';
import { verifyCredential, verifyProblems, verifyTable, type VerifyRow } from './cli/verify.js';

const program = new Command('credential-rotation')
  .description('Rotate database passwords and API keys end to end, with evidence.')
  .option('-C, --workspace <dir>', 'the repository root: relative paths start here', process.cwd())
  .option('-c, --config <file>', 'the policy file', DEFAULT_POLICY_PATH)
  .showHelpAfterError()
  // Usage errors (unknown option, bad choice, missing argument) throw instead of exiting 1: every
  // command exits 2 for them (src/cli/exit-code.ts). Subcommands inherit this.
  .exitOverride();

// One reporter for the process: its scrubber also cleans the last-resort error message below.
const terminal = new ConsoleReporter();
const workspaceOf = () => resolve(program.opts().workspace as string);
// audit and provision: the real network for a `ca_from:` cluster's CA, warnings on stderr (stdout is the report or the SQL).
const commandRuntime = () => cliRuntime(workspaceOf(), process.env, undefined, new ConsoleReporter(process.stderr));
const policyOf = (options: LoadOptions = {}) =>
  loadPolicy(resolve(workspaceOf(), program.opts().config as string), policyEnvironment(process.env), options);

// `plan --json | head`: the reader left; what is unread was not wanted. End quietly.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    process.exit(process.exitCode ?? 0);
  });
}

program
  .command('rotate <credential>')
  .description('rotate one credential through the whole checklist')
  .addOption(new Option('--reason <reason>', 'why').choices(REASONS).default('manual'))
  .option('--dry-run', 'plan and preflight only, change nothing', false)
  .option(
    '--github-token <token>',
    'token that may write secrets; prefer the GITHUB_TOKEN environment variable (read when this is not given): a command line is visible to every user in ps',
  )
  .option('--deadline-minutes <minutes>', 'overall deadline of the run: no wait or retry goes past it', String(DEFAULT_DEADLINE_MINUTES))
  .action(async (credential: string, opts: { reason: Reason; dryRun: boolean; githubToken?: string; deadlineMinutes: string }) => {
    const token = opts.githubToken ?? process.env.GITHUB_TOKEN;
    const runtime = cliRuntime(workspaceOf(), process.env, token, terminal);
    runtime.deadline = deadlineFrom(opts.deadlineMinutes, runtime.now().getTime());
    runtime.failpoint = failpointFromEnv(process.env);
    const policy = policyOf();
    const result = await rotateCredential(
      policy,
      { credential, reason: opts.reason, dryRun: opts.dryRun, trigger: triggerFromEnv(process.env) },
      runtime,
    );
    if (result.evidencePath) runtime.reporter.info(`evidence: ${result.evidencePath}`);
    runtime.reporter.info(`status: ${result.status}`);
    const hint = result.status === 'rotated' ? updateCurrentHint(policy.credentials[credential], policy.file) : undefined;
    if (hint) runtime.reporter.info(hint);
    if (result.status === 'failed') process.exitCode = 1;
  });

program
  .command('plan')
  .description('what is due (counted from the last successful rotation in the evidence), and what each run would do')
  .option('--json', 'print only the strategy.matrix of the due credentials: {"include":[{"credential":…,"reason":"scheduled"}]}', false)
  .option('--now <iso>', 'plan as of this time instead of now (what-if), e.g. 2026-07-01T03:00:00Z')
  .action((opts: { json: boolean; now?: string }) => {
    const rows = planRotations(policyOf({ withoutSecrets: true }), workspaceOf(), parseNow(opts.now), (message) =>
      terminal.warning(`evidence ${message}`),
    );
    process.stdout.write(opts.json ? `${JSON.stringify(planMatrix(rows))}\n` : `${planTable(rows)}\n`);
  });

program
  .command('status')
  .description(
    'last rotation, next due date and overdue flag per credential, from the evidence history (also to $GITHUB_STEP_SUMMARY); with $GITHUB_TOKEN, each GitHub secret must have changed since the last rotation on record',
  )
  .option('--json', 'print the rows as JSON', false)
  .option('--fail-on-overdue', 'exit 1 when a credential is overdue or was never rotated (a compliance gate)', false)
  .option('--now <iso>', 'report as of this time instead of now, e.g. 2026-07-01T03:00:00Z')
  .action(async (opts: { json: boolean; failOnOverdue: boolean; now?: string }) => {
    const now = parseNow(opts.now);
    const policy = policyOf({ withoutSecrets: true });
    const rows = statusRows(policy, workspaceOf(), now, (message) => terminal.warning(`evidence ${message}`));
    // With a token, every GitHub store target's updated_at is checked against the evidence.
    if (process.env.GITHUB_TOKEN) {
      await checkStoreTargets(policy, rows, cliRuntime(workspaceOf(), process.env, process.env.GITHUB_TOKEN, terminal));
      for (const check of rows.flatMap((r) => r.stores ?? [])) if (check.verdict !== 'changed') terminal.warning(check.detail);
    }
    process.stdout.write(opts.json ? `${JSON.stringify(rows, null, 2)}\n` : `${statusTable(rows)}\n`);
    writeStepSummary(rows, now, process.env);
    const late = overdueMessage(rows);
    if (late && opts.failOnOverdue) {
      process.stderr.write(`error: ${late}\n`);
      process.exitCode = 1;
    }
  });

program
  .command('verify [credential]')
  .description('prove the stored credentials still work (login or API call) and every readable store agrees; changes nothing')
  .option('--json', 'print the results as JSON', false)
  .action(async (credential: string | undefined, opts: { json: boolean }) => {
    // A `current` whose variable is not set falls back to what a readable store holds.
    const policy = policyOf({ optionalCurrent: true, scope: credential ? { credentials: [credential] } : undefined });
    const runtime = cliRuntime(workspaceOf(), process.env, undefined, terminal);
    const rows: VerifyRow[] = [];
    for (const id of credential ? [credential] : Object.keys(policy.credentials)) rows.push(await verifyCredential(policy, id, runtime));
    runtime.reporter.info(opts.json ? JSON.stringify(rows, null, 2) : verifyTable(rows));
    const problems = verifyProblems(rows);
    for (const problem of problems) runtime.reporter.error(problem);
    if (problems.length > 0) process.exitCode = 1;
  });

program
  .command('provision <credential>')
  .description('the least-privilege roles a credential needs (policy: method, access, schemas), as SQL; --apply runs it in one transaction')
  .option('--apply', 'run the SQL (idempotent: a rerun finds nothing to do)', false)
  .option(
    '--take-over-from <role>',
    'readwrite: move every object of the schemas (and the schemas) owned by this role (e.g. doadmin) to the app role, object by object',
  )
  .action(async (credential: string, opts: { apply: boolean; takeOverFrom?: string }) => {
    const { provisionCredential, statementCount } = await import('./provision/run.js');
    const policy = policyOf({ scope: { credentials: [credential] } });
    // A connection or SQL failure is a failed change (exit 1), not bad usage.
    const result = await commandWork(() =>
      provisionCredential(policy, credential, {
        runtime: commandRuntime(),
        apply: opts.apply,
        takeOverFrom: opts.takeOverFrom,
        show: (script) => process.stdout.write(`${script}\n`),
      }),
    );
    const count = statementCount(result.plan);
    if (result.applied) process.stdout.write(`-- applied: ${count} statement(s) committed\n`);
    else if (count > 0) process.stdout.write('-- not applied: rerun with --apply to run it\n');
    // Applied or not, a credential the audit would still fail, or that a rerun would still change, is not done.
    if ((result.applied || count === 0) && !result.converged) {
      process.stderr.write(
        `provision ${credential}: not done; ${result.remaining.length} thing(s) left:\n${result.remaining.map((r) => `  - ${r}`).join('\n')}\n`,
      );
      process.exitCode = 1;
    }
  });

program
  .command('audit [system]')
  .description(
    "check the platform's access rules (read-only, no admin app role, break-glass unused, RLS where the API reaches, policy boundaries) against the live catalogs; changes nothing",
  )
  .option('--json', 'print the report as JSON', false)
  .addOption(
    new Option('--fail-on <severity>', 'exit 1 when a check fails with this severity or worse')
      .choices(['warning', 'error'])
      .default('warning'),
  )
  .option('--no-record', 'do not write the audit record (<evidence_dir>/<YYYYMMDD-HHMM>/db-audit/<system>.json and .md)')
  .action(async (system: string | undefined, opts: { json: boolean; failOn: 'warning' | 'error'; record: boolean }) => {
    const { runAudit } = await import('./audit/run.js');
    const { writeAuditRecords } = await import('./audit/record.js');
    const { failsAt } = await import('./audit/types.js');
    const { auditTable, writeAuditSummary } = await import('./cli/audit.js');
    const policy = policyOf({ scope: system ? { systems: [system] } : undefined });
    // Where the record goes is checked before anything is read: inside the workspace (as for rotations).
    evidenceRoot(policy, workspaceOf());
    // The audit's record, output and summary pass the same scrubber as a rotation's.
    maskPolicySecrets(policy, (secret) => terminal.mask(secret));
    const scrub = (text: string) => terminal.scrub(text);
    const report = scrubDeep(await commandWork(() => runAudit(policy, system, { runtime: commandRuntime() })), scrub);
    const paths = opts.record ? await commandWork(() => writeAuditRecords(policy, report, triggerFromEnv(process.env), workspaceOf())) : [];
    process.stdout.write(
      scrub(opts.json ? `${JSON.stringify(report, null, 2)}\n` : `${auditTable(report)}\n${paths.map((p) => `record: ${p}\n`).join('')}`),
    );
    writeAuditSummary(report, paths, process.env);
    if (failsAt(report, opts.failOn)) process.exitCode = 1;
  });

program
  .command('exposures')
  .description(
    "GitHub secret-scanning alerts (the policy's exposure: key) matched to the managed credentials; with --apply each leaked value is rotated with reason exposure (or proven already refused) and its alert resolved as revoked, naming the evidence. Reads GITHUB_TOKEN",
  )
  .option('--apply', 'rotate and resolve (without it: a report that changes nothing)', false)
  .option('--json', 'print one row per alert as JSON: repository, number, url, secret_type, credential, action, outcome, detail', false)
  .option('--deadline-minutes <minutes>', 'overall deadline of the run: no wait or retry goes past it', String(DEFAULT_DEADLINE_MINUTES))
  .action(async (opts: { apply: boolean; json: boolean; deadlineMinutes: string }) => {
    const { runExposures } = await import('./exposure/run.js');
    const { exposuresTable, recordLines, writeExposuresSummary } = await import('./cli/exposures.js');
    // With --json, stdout carries only the JSON: the run's progress goes to stderr.
    const reporter = opts.json ? new ConsoleReporter(process.stderr, process.stderr) : terminal;
    const runtime = cliRuntime(workspaceOf(), process.env, process.env.GITHUB_TOKEN, reporter);
    runtime.deadline = deadlineFrom(opts.deadlineMinutes, runtime.now().getTime());
    // A `current` whose variable is not set is compared through a readable store instead.
    const policy = policyOf({ optionalCurrent: true });
    let report;
    try {
      report = await runExposures(policy, { apply: opts.apply, trigger: triggerFromEnv(process.env) }, runtime);
    } catch (error) {
      throw scrubError(error, (text) => reporter.scrub(text));
    }
    const out = opts.json ? `${JSON.stringify(report.rows, null, 2)}\n` : `${exposuresTable(report, opts.apply)}\n${recordLines(report)}`;
    process.stdout.write(reporter.scrub(out));
    writeExposuresSummary(
      scrubDeep(report, (text) => reporter.scrub(text)),
      opts.apply,
      process.env,
    );
    process.exitCode = report.exitCode;
  });

program
  .command('demo')
  .description('rotate odoo_app on a real PostgreSQL 16 started here, with a file store, and leave the evidence')
  .option('--dir <dir>', 'where the demo writes its policy, secrets file and evidence', 'demo-output')
  .action(async (opts: { dir: string }) => {
    const { runDemo } = await import('./demo/demo.js');
    const result = await commandWork(() => runDemo(resolve(opts.dir)));
    if (result.status !== 'rotated') process.exitCode = 1;
  });

try {
  await program.parseAsync();
} catch (error) {
  // Commander has printed its own message (and the help).
  if (!(error instanceof CommanderError)) terminal.error(describeError(error instanceof WorkFailed ? error.failure : error));
  process.exitCode = exitCodeOf(error);
}
