import type { Policy } from '../policy/types.js';
import { dueState, readHistory, type DueState, type HistoryEntry } from '../evidence/history.js';
import { RotationError } from '../errors/errors.js';

export interface PlanRow extends DueState {
  credential: string;
  method: string;
  cadence: string;
  stores: number;
  consumers: number;
  health: number;
}

/** `--now <iso>`: the moment to plan for (what-if and tests); the real clock when absent. */
export function parseNow(text: string | undefined): Date {
  if (text === undefined) return new Date();
  const date = new Date(text);
  if (!/^\d{4}-\d{2}-\d{2}/.test(text) || Number.isNaN(date.getTime())) {
    throw new RotationError(`--now: expected an ISO 8601 date or time such as 2026-04-01 or 2026-04-01T03:00:00Z, got '${text}'`, {
      code: 'USAGE',
    });
  }
  return date;
}

/**
 * What is due, from the policy and the evidence history (records that do not count go to `warn`).
 * `now` may be a what-if; a record is "in the future" against the real clock.
 */
export function planRotations(policy: Policy, workspace: string, now: Date, warn?: (message: string) => void): PlanRow[] {
  return planFromHistory(policy, readHistory(policy, workspace, { now: new Date(), warn }), now);
}

export function planFromHistory(policy: Policy, history: HistoryEntry[], now: Date): PlanRow[] {
  return Object.values(policy.credentials).map((c) => ({
    credential: c.id,
    method: c.method,
    cadence: c.cadence,
    stores: c.store.length,
    consumers: c.consumers.length,
    health: c.health.length,
    ...dueState(c, history, now),
  }));
}

/** The `strategy.matrix` for the due credentials: {"include": [{"credential": …, "reason": "scheduled"}]}. */
export function planMatrix(rows: PlanRow[]): { include: { credential: string; reason: 'scheduled' }[] } {
  return { include: rows.filter((r) => r.due).map((r) => ({ credential: r.credential, reason: 'scheduled' as const })) };
}

/** A plain-text table: one row per credential. */
export function formatTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

export function planTable(rows: PlanRow[]): string {
  return formatTable(
    ['credential', 'state', 'cadence', 'last rotated', 'next due', 'would do'],
    rows.map((r) => [
      r.credential,
      r.state,
      r.cadence,
      r.last?.slice(0, 16).replace('T', ' ') ?? '-',
      r.nextDue?.slice(0, 10) ?? 'now',
      r.due ? `${r.method}; ${r.stores} store(s), ${r.consumers} consumer(s), ${r.health} check(s)` : 'nothing',
    ]),
  );
}
