// action.yml, every workflow and every example caller workflow, validated against SchemaStore's
// JSON schemas (schemas/, draft-07) with ajv, plus the properties a user relies on that a schema
// cannot express: per-credential concurrency, the plan-driven matrix, inputs that match across
// caller and callee, and the shell steps themselves.
import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync, existsSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { parse } from 'yaml';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

// A parsed workflow or action file, navigated freely by the assertions (its shape is what they check).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

const readYaml = (path: string): Json => parse(readFileSync(path, 'utf8')) as Json;
const readJson = (path: string): Json => JSON.parse(readFileSync(path, 'utf8')) as Json;

function compile(schemaFile: string): ValidateFunction {
  // The SchemaStore schemas use draft-07 and keywords ajv's strict mode rejects; no `format`s.
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
  return ajv.compile(readJson(join(root, 'schemas', schemaFile)));
}
const validateAction = compile('github-action.json');
const validateWorkflow = compile('github-workflow.json');

function errorsOf(validate: ValidateFunction, document: unknown): string[] {
  if (validate(document)) return [];
  return (validate.errors ?? []).map((e: ErrorObject) => `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`);
}

function yamlFilesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && /\.ya?ml$/.test(entry.name))
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
}

const workflowFiles = yamlFilesUnder(join(root, '.github', 'workflows'));
// Example workflows only: examples/ also holds policy files (rotation.yaml), which are not workflows.
const exampleFiles = yamlFilesUnder(join(root, 'examples', 'caller'));
const allWorkflowFiles = [...workflowFiles, ...exampleFiles];
const rel = (path: string) => relative(root, path);

const action = readYaml(join(root, 'action.yml'));
const rotate = readYaml(join(root, '.github/workflows/rotate.yml'));
const scheduled = readYaml(join(root, '.github/workflows/scheduled.yml'));
const dispatch = readYaml(join(root, '.github/workflows/dispatch.yml'));

function stepsOf(workflow: Json): Json[] {
  return Object.values<Json>(workflow.jobs ?? {}).flatMap((job) => (Array.isArray(job.steps) ? job.steps : []));
}

describe('schema validation', () => {
  it('finds the workflows and examples to validate', () => {
    expect(workflowFiles.map(rel)).toEqual(
      expect.arrayContaining(
        ['rotate.yml', 'scheduled.yml', 'dispatch.yml', 'ci.yml', 'check-dist.yml'].map((f) => `.github/workflows/${f}`),
      ),
    );
    expect(exampleFiles.map(rel)).toEqual(expect.arrayContaining(['examples/caller/rotate-odoo.yml', 'examples/caller/use-action.yml']));
  });

  it('action.yml validates against github-action.json', () => {
    expect(errorsOf(validateAction, action)).toEqual([]);
  });

  it.each(allWorkflowFiles.map(rel))('%s validates against github-workflow.json', (file) => {
    expect(errorsOf(validateWorkflow, readYaml(join(root, file)))).toEqual([]);
  });

  it('rejects a broken workflow: a job with neither runs-on nor uses', () => {
    const broken = parse(`
name: broken
on: push
jobs:
  build:
    steps:
      - run: echo hi
`);
    expect(errorsOf(validateWorkflow, broken).length).toBeGreaterThan(0);
  });

  it('rejects a broken workflow: an unknown key and a bad concurrency', () => {
    const broken = structuredClone(rotate);
    broken.jobs.rotate.concurrency = { group: 'x', 'cancel-in-progress': 'no', queue: 'forever' };
    broken.jobs.rotate.runs_on = 'ubuntu-latest';
    expect(errorsOf(validateWorkflow, broken).length).toBeGreaterThan(0);
  });

  it('rejects a broken action.yml: an unknown runtime and no main', () => {
    expect(errorsOf(validateAction, { ...action, runs: { using: 'node99' } }).length).toBeGreaterThan(0);
  });
});

describe('action.yml', () => {
  it('runs dist/index.js on node24, with the post step in dist/post.js', () => {
    expect(action.runs.using).toBe('node24');
    expect(action.runs.main).toBe('dist/index.js');
    expect(action.runs.post).toBe('dist/post.js');
  });

  it('has the inputs of SPEC 2.2 with their defaults, and the run deadline', () => {
    expect(Object.keys(action.inputs).sort()).toEqual(['config', 'credential', 'deadline-minutes', 'dry-run', 'github-token', 'reason']);
    expect(action.inputs['deadline-minutes'].default).toBe('30');
    expect(action.inputs.credential.required).toBe(true);
    expect(action.inputs.config.default).toBe('.github/rotation.yaml');
    expect(action.inputs.reason.default).toBe('manual');
    expect(action.inputs.reason.description).toMatch(/scheduled.*exposure.*manual/);
    expect(action.inputs['dry-run'].default).toBe('false');
    expect(action.inputs['github-token'].required).toBe(false);
    expect(action.inputs['github-token'].description).toMatch(/GITHUB_TOKEN cannot write secrets/);
    expect(action.inputs['github-token'].description).toMatch(/create-github-app-token/);
  });

  it('has exactly the outputs of SPEC 2.2', () => {
    expect(Object.keys(action.outputs).sort()).toEqual(['evidence-path', 'rotated-at', 'status']);
    expect(action.outputs.status.description).toMatch(/rotated.*skipped.*failed/);
  });
});

describe('rotate.yml (reusable)', () => {
  const call = rotate.on.workflow_call;

  it('is called with workflow_call: credential, reason, config, dry-run', () => {
    expect(call).toBeDefined();
    expect(call.inputs.credential).toMatchObject({ type: 'string', required: true });
    expect(call.inputs.reason).toMatchObject({ type: 'string', default: 'manual' });
    expect(call.inputs.config).toMatchObject({ type: 'string', default: '.github/rotation.yaml' });
    expect(call.inputs['dry-run']).toMatchObject({ type: 'boolean', default: false });
    expect(Object.keys(call.secrets)).toContain('ROTATION_APP_PRIVATE_KEY');
    expect(Object.keys(call.outputs)).toEqual(expect.arrayContaining(['status', 'evidence-path']));
  });

  it('runs one rotation per credential at a time and never cancels one in progress', () => {
    const groups = [rotate.concurrency, ...Object.values<Json>(rotate.jobs).map((job) => job.concurrency)].filter(Boolean);
    const perCredential = groups.filter((c: Json) => /\$\{\{\s*inputs\.credential\s*\}\}/.test(c.group));
    expect(perCredential.length).toBeGreaterThan(0);
    for (const c of perCredential) expect(c['cancel-in-progress']).toBe(false);
  });

  it('mints a GitHub App token that may write secrets and passes it to the action', () => {
    const tokenSteps = stepsOf(rotate).filter((s) => String(s.uses).startsWith('actions/create-github-app-token@'));
    expect(tokenSteps.length).toBeGreaterThan(0);
    const minting = tokenSteps.filter((s) => s.with['permission-secrets'] === 'write');
    expect(minting.length).toBeGreaterThan(0);
    for (const s of minting) {
      expect(s.with['client-id']).toMatch(/ROTATION_APP_CLIENT_ID/);
      expect(s.with['private-key']).toMatch(/secrets\.ROTATION_APP_PRIVATE_KEY/);
      expect(s.with['permission-actions']).toBe('write');
    }
    const rotateStep = stepsOf(rotate).find((s) => s.id === 'rotate');
    expect(rotateStep?.with['github-token']).toMatch(/steps\.app-token\.outputs\.token/);
  });

  it('leaves the GITHUB_TOKEN read-only (writes go through the App token)', () => {
    expect(rotate.permissions).toEqual({ contents: 'read' });
  });

  it('commits the evidence back, falling back to a pull request on a protected branch', () => {
    const scripts = stepsOf(rotate)
      .map((s) => String(s.run ?? ''))
      .join('\n');
    expect(scripts).toMatch(/git push/);
    expect(scripts).toMatch(/gh pr create/);
  });
});

describe('scheduled.yml', () => {
  it('runs on the quarterly and annual dates and daily (plan decides what is due), and can be dispatched', () => {
    const crons = scheduled.on.schedule.map((s: Json) => s.cron);
    expect(crons).toEqual([
      '0 3 1 1,4,7,10 *',
      '0 3 1 1 *',
      expect.stringMatching(/^\d+ \d+ \* \* \*$/),
      expect.stringMatching(/^\d+ \d+ \* \* 1$/),
    ]);
    expect(scheduled.on).toHaveProperty('workflow_dispatch');
  });

  it('takes its matrix from the plan job and fans out through rotate.yml', () => {
    const plan = scheduled.jobs.plan;
    const job = scheduled.jobs.rotate;
    expect(plan.outputs.matrix).toMatch(/steps\.plan\.outputs\.matrix/);
    const planStep = plan.steps.find((s: Json) => s.id === 'plan');
    expect(planStep.run).toMatch(/plan --json/);
    expect(job.needs).toBe('plan');
    expect(job.strategy.matrix).toBe('${{ fromJSON(needs.plan.outputs.matrix) }}');
    expect(job.strategy['fail-fast']).toBe(false);
    expect(job.strategy['max-parallel']).toEqual(expect.any(Number));
    expect(job.if).toMatch(/needs\.plan\.outputs/);
    expect(job.uses).toBe('./.github/workflows/rotate.yml');
    expect(job.with.credential).toBe('${{ matrix.credential }}');
    expect(job.with.reason).toBe('${{ matrix.reason }}');
    expect(job.secrets).toBe('inherit');
  });
});

describe("scheduled.yml's audit job", () => {
  const job = scheduled.jobs.audit;
  const weekly = scheduled.on.schedule.map((s: Json) => s.cron).find((c: string) => c.endsWith(' 1'));

  it('runs weekly and after every run that rotated something, before the compliance gate', () => {
    expect(job.needs).toEqual(['plan', 'rotate']);
    expect(job.if).toContain(`github.event.schedule == '${weekly}'`);
    expect(job.if).toContain("needs.plan.outputs.count != '0'");
    expect(job.if).toMatch(/^\$\{\{ !cancelled\(\)/);
    expect(scheduled.jobs.status.needs).toContain('audit');
    const audit = job.steps.find((s: Json) => s.name === 'Audit');
    expect(audit.run).toMatch(/node dist\/cli\.js audit --config \.github\/rotation\.yaml/);
    expect(audit.env).toEqual({ ROTATION_SECRETS_JSON: '${{ toJSON(secrets) }}', ROTATION_VARS_JSON: '${{ toJSON(vars) }}' });
  });

  it('commits the records the audit printed, with the App identity, and a pull request on a protected branch', () => {
    const commit = job.steps.find((s: Json) => s.name === 'Commit the audit records');
    for (const protectedBranch of [false, true]) {
      const dir = mkdtempSync(join(tmpdir(), 'audit-commit-'));
      const origin = join(dir, 'origin.git');
      const work = join(dir, 'work');
      const bin = join(dir, 'bin');
      for (const d of [origin, join(work, 'scripts'), join(work, 'docs/evidence/20261207-0441/db-audit'), bin])
        spawnSync('mkdir', ['-p', d]);
      const git = (cwd: string, ...args: string[]) => spawnSync('git', args, { cwd, encoding: 'utf8' }).stdout.trim();
      git(origin, 'init', '--quiet', '--bare', '-b', 'main');
      git(work, 'init', '--quiet', '-b', 'main');
      writeFileSync(join(work, 'README.md'), 'ops\n');
      git(work, '-c', 'user.name=seed', '-c', 'user.email=seed@example.com', 'commit', '--quiet', '--allow-empty', '-m', 'seed');
      git(work, 'remote', 'add', 'origin', origin);
      git(work, 'push', '--quiet', 'origin', 'main');
      if (protectedBranch) {
        const hook = join(origin, 'hooks', 'pre-receive');
        writeFileSync(
          hook,
          '#!/bin/sh\nwhile read old new ref; do\n  if [ "$ref" = refs/heads/main ]; then echo "GH006: Protected branch update failed." >&2; exit 1; fi\ndone\n',
        );
        spawnSync('chmod', ['+x', hook]);
      }
      spawnSync('cp', [join(root, 'scripts/commit-records.sh'), join(work, 'scripts/')]);
      for (const ext of ['json', 'md']) writeFileSync(join(work, `docs/evidence/20261207-0441/db-audit/odoo-sor.${ext}`), `{}\n`);
      writeFileSync(
        join(dir, 'audit.out'),
        'system  rule\naudit passed: 9 check(s) on 4 system(s)\nrecord: docs/evidence/20261207-0441/db-audit/odoo-sor.json\n',
      );
      writeFileSync(
        join(bin, 'gh'),
        `#!/bin/sh\ncase "$1" in\n  api) echo 4242 ;;\n  pr) echo https://github.com/acme/ops/pull/9 ;;\nesac\n`,
      );
      spawnSync('chmod', ['+x', join(bin, 'gh')]);
      const result = runStep(commit.run, work, {
        PATH: `${bin}:${process.env.PATH}`,
        HOME: dir,
        GIT_CONFIG_NOSYSTEM: '1',
        GH_TOKEN: 'ghs_fake',
        APP_SLUG: 'acme-rotation',
        BRANCH: 'main',
        RUN_URL: 'https://github.com/acme/ops/actions/runs/2',
        RUNNER_TEMP: dir,
        CODE: '0',
        GITHUB_RUN_ID: '2',
        GITHUB_RUN_ATTEMPT: '1',
      });
      expect(result.status, result.stderr).toBe(0);
      const ref = protectedBranch ? 'credential-rotation/records-2-1' : 'main';
      expect(git(origin, 'log', '-1', '--format=%an <%ae>|%s', ref)).toBe(
        'acme-rotation[bot] <4242+acme-rotation[bot]@users.noreply.github.com>|audit: access rules passed',
      );
      expect(git(origin, 'ls-tree', '-r', '--name-only', ref).split('\n')).toEqual(
        expect.arrayContaining(['docs/evidence/20261207-0441/db-audit/odoo-sor.json', 'docs/evidence/20261207-0441/db-audit/odoo-sor.md']),
      );
      if (protectedBranch)
        expect(result.stdout).toContain(
          '::notice title=Records pull request::main refused the push; the records are in https://github.com/acme/ops/pull/9',
        );
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('dispatch.yml', () => {
  it('asks for credential, reason (scheduled | exposure | manual) and dry-run', () => {
    const inputs = dispatch.on.workflow_dispatch.inputs;
    expect(inputs.credential).toMatchObject({ type: 'string', required: true });
    expect(inputs.reason).toMatchObject({ type: 'choice', options: ['scheduled', 'exposure', 'manual'], default: 'manual' });
    expect(inputs['dry-run']).toMatchObject({ type: 'boolean' });
    expect(dispatch.jobs.rotate.uses).toBe('./.github/workflows/rotate.yml');
    expect(dispatch.jobs.rotate.secrets).toBe('inherit');
  });
});

describe('calls match what they call', () => {
  const REUSABLE = /^(?:\.\/|credential-rotation\/credential-rotation\/)\.github\/workflows\/rotate\.yml(?:@.+)?$/;

  it.each(allWorkflowFiles.map(rel))('%s: reusable-workflow calls pass declared inputs, required ones included', (file) => {
    const workflow = readYaml(join(root, file));
    for (const [id, job] of Object.entries<Json>(workflow.jobs)) {
      if (typeof job.uses !== 'string') continue;
      let callee: Json;
      if (job.uses.startsWith('./')) callee = readYaml(join(root, job.uses));
      else if (REUSABLE.test(job.uses)) callee = rotate;
      else continue;
      const declared = callee.on.workflow_call.inputs as Json;
      const passed = Object.keys(job.with ?? {});
      expect(
        passed.filter((k) => !(k in declared)),
        `${file} job ${id}: undeclared inputs`,
      ).toEqual([]);
      const required = Object.entries<Json>(declared)
        .filter(([, d]) => d.required)
        .map(([k]) => k);
      expect(
        required.filter((k) => !passed.includes(k)),
        `${file} job ${id}: missing required inputs`,
      ).toEqual([]);
    }
  });

  it.each(allWorkflowFiles.map(rel))('%s: steps using the action pass only its inputs', (file) => {
    for (const step of stepsOf(readYaml(join(root, file)))) {
      if (!/^credential-rotation\/credential-rotation@/.test(String(step.uses))) continue;
      const passed = Object.keys(step.with ?? {});
      expect(passed.filter((k) => !(k in action.inputs))).toEqual([]);
      expect(passed).toContain('credential');
    }
  });
});

describe('shell steps', () => {
  const runSteps = allWorkflowFiles.flatMap((file) =>
    stepsOf(readYaml(file))
      .filter((s) => typeof s.run === 'string')
      .map((s) => ({ file: rel(file), name: String(s.name ?? s.run.split('\n')[0]), run: s.run as string })),
  );

  it('never splice ${{ }} expressions into scripts (values come in through env)', () => {
    expect(runSteps.filter((s) => s.run.includes('${{')).map((s) => `${s.file}: ${s.name}`)).toEqual([]);
  });

  it.each(runSteps.map((s) => [`${s.file}: ${s.name}`, s.run]))('%s is valid bash', (_name, run) => {
    const result = spawnSync('bash', ['--noprofile', '--norc', '-n'], {
      input: run,
      encoding: 'utf8',
      env: { PATH: process.env.PATH, SHLVL: '1' },
    });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it('.ci/run is executable bash with set -euo pipefail', () => {
    const path = join(root, '.ci/run');
    const text = readFileSync(path, 'utf8');
    expect(text.startsWith('#!/usr/bin/env bash')).toBe(true);
    expect(text).toMatch(/set -euo pipefail/);
    expect(spawnSync('bash', ['-n', path]).status).toBe(0);
    expect(spawnSync('test', ['-x', path]).status).toBe(0);
  });
});

/** Runs a step's script the way the runner runs `shell: bash`: `bash --noprofile --norc -eo pipefail <file>`. */
function runStep(script: string, cwd: string, env: Record<string, string>) {
  const file = join(cwd, '.step.sh');
  writeFileSync(file, script);
  // stdin from /dev/null: bash started on a socket (as Node's pipes are) would read ~/.bashrc.
  return spawnSync('bash', ['--noprofile', '--norc', '-eo', 'pipefail', file], {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
  });
}

describe("rotate.yml's export step", () => {
  const hasJq = spawnSync('jq', ['--version']).status === 0;
  const step = stepsOf(rotate).find((s) => s.name === 'Export the values the policy refers to');

  /** Reads a GITHUB_ENV file: `NAME=value` lines and `NAME<<DELIM` heredocs. */
  function parseGithubEnv(text: string): Record<string, string> {
    const out: Record<string, string> = {};
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const heredoc = /^([^=<]+)<<(.+)$/.exec(lines[i]);
      if (heredoc) {
        const body: string[] = [];
        for (i++; lines[i] !== heredoc[2]; i++) {
          if (i >= lines.length) throw new Error(`unterminated heredoc for ${heredoc[1]}`);
          body.push(lines[i]);
        }
        out[heredoc[1]] = body.join('\n');
      } else if (lines[i].includes('=')) {
        const at = lines[i].indexOf('=');
        out[lines[i].slice(0, at)] = lines[i].slice(at + 1);
      }
    }
    return out;
  }

  it.skipIf(!hasJq)('exports exactly the names the policy mentions, secrets before variables, multi-line intact', () => {
    expect(step).toBeDefined();
    const dir = mkdtempSync(join(tmpdir(), 'rotation-export-'));
    try {
      writeFileSync(
        join(dir, 'rotation.yaml'),
        [
          'systems: { odoo-sor: { type: postgres, admin_url: "${ROTATION_ADMIN_URL}" } }',
          'credentials:',
          '  odoo_app: { current: "${ODOO_DB_PASSWORD}", key: "${SERVICE_KEY}", host: "${DB_HOST}", x: "${MISSING_ONE}", y: "${NODE_OPTIONS}" }',
        ].join('\n'),
      );
      const envFile = join(dir, 'github_env');
      writeFileSync(envFile, '');
      const secrets = {
        github_token: 'ghs_not_exported',
        ROTATION_ADMIN_URL: 'postgres://admin:p@ss@db:5432/postgres',
        ODOO_DB_PASSWORD: 'old-$value"with`quotes',
        SERVICE_KEY: '-----BEGIN KEY-----\nline two\n-----END KEY-----',
        UNRELATED_SECRET: 'not mentioned by the policy',
        NODE_OPTIONS: '--require /tmp/evil.js',
      };
      const vars = { DB_HOST: 'db.internal', ODOO_DB_PASSWORD: 'a variable loses to the secret' };
      const result = runStep(step!.run, dir, {
        CONFIG: 'rotation.yaml',
        SECRETS_JSON: JSON.stringify(secrets),
        VARS_JSON: JSON.stringify(vars),
        GITHUB_ENV: envFile,
        GITHUB_REPOSITORY: 'acme/ops',
        GITHUB_SHA: 'abc',
      });
      expect(result.stderr).toBe('');
      expect(result.status).toBe(0);
      const exported = parseGithubEnv(readFileSync(envFile, 'utf8'));
      expect(exported).toEqual({
        ROTATION_ADMIN_URL: secrets.ROTATION_ADMIN_URL,
        ODOO_DB_PASSWORD: secrets.ODOO_DB_PASSWORD,
        SERVICE_KEY: secrets.SERVICE_KEY,
        DB_HOST: 'db.internal',
      });
      // Names only, never values, in the log.
      expect(result.stdout).toMatch(/MISSING_ONE/);
      expect(result.stdout).toMatch(/NODE_OPTIONS/);
      for (const value of Object.values(secrets)) expect(result.stdout).not.toContain(value);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.skipIf(!hasJq)('fails with a clear message when the policy file is missing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rotation-export-'));
    try {
      const result = runStep(step!.run, dir, {
        CONFIG: '.github/rotation.yaml',
        SECRETS_JSON: '{}',
        VARS_JSON: '{}',
        GITHUB_ENV: join(dir, 'env'),
        GITHUB_REPOSITORY: 'acme/ops',
        GITHUB_SHA: 'abc',
      });
      expect(result.status).not.toBe(0);
      expect(result.stdout).toMatch(/::error .*\.github\/rotation\.yaml does not exist/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("rotate.yml's evidence commit step", () => {
  const step = stepsOf(rotate).find((s) => s.name === 'Commit the evidence');
  const git = (cwd: string, ...args: string[]) => {
    const r = spawnSync('git', args, { cwd, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
    return r.stdout.trim();
  };

  /** An origin with one commit on main, a clone of it, an evidence record to commit, a fake `gh`. */
  function setUp(options: { protectedBranch: boolean; existing?: boolean }) {
    const dir = mkdtempSync(join(tmpdir(), 'rotation-commit-'));
    const origin = join(dir, 'origin.git');
    const work = join(dir, 'work');
    const temp = join(dir, 'runner-temp');
    const bin = join(dir, 'bin');
    for (const d of [origin, work, join(temp, 'evidence'), bin]) spawnSync('mkdir', ['-p', d]);
    git(origin, 'init', '--quiet', '--bare', '-b', 'main');
    git(work, 'init', '--quiet', '-b', 'main');
    git(work, 'config', 'user.name', 'seed');
    git(work, 'config', 'user.email', 'seed@example.com');
    const evidenceDir = 'docs/evidence/20260101-0300/db-rotation';
    spawnSync('mkdir', ['-p', join(work, evidenceDir)]);
    writeFileSync(join(work, 'README.md'), 'ops\n');
    if (options.existing) writeFileSync(join(work, evidenceDir, 'odoo_app.json'), '{"from":"another run"}\n');
    git(work, 'add', '.');
    git(work, 'commit', '--quiet', '-m', 'seed');
    git(work, 'remote', 'add', 'origin', origin);
    git(work, 'push', '--quiet', 'origin', 'main');
    if (options.protectedBranch) {
      const hook = join(origin, 'hooks', 'pre-receive');
      writeFileSync(
        hook,
        '#!/bin/sh\nwhile read old new ref; do\n  if [ "$ref" = refs/heads/main ]; then echo "GH006: Protected branch update failed for refs/heads/main." >&2; exit 1; fi\ndone\n',
      );
      spawnSync('chmod', ['+x', hook]);
    }
    writeFileSync(join(temp, 'evidence', 'odoo_app.json'), '{"credential":"odoo_app"}\n');
    writeFileSync(join(temp, 'evidence', 'odoo_app.md'), '# odoo_app\n');
    const ghLog = join(dir, 'gh.log');
    writeFileSync(
      join(bin, 'gh'),
      `#!/bin/sh\necho "$@" >> '${ghLog}'\ncase "$1" in\n  api) echo 4242 ;;\n  pr) echo https://github.com/acme/ops/pull/7 ;;\nesac\n`,
    );
    spawnSync('chmod', ['+x', join(bin, 'gh')]);
    const summary = join(dir, 'summary.md');
    writeFileSync(summary, '');
    const env = {
      PATH: `${bin}:${process.env.PATH}`,
      HOME: dir,
      GIT_CONFIG_NOSYSTEM: '1',
      GH_TOKEN: 'ghs_fake',
      APP_SLUG: 'acme-rotation',
      EVIDENCE_DIR: evidenceDir,
      CREDENTIAL: 'odoo_app',
      REASON: 'scheduled',
      STATUS: 'rotated',
      BRANCH: 'main',
      RUN_URL: 'https://github.com/acme/ops/actions/runs/1',
      RUNNER_TEMP: temp,
      GITHUB_RUN_ID: '1',
      GITHUB_RUN_ATTEMPT: '1',
      GITHUB_STEP_SUMMARY: summary,
    };
    return { dir, origin, work, env, ghLog, evidenceDir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
  }

  it('commits the record to the branch with the App identity', () => {
    const t = setUp({ protectedBranch: false });
    try {
      const result = runStep(step!.run, t.work, t.env);
      expect(result.stderr + result.stdout).toMatch(/Evidence committed to main/);
      expect(result.status).toBe(0);
      expect(git(t.origin, 'log', '-1', '--format=%an <%ae>|%s', 'main')).toBe(
        'acme-rotation[bot] <4242+acme-rotation[bot]@users.noreply.github.com>|evidence: odoo_app rotated (scheduled)',
      );
      expect(git(t.origin, 'ls-tree', '-r', '--name-only', 'main')).toContain(`${t.evidenceDir}/odoo_app.md`);
    } finally {
      t.cleanup();
    }
  });

  it('never overwrites a record already on the branch', () => {
    const t = setUp({ protectedBranch: false, existing: true });
    try {
      const result = runStep(step!.run, t.work, t.env);
      expect(result.status).toBe(0);
      expect(git(t.origin, 'show', `main:${t.evidenceDir}/odoo_app.json`)).toBe('{"from":"another run"}');
      expect(git(t.origin, 'show', `main:${t.evidenceDir}/odoo_app-2.json`)).toBe('{"credential":"odoo_app"}');
    } finally {
      t.cleanup();
    }
  });

  it('rebases and retries when another run pushed first', () => {
    const t = setUp({ protectedBranch: false });
    try {
      const other = join(t.dir, 'other');
      git(t.dir, 'clone', '--quiet', t.origin, other);
      writeFileSync(join(other, 'superset_ro.json'), '{}\n');
      git(other, 'add', '.');
      git(other, '-c', 'user.name=x', '-c', 'user.email=x@example.com', 'commit', '--quiet', '-m', 'evidence: superset_ro rotated');
      git(other, 'push', '--quiet', 'origin', 'main');
      const result = runStep(step!.run, t.work, t.env);
      expect(result.stdout).toMatch(/rebasing on main and retrying/);
      expect(result.status).toBe(0);
      expect(git(t.origin, 'log', '--format=%s', 'main').split('\n')).toEqual([
        'evidence: odoo_app rotated (scheduled)',
        'evidence: superset_ro rotated',
        'seed',
      ]);
    } finally {
      t.cleanup();
    }
  });

  it('opens a pull request when the branch is protected', () => {
    const t = setUp({ protectedBranch: true });
    try {
      const result = runStep(step!.run, t.work, t.env);
      expect(result.status).toBe(0);
      expect(result.stdout).toMatch(/::notice title=Evidence pull request::.*pull\/7/);
      expect(git(t.origin, 'log', '-1', '--format=%s', 'main')).toBe('seed');
      expect(git(t.origin, 'log', '-1', '--format=%s', 'credential-rotation/evidence-odoo_app-1-1')).toMatch(/^evidence: odoo_app/);
      expect(readFileSync(t.ghLog, 'utf8')).toMatch(/pr create --base main --head credential-rotation\/evidence-odoo_app-1-1/);
    } finally {
      t.cleanup();
    }
  });
});
