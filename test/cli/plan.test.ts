import { describe, expect, it, beforeAll } from 'vitest';
import { join } from 'node:path';
import { loadPolicy } from '../../src/registry/load-policy.js';
import { parseNow, planMatrix, planRotations, planTable } from '../../src/cli/plan.js';
import type { Policy } from '../../src/policy/types.js';
import { CADENCE_POLICY, workspaceWithHistory } from '../helpers/evidence.js';

// Records finish 5 s after they start; the cadence counts from the finish of the last success.
const HISTORY: [string, string, ('rotated' | 'failed')?][] = [
  ['monthly_app', '2026-01-31T10:00:00Z'], // due 2026-02-28T10:00:05Z (31 Jan + 1 month is the end of February)
  ['quarterly_app', '2025-10-01T03:00:00Z'],
  ['quarterly_app', '2026-01-15T03:00:00Z'], // due 2026-04-15T03:00:05Z
  ['quarterly_app', '2026-04-16T03:00:00Z', 'failed'], // a failure does not count
  ['annual_app', '2025-03-01T03:00:00Z'], // due 2026-03-01T03:00:05Z
  ['tenday_app', '2026-02-20T00:00:00Z'], // due 2026-03-02T00:00:05Z
  ['never_app', '2026-01-01T03:00:00Z', 'failed'], // only a failed attempt: never rotated
  ['retired_app', '2020-01-01T00:00:00Z'], // no longer in the policy: ignored
];

let workspace: string;
let policy: Policy;
beforeAll(async () => {
  workspace = await workspaceWithHistory(CADENCE_POLICY, HISTORY);
  // As the scheduled workflow reads it: no secret is set.
  policy = loadPolicy(join(workspace, '.github/rotation.yaml'), {}, { withoutSecrets: true });
});

const dueAt = (now: string) =>
  planMatrix(planRotations(policy, workspace, new Date(now)))
    .include.map((i) => i.credential)
    .sort();
const stateAt = (now: string) => Object.fromEntries(planRotations(policy, workspace, new Date(now)).map((r) => [r.credential, r.state]));

describe('plan over an evidence history', () => {
  it.each([
    ['2026-02-28T10:00:04.999Z', ['never_app']],
    ['2026-02-28T10:00:05Z', ['monthly_app', 'never_app']],
    ['2026-03-01T03:00:04Z', ['monthly_app', 'never_app']],
    ['2026-03-01T03:00:05Z', ['annual_app', 'monthly_app', 'never_app']],
    ['2026-03-02T00:00:04Z', ['annual_app', 'monthly_app', 'never_app']],
    ['2026-03-02T00:00:05Z', ['annual_app', 'monthly_app', 'never_app', 'tenday_app']],
    ['2026-04-15T03:00:04Z', ['annual_app', 'monthly_app', 'never_app', 'tenday_app']],
    ['2026-04-15T03:00:05Z', ['annual_app', 'monthly_app', 'never_app', 'quarterly_app', 'tenday_app']],
  ])('at %s picks exactly %j', (now, expected) => {
    expect(dueAt(now)).toEqual(expected);
  });

  it('tells due (on the day), overdue (a day later), never rotated and not due apart', () => {
    expect(stateAt('2026-02-28T12:00:00Z')).toEqual({
      monthly_app: 'due',
      quarterly_app: 'not due',
      annual_app: 'not due',
      tenday_app: 'not due',
      never_app: 'never rotated',
    });
    expect(stateAt('2026-03-01T10:00:06Z').monthly_app).toBe('overdue');
    // The failed run of 16 April does not reset the clock: still overdue from 15 April.
    expect(stateAt('2026-04-20T00:00:00Z').quarterly_app).toBe('overdue');
  });

  it('counts from the last successful rotation', async () => {
    const later = await workspaceWithHistory(CADENCE_POLICY, [...HISTORY, ['monthly_app', '2026-03-01T03:00:00Z']]);
    const rows = planRotations(
      loadPolicy(join(later, '.github/rotation.yaml'), {}, { withoutSecrets: true }),
      later,
      new Date('2026-03-02T00:00:00Z'),
    );
    expect(rows.find((r) => r.credential === 'monthly_app')).toMatchObject({
      due: false,
      state: 'not due',
      nextDue: '2026-04-01T03:00:05.000Z',
    });
  });

  it('the matrix is what strategy.matrix takes: one include per due credential, reason scheduled', () => {
    expect(planMatrix(planRotations(policy, workspace, new Date('2026-02-28T10:00:05Z')))).toEqual({
      include: [
        { credential: 'monthly_app', reason: 'scheduled' },
        { credential: 'never_app', reason: 'scheduled' },
      ],
    });
    expect(planMatrix(planRotations(policy, workspace, new Date('2026-02-01T00:00:00Z'))).include).toEqual([
      { credential: 'never_app', reason: 'scheduled' },
    ]);
  });

  it('prints a table with state, dates and what a run would do', () => {
    const table = planTable(planRotations(policy, workspace, new Date('2026-02-28T12:00:00Z')));
    const lines = table.split('\n');
    expect(lines[0]).toMatch(/^credential\s+state\s+cadence\s+last rotated\s+next due\s+would do$/);
    expect(lines.find((l) => l.startsWith('monthly_app'))).toMatch(
      /due\s+monthly\s+2026-01-31 10:00\s+2026-02-28\s+alter-role; 1 store\(s\)/,
    );
    expect(lines.find((l) => l.startsWith('quarterly_app'))).toMatch(/not due\s+quarterly\s+2026-01-15 03:00\s+2026-04-15\s+nothing$/);
    expect(lines.find((l) => l.startsWith('never_app'))).toMatch(/never rotated\s+quarterly\s+-\s+now\s+alter-role/);
  });

  it('--now takes an ISO date or time and refuses anything else', () => {
    expect(parseNow('2026-07-01T03:00:00Z').toISOString()).toBe('2026-07-01T03:00:00.000Z');
    expect(parseNow('2026-07-01').toISOString()).toBe('2026-07-01T00:00:00.000Z');
    expect(() => parseNow('next tuesday')).toThrow(/--now: expected an ISO 8601 date/);
    expect(() => parseNow('2026-13-45')).toThrow(/--now/);
  });
});
