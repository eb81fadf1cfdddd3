// The built CLI (dist/cli.js, run `npm run build` first), run as a child the way an operator or a
// workflow step runs it.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { generatePassword } from '../../src/secret/generate.js';
import { scramVerifier } from '../../src/postgres/scram.js';
import { CADENCE_POLICY, workspaceWithHistory } from '../helpers/evidence.js';
import { alterRolePolicy, leakHaystack, login, makeRole, usePostgres } from '../helpers/postgres.js';
import { cli, ROOT } from '../helpers/cli-child.js';

const root = ROOT;

const daysAgo = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString();

describe('plan, status and help (no secrets needed)', () => {
  it('--help lists every command', async () => {
    const run = await cli(['--help']);
    expect(run.code).toBe(0);
    for (const command of [
      'rotate [options] <credential>',
      'plan [options]',
      'status [options]',
      'verify [options] [credential]',
      'demo [options]',
    ])
      expect(run.stdout).toContain(command);
  });

  it('plan prints the table; plan --json prints only the matrix', async () => {
    const ws = await workspaceWithHistory(CADENCE_POLICY, [
      ['monthly_app', '2026-01-31T10:00:00Z'],
      ['quarterly_app', '2026-01-15T03:00:00Z'],
    ]);
    const table = await cli(['-C', ws, 'plan', '--now', '2026-03-01T00:00:00Z']);
    expect(table.code).toBe(0);
    expect(table.stdout.split('\n')[0]).toMatch(/^credential\s+state\s+cadence\s+last rotated\s+next due\s+would do$/);
    expect(table.stdout).toMatch(/^monthly_app\s+due\s+monthly/m);
    expect(table.stdout).toMatch(/^quarterly_app\s+not due\s+quarterly\s+2026-01-15 03:00\s+2026-04-15\s+nothing$/m);

    const json = await cli(['-C', ws, 'plan', '--json', '--now', '2026-03-01T00:00:00Z']);
    expect(json.code).toBe(0);
    expect(json.stderr).toBe('');
    expect(JSON.parse(json.stdout)).toEqual({
      include: ['monthly_app', 'annual_app', 'tenday_app', 'never_app'].map((credential) => ({ credential, reason: 'scheduled' })),
    });
  });

  it('refuses a bad --now and a bad policy with exit code 2 and a message', async () => {
    const ws = await workspaceWithHistory(CADENCE_POLICY, []);
    const badNow = await cli(['-C', ws, 'plan', '--now', 'soon']);
    expect(badNow.code).toBe(2);
    expect(badNow.stderr).toMatch(/--now: expected an ISO 8601 date/);
    writeFileSync(join(ws, '.github/rotation.yaml'), CADENCE_POLICY.replace('cadence: monthly', 'cadence: weekly'));
    const badPolicy = await cli(['-C', ws, 'plan']);
    expect(badPolicy.code).toBe(2);
    expect(badPolicy.stderr).toMatch(/rotation\.yaml: credentials\.monthly_app\.cadence: expected/);
  });

  it('status --fail-on-overdue exits 1 naming the overdue credentials, 0 when all are in time; the table goes to the job summary', async () => {
    const late = await workspaceWithHistory(CADENCE_POLICY, [
      ['monthly_app', daysAgo(45)],
      ['quarterly_app', daysAgo(10)],
      ['annual_app', daysAgo(10)],
      ['tenday_app', daysAgo(1)],
      ['never_app', daysAgo(1)],
    ]);
    const summary = join(late, 'summary.md');
    const gate = await cli(['-C', late, 'status', '--fail-on-overdue'], { GITHUB_STEP_SUMMARY: summary });
    expect(gate.code).toBe(1);
    expect(gate.stderr).toMatch(/^error: overdue: monthly_app \(due \d{4}-\d{2}-\d{2}\)\n$/);
    expect(gate.stdout).toMatch(/^monthly_app\s+overdue\s+monthly\s.*\sYES\s/m);
    expect(readFileSync(summary, 'utf8')).toMatch(/\| monthly_app \| overdue \| monthly \| .* \| YES \|/);
    // Without the flag the same report exits 0: only a gate fails.
    expect((await cli(['-C', late, 'status'])).code).toBe(0);

    const fine = await workspaceWithHistory(
      CADENCE_POLICY,
      ['monthly_app', 'quarterly_app', 'annual_app', 'tenday_app', 'never_app'].map((c) => [c, daysAgo(1)] as [string, string]),
    );
    const pass = await cli(['-C', fine, 'status', '--fail-on-overdue', '--json']);
    expect(pass.code).toBe(0);
    expect(JSON.parse(pass.stdout).map((r: { credential: string; overdue: boolean }) => [r.credential, r.overdue])).toEqual(
      ['monthly_app', 'quarterly_app', 'annual_app', 'tenday_app', 'never_app'].map((c) => [c, false]),
    );
  });
});

describe("scheduled.yml: the rotate job's matrix comes from plan", () => {
  const scheduled = parse(readFileSync(join(root, '.github/workflows/scheduled.yml'), 'utf8'));
  const planStep = scheduled.jobs.plan.steps.find((s: { id?: string }) => s.id === 'plan');

  /** Runs the plan step's script as the runner would, in a checkout whose dist/ is the built one. */
  async function runPlanStep(history: [string, string][], options: { withoutPolicy?: boolean } = {}) {
    const ws = await workspaceWithHistory(CADENCE_POLICY, history);
    if (options.withoutPolicy) rmSync(join(ws, '.github/rotation.yaml'));
    symlinkSync(join(root, 'dist'), join(ws, 'dist'));
    const [output, summary] = [join(ws, 'github_output'), join(ws, 'summary.md')];
    writeFileSync(output, '');
    writeFileSync(summary, '');
    const step = spawnSync('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', planStep.run], {
      cwd: ws,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: `${dirname(process.execPath)}:${process.env.PATH}`, GITHUB_OUTPUT: output, GITHUB_STEP_SUMMARY: summary },
    });
    const outputs = Object.fromEntries(
      readFileSync(output, 'utf8')
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    return { step, outputs, summary: readFileSync(summary, 'utf8') };
  }

  /** The job's `strategy.matrix` and `if`, evaluated as GitHub would for these plan outputs. */
  function rotateJobFor(planOutputs: Record<string, string>) {
    const job = scheduled.jobs.rotate;
    // The job outputs map the step outputs one to one; the matrix is fromJSON of that output.
    expect(scheduled.jobs.plan.outputs).toEqual({
      matrix: '${{ steps.plan.outputs.matrix }}',
      count: '${{ steps.plan.outputs.count }}',
      'has-policy': '${{ steps.plan.outputs.has-policy }}',
    });
    expect(job.strategy.matrix).toBe('${{ fromJSON(needs.plan.outputs.matrix) }}');
    expect(job.if).toBe("${{ needs.plan.outputs.count != '0' && fromJSON(needs.plan.outputs.matrix).include[0] != null }}");
    const matrix = JSON.parse(planOutputs.matrix) as { include: { credential: string; reason: string }[] };
    const runs = planOutputs.count !== '0' && matrix.include[0] != null;
    return { runs, jobs: runs ? matrix.include.map((m) => ({ credential: m.credential, reason: m.reason })) : [] };
  }

  it('runs `node dist/cli.js plan --json` and fans out one reusable-workflow call per due credential', async () => {
    expect(planStep.run).toMatch(/node dist\/cli\.js plan --json/);
    const { step, outputs, summary } = await runPlanStep([
      ['monthly_app', daysAgo(40)], // due
      ['quarterly_app', daysAgo(10)],
      ['annual_app', daysAgo(400)], // overdue
      ['tenday_app', daysAgo(3)],
    ]);
    expect(step.stderr).toBe('');
    expect(step.status).toBe(0);
    expect(outputs.count).toBe('3');
    expect(rotateJobFor(outputs)).toEqual({
      runs: true,
      jobs: [
        { credential: 'monthly_app', reason: 'scheduled' },
        { credential: 'annual_app', reason: 'scheduled' },
        { credential: 'never_app', reason: 'scheduled' },
      ],
    });
    expect(summary).toMatch(/### Rotation plan[\s\S]*annual_app\s+overdue/);
    // Each matrix entry becomes the reusable workflow's inputs, with its own concurrency group there.
    expect(scheduled.jobs.rotate.with).toMatchObject({ credential: '${{ matrix.credential }}', reason: '${{ matrix.reason }}' });
    expect(scheduled.jobs.rotate.strategy['fail-fast']).toBe(false);
  });

  it('starts no rotation when nothing is due', async () => {
    const { step, outputs } = await runPlanStep(
      ['monthly_app', 'quarterly_app', 'annual_app', 'tenday_app', 'never_app'].map((c) => [c, daysAgo(1)]),
    );
    expect(step.status).toBe(0);
    expect(outputs).toEqual({ matrix: '{"include":[]}', count: '0', 'has-policy': 'true' });
    expect(rotateJobFor(outputs)).toEqual({ runs: false, jobs: [] });
  });

  it('in a repository with no policy file, says so and starts nothing (no daily failure)', async () => {
    const { step, outputs } = await runPlanStep([], { withoutPolicy: true });
    expect(step.status).toBe(0);
    expect(step.stdout).toContain('::notice title=No policy file::');
    expect(outputs).toEqual({ matrix: '{"include":[]}', count: '0', 'has-policy': 'false' });
    expect(rotateJobFor(outputs)).toEqual({ runs: false, jobs: [] });
    expect(scheduled.jobs.status.if).toContain("needs.plan.outputs.has-policy == 'true'");
  });

  it('ends with the compliance gate: status --fail-on-overdue on the branch tip, after the rotations', () => {
    const status = scheduled.jobs.status;
    // After the audit too, so the gate's table shows the audit just committed.
    expect(status.needs).toEqual(['plan', 'rotate', 'audit']);
    expect(status.if).toMatch(/!cancelled\(\)/);
    expect(status.steps[0]).toMatchObject({ uses: expect.stringMatching(/^actions\/checkout@/), with: { ref: '${{ github.ref }}' } });
    expect(status.steps.map((s: { run?: string }) => s.run ?? '').join('\n')).toMatch(/node dist\/cli\.js status --fail-on-overdue/);
  });
});

describe('rotate and verify on a real PostgreSQL 16', () => {
  const fx = usePostgres();

  it('rotates with a file store, verify passes, and catches a password changed behind its back', async () => {
    const old = await makeRole(fx(), 'cli_app');
    const ws = mkdtempSync(join(tmpdir(), 'cli-run-'));
    mkdirSync(join(ws, '.github'));
    writeFileSync(join(ws, '.github/rotation.yaml'), alterRolePolicy(fx(), 'cli_app'));
    const env = { ROTATION_ADMIN_URL: fx().platform.adminUrl };

    const rotate = await cli(['-C', ws, 'rotate', 'cli_app'], { ...env, CURRENT: old.reveal() });
    expect(rotate.stderr).toBe('');
    expect(rotate.code).toBe(0);
    expect(rotate.stdout).toMatch(/status: rotated/);
    const fresh = readFileSync(join(ws, '.secrets/app.env'), 'utf8').match(/^DB_PASSWORD=(.*)$/m)![1];
    expect((await login(fx(), 'cli_app', fresh)).ok).toBe(true);

    const status = await cli(['-C', ws, 'status', '--fail-on-overdue']);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/^cli_app\s+not due\s+quarterly\s/m);

    const verified = await cli(['-C', ws, 'verify', 'cli_app'], { ...env, CURRENT: fresh });
    expect(verified.stderr).toBe('');
    expect(verified.code).toBe(0);
    expect(verified.stdout).toMatch(/^cli_app\s+ok\s+current\s+2 agrees\s+the value from current works$/m);

    const behind = generatePassword();
    const su = await fx().server.client();
    try {
      await su.query(`ALTER ROLE cli_app PASSWORD ${su.escapeLiteral(scramVerifier(behind))}`);
    } finally {
      await su.end();
    }
    const caught = await cli(['-C', ws, 'verify'], { ...env, CURRENT: fresh });
    expect(caught.code).toBe(1);
    expect(caught.stdout).toMatch(/^cli_app\s+FAILED\s+current\s/m);
    expect(caught.stderr).toMatch(
      /^error: cli_app: the value from current no longer works at alter-role \(Postgres 127\.0\.0\.1:\d+\/odoo role cli_app\)$/m,
    );

    const haystack = leakHaystack(rotate.stdout, rotate.stderr, status.stdout, verified.stdout, caught.stdout, caught.stderr);
    for (const secret of [old.reveal(), fresh, behind.reveal()]) expect(haystack).not.toContain(secret);
  });
});
