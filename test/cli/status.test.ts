import { describe, expect, it, beforeAll } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPolicy } from '../../src/registry/load-policy.js';
import { planMatrix, planRotations } from '../../src/cli/plan.js';
import { overdueMessage, statusMarkdown, statusRows, statusTable, writeStepSummary } from '../../src/cli/status.js';
import type { Policy } from '../../src/policy/types.js';
import { CADENCE_POLICY, workspaceWithHistory } from '../helpers/evidence.js';

let workspace: string;
let policy: Policy;
beforeAll(async () => {
  workspace = await workspaceWithHistory(CADENCE_POLICY, [
    ['monthly_app', '2026-01-31T10:00:00Z'], // due 2026-02-28, overdue from 2026-03-01T10:00:05Z
    ['quarterly_app', '2026-01-15T03:00:00Z'],
    ['quarterly_app', '2026-02-20T03:00:00Z', 'failed'],
    ['annual_app', '2025-03-01T03:00:00Z'], // due 2026-03-01
    ['tenday_app', '2026-02-25T00:00:00Z'], // due 2026-03-07
  ]);
  policy = loadPolicy(join(workspace, '.github/rotation.yaml'), {}, { withoutSecrets: true });
});

const NOW = new Date('2026-03-03T00:00:00Z');

describe('status from the evidence', () => {
  it('gives last rotation, next due date, the overdue flag and the evidence per credential', () => {
    const rows = Object.fromEntries(statusRows(policy, workspace, NOW).map((r) => [r.credential, r]));
    expect(rows.monthly_app).toMatchObject({
      state: 'overdue',
      last_rotated: '2026-01-31T10:00:05.000Z',
      next_due: '2026-02-28T10:00:05.000Z',
      overdue: true,
      evidence: 'docs/evidence/20260131-1000/db-rotation/monthly_app.json',
      last_attempt: null,
    });
    expect(rows.annual_app).toMatchObject({ state: 'overdue', overdue: true, next_due: '2026-03-01T03:00:05.000Z' });
    expect(rows.tenday_app).toMatchObject({ state: 'not due', overdue: false, next_due: '2026-03-07T00:00:05.000Z' });
    // The failed attempt after the last success is shown, and does not move the dates.
    expect(rows.quarterly_app).toMatchObject({
      state: 'not due',
      overdue: false,
      last_rotated: '2026-01-15T03:00:05.000Z',
      next_due: '2026-04-15T03:00:05.000Z',
      last_attempt: { status: 'failed', evidence: 'docs/evidence/20260220-0300/db-rotation/quarterly_app.json' },
    });
    expect(rows.never_app).toMatchObject({ state: 'never rotated', last_rotated: null, next_due: null, overdue: true, evidence: null });
  });

  it('agrees with plan: what status calls overdue or never rotated, plan schedules', () => {
    const late = statusRows(policy, workspace, NOW)
      .filter((r) => r.overdue)
      .map((r) => r.credential);
    const planned = planMatrix(planRotations(policy, workspace, NOW)).include.map((i) => i.credential);
    expect(late.every((c) => planned.includes(c))).toBe(true);
  });

  it('names the credentials the compliance gate fails on, and nothing when all are in time', async () => {
    expect(overdueMessage(statusRows(policy, workspace, NOW))).toBe(
      'overdue: monthly_app (due 2026-02-28), annual_app (due 2026-03-01); never rotated (no evidence): never_app',
    );
    const fine = await workspaceWithHistory(
      CADENCE_POLICY,
      ['monthly_app', 'quarterly_app', 'annual_app', 'tenday_app', 'never_app'].map((c) => [c, '2026-03-01T00:00:00Z'] as [string, string]),
    );
    const rows = statusRows(loadPolicy(join(fine, '.github/rotation.yaml'), {}, { withoutSecrets: true }), fine, NOW);
    expect(rows.map((r) => r.overdue)).toEqual([false, false, false, false, false]);
    expect(overdueMessage(rows)).toBeUndefined();
  });

  it('prints a table and appends the same rows to the job summary as Markdown', () => {
    const rows = statusRows(policy, workspace, NOW);
    const table = statusTable(rows).split('\n');
    expect(table[0]).toMatch(/^credential\s+state\s+cadence\s+last rotated\s+next due\s+overdue\s+evidence$/);
    expect(table.find((l) => l.startsWith('monthly_app'))).toMatch(
      /overdue\s+monthly\s+2026-01-31 10:00\s+2026-02-28\s+YES\s+docs\/evidence\/20260131-1000/,
    );
    expect(table.find((l) => l.startsWith('never_app'))).toMatch(/never rotated\s+quarterly\s+never\s+now\s+YES\s+-$/);

    const summary = join(mkdtempSync(join(tmpdir(), 'status-summary-')), 'summary.md');
    writeFileSync(summary, '# earlier step\n');
    writeStepSummary(rows, NOW, { GITHUB_STEP_SUMMARY: summary });
    const md = readFileSync(summary, 'utf8');
    expect(md.startsWith('# earlier step\n### Credential rotation status')).toBe(true);
    expect(md).toContain('5 credential(s), 3 overdue or never rotated, as of 2026-03-03T00:00:00.000Z.');
    expect(md).toContain('| credential | state | cadence | last rotated | next due | overdue | evidence |');
    expect(md).toContain(
      '| monthly_app | overdue | monthly | 2026-01-31 10:00 | 2026-02-28 | YES | docs/evidence/20260131-1000/db-rotation/monthly_app.json |',
    );
    expect(md).toBe(`# earlier step\n${statusMarkdown(rows, NOW)}\n`);
    // Without GITHUB_STEP_SUMMARY nothing is written anywhere.
    expect(() => writeStepSummary(rows, NOW, {})).not.toThrow();
  });
});
