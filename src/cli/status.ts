import { appendFileSync } from 'node:fs';
import type { Policy } from '../policy/types.js';
import { readHistory } from '../evidence/history.js';
import type { RunStatus } from '../evidence/record.js';
import { formatTable, planFromHistory, type PlanRow } from './plan.js';
import { lastAudits, type LastAudit } from '../audit/record.js';

export interface StatusRow {
  credential: string;
  state: PlanRow['state'];
  cadence: string;
  last_rotated: string | null;
  next_due: string | null;
  /**
   * Past its due date by more than a day, or never rotated: no evidence that the policy's cadence
   * is kept. What `--fail-on-overdue` fails on.
   */
  overdue: boolean;
  /** The evidence record of the last successful rotation. */
  evidence: string | null;
  /** The latest run on record when it came after the last success (a failure an operator should see). */
  last_attempt: { status: RunStatus; at: string; evidence: string } | null;
  /** The last access audit of the credential's system (`credential-rotation audit`), from its record. */
  last_audit: LastAudit | null;
  /** With a token: what each store target that can tell says about its last change (status-stores.ts). */
  stores?: StoreCheck[];
  /** Targets not changed since before the last rotation the evidence claims (or gone): flagged overdue. */
  stale?: string[];
}

/** One store target's answer to "when did you last change?" (status-stores.ts asks it). */
export interface StoreCheck {
  target: string;
  /** When the target last changed, as the store says (GitHub's updated_at). */
  updated_at: string | null;
  /** `changed`: written at or after the last rotation on record; `stale`: not since before it. */
  verdict: 'changed' | 'stale' | 'missing' | 'unknown';
  detail: string;
}

/** Last rotation, next due date and overdue flag per credential, from the evidence history. */
export function statusRows(policy: Policy, workspace: string, now: Date, warn?: (message: string) => void): StatusRow[] {
  // `now` may be a what-if (--now); a record is "in the future" against the real clock.
  const history = readHistory(policy, workspace, { now: new Date(), warn });
  const audits = lastAudits(policy, workspace, warn);
  return planFromHistory(policy, history, now).map((row) => {
    const latest = history.filter((e) => e.record.credential === row.credential).at(-1);
    const afterSuccess = latest && latest.record.status !== 'rotated';
    return {
      credential: row.credential,
      state: row.state,
      cadence: row.cadence,
      last_rotated: row.last ?? null,
      next_due: row.nextDue ?? null,
      overdue: row.state === 'overdue' || row.state === 'never rotated',
      evidence: row.evidence ?? null,
      last_attempt: afterSuccess
        ? { status: latest.record.status, at: latest.record.finished_at ?? latest.record.started_at, evidence: latest.path }
        : null,
      last_audit: audits.get(policy.credentials[row.credential].system) ?? null,
    };
  });
}

const HEADERS = ['credential', 'state', 'cadence', 'last rotated', 'next due', 'overdue', 'evidence'];

function cells(r: StatusRow): string[] {
  const evidence = r.last_attempt
    ? `${r.evidence ?? '-'} (last attempt ${r.last_attempt.at.slice(0, 16).replace('T', ' ')} ${r.last_attempt.status}: ${r.last_attempt.evidence})`
    : (r.evidence ?? '-');
  return [
    r.credential,
    r.state,
    r.cadence,
    r.last_rotated?.slice(0, 16).replace('T', ' ') ?? 'never',
    r.next_due?.slice(0, 10) ?? 'now',
    r.stale?.length ? 'YES (stale store)' : r.overdue ? 'YES' : 'no',
    evidence,
  ];
}

export function statusTable(rows: StatusRow[]): string {
  return [formatTable(HEADERS, rows.map(cells)), '', ...auditLines(rows)].join('\n').trimEnd();
}

/** One line per system: its last access audit, or that it has none on record. */
function auditLines(rows: StatusRow[]): string[] {
  const audits = new Map(rows.filter((r) => r.last_audit).map((r) => [r.last_audit!.system, r.last_audit!]));
  if (audits.size === 0) return ['last audit: none on record (run credential-rotation audit)'];
  return [...audits.values()].map(
    (a) =>
      `last audit of ${a.system}: ${a.at.slice(0, 16).replace('T', ' ')} ${a.verdict === 'pass' ? 'passed' : `FAILED (${a.failed.join(', ')})`}: ${a.record}`,
  );
}

/** The same table as GitHub-flavoured Markdown, for the job summary. */
export function statusMarkdown(rows: StatusRow[], now: Date): string {
  const esc = (text: string) => text.replace(/\|/g, '\\|');
  const overdue = rows.filter((r) => r.overdue).length;
  return [
    '### Credential rotation status',
    '',
    `${rows.length} credential(s), ${overdue} overdue or never rotated, as of ${now.toISOString()}.`,
    '',
    `| ${HEADERS.join(' | ')} |`,
    `|${HEADERS.map(() => ' --- ').join('|')}|`,
    ...rows.map((r) => `| ${cells(r).map(esc).join(' | ')} |`),
    '',
    ...auditLines(rows).map((line) => `- ${esc(line)}`),
    '',
  ].join('\n');
}

/** Appends the Markdown table to the job summary when running in GitHub Actions. */
export function writeStepSummary(rows: StatusRow[], now: Date, env: NodeJS.ProcessEnv): void {
  if (env.GITHUB_STEP_SUMMARY) appendFileSync(env.GITHUB_STEP_SUMMARY, `${statusMarkdown(rows, now)}\n`);
}

/** The gate's verdict: undefined when compliant, else a message naming the credentials. */
export function overdueMessage(rows: StatusRow[]): string | undefined {
  const late = rows.filter((r) => r.state === 'overdue').map((r) => `${r.credential} (due ${r.next_due?.slice(0, 10)})`);
  const never = rows.filter((r) => r.state === 'never rotated').map((r) => r.credential);
  const stale = rows.filter((r) => r.stale?.length).map((r) => `${r.credential} (${r.stale!.join(', ')})`);
  if (late.length === 0 && never.length === 0 && stale.length === 0) return undefined;
  return [
    late.length > 0 ? `overdue: ${late.join(', ')}` : '',
    never.length > 0 ? `never rotated (no evidence): ${never.join(', ')}` : '',
    stale.length > 0 ? `not changed since the rotation the evidence claims: ${stale.join('; ')}` : '',
  ]
    .filter(Boolean)
    .join('; ');
}
