// .github/workflows/exposure.yml (issue 17): what a security team relies on beyond the schema check
// every workflow gets in workflows.test.ts (SchemaStore's github-workflow.json): when it runs, one
// run at a time, the App token's permissions, and its steps run as the runner runs them (a fake
// `node` stands in for the CLI, a fake commit script records what would be committed).
import { describe, expect, it } from 'vitest';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
// The workflow as parsed, navigated by the assertions.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const workflow = parse(readFileSync(join(root, '.github/workflows/exposure.yml'), 'utf8')) as Record<string, any>;
const job = workflow.jobs.exposures;
const step = (name: string) => job.steps.find((s: { name?: string }) => s.name === name);

describe('exposure.yml', () => {
  it('runs every 10 minutes, on workflow_dispatch and on repository_dispatch secret-scanning-alert, one run at a time', () => {
    expect(workflow.on.schedule).toEqual([{ cron: '*/10 * * * *' }]);
    expect(workflow.on.workflow_dispatch.inputs.apply).toMatchObject({ type: 'boolean', default: true });
    expect(workflow.on.repository_dispatch).toEqual({ types: ['secret-scanning-alert'] });
    expect(workflow.concurrency).toEqual({ group: 'credential-rotation-exposure', 'cancel-in-progress': false });
    expect(workflow.permissions).toEqual({ contents: 'read' });
  });

  it('reads alerts and writes secrets with the App token (GITHUB_TOKEN can do neither)', () => {
    const mint = step('Mint a GitHub App token (secret scanning alerts, secrets, contents)');
    expect(mint.uses).toMatch(/^actions\/create-github-app-token@/);
    expect(mint.with).toMatchObject({
      'permission-secret-scanning-alerts': 'write',
      'permission-secrets': 'write',
      'permission-contents': 'write',
    });
    const respond = step('Respond to exposures');
    expect(respond.env.GITHUB_TOKEN).toBe('${{ steps.app-token.outputs.token }}');
    expect(respond.env).toMatchObject({ ROTATION_SECRETS_JSON: '${{ toJSON(secrets) }}', ROTATION_VARS_JSON: '${{ toJSON(vars) }}' });
  });

  /** The three steps in order, as the runner runs them, with `node` answering `code` and printing `out`. */
  function runSteps(apply: string, code: number, out: string) {
    const dir = mkdtempSync(join(tmpdir(), 'exposure-workflow-'));
    try {
      for (const d of ['bin', 'work/.github', 'work/scripts']) mkdirSync(join(dir, d), { recursive: true });
      writeFileSync(join(dir, 'work/.github/rotation.yaml'), 'version: 1\n');
      writeFileSync(join(dir, 'bin/node'), `#!/bin/sh\necho "$@" > "${dir}/node.args"\ncat <<'EOF'\n${out}\nEOF\nexit ${code}\n`);
      writeFileSync(join(dir, 'work/scripts/commit-records.sh'), `#!/bin/sh\nprintf '%s\\n' "$@" > "${dir}/committed"\n`);
      for (const f of ['bin/node', 'work/scripts/commit-records.sh']) chmodSync(join(dir, f), 0o755);
      const env = { PATH: `${join(dir, 'bin')}:${process.env.PATH}`, RUNNER_TEMP: dir, GITHUB_OUTPUT: join(dir, 'output'), APPLY: apply };
      writeFileSync(env.GITHUB_OUTPUT, '');
      const run = (name: string, extra: Record<string, string> = {}) => {
        writeFileSync(join(dir, 'step.sh'), step(name).run);
        return spawnSync('bash', ['--noprofile', '--norc', '-eo', 'pipefail', join(dir, 'step.sh')], {
          cwd: join(dir, 'work'),
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'pipe'],
          env: { ...env, ...extra },
        });
      };
      const respond = run('Respond to exposures');
      const output = readFileSync(env.GITHUB_OUTPUT, 'utf8');
      const commit = run('Commit the evidence', { CODE: output.match(/code=(\d+)/)?.[1] ?? '' });
      const read = (f: string) => {
        try {
          return readFileSync(join(dir, f), 'utf8');
        } catch {
          return '';
        }
      };
      return { respond, output, commit, args: read('node.args').trim(), committed: read('committed').trim().split('\n') };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it('runs `exposures --apply` and commits every record it printed; a failed response (exit 1) is committed before the job fails', () => {
    const records =
      'record: docs/evidence/20261203-0810/db-exposure/odoo_app.json\nrecord: docs/evidence/20261203-0810/db-exposure/odoo_app.md\nrecord: docs/evidence/20261203-0810/db-rotation/odoo_app.json';
    const ok = runSteps('true', 0, `alert ...\n${records}`);
    expect(ok.respond.status, ok.respond.stderr).toBe(0);
    expect(ok.args).toBe('dist/cli.js exposures --config .github/rotation.yaml --apply');
    expect(ok.output).toContain('code=0');
    expect(ok.committed).toEqual(['exposure: leaked credentials handled', ...records.split('\n').map((l) => l.slice('record: '.length))]);
    const failed = runSteps('true', 1, records);
    expect(failed.respond.status).toBe(0);
    expect(failed.output).toContain('code=1');
    expect(failed.committed[0]).toBe('exposure: leaked credentials handled in part (see the run)');
    expect(step('Fail on a failed response').if).toBe("${{ steps.exposures.outputs.code != '0' }}");
  });

  it('a dispatch with apply off only reports; a bad policy (exit 2) fails the step and commits nothing', () => {
    const dry = runSteps('false', 0, 'dry run: nothing was changed');
    expect(dry.args).toBe('dist/cli.js exposures --config .github/rotation.yaml');
    expect(dry.commit.stdout).toContain('No record written.');
    const bad = runSteps('true', 2, 'error: .github/rotation.yaml has no exposure: key');
    expect(bad.respond.status).not.toBe(0);
    expect(bad.output).toContain('code=2');
    expect(bad.committed).toEqual(['']);
  });
});
