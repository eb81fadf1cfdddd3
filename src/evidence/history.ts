import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { nextDue, parseCadence } from '../policy/cadence.js';
import type { CredentialPolicy, Policy } from '../policy/types.js';
import type { EvidenceRecord } from './record.js';

export interface HistoryEntry {
  record: EvidenceRecord;
  path: string;
}

/** Every evidence record under the evidence folder (`<stamp>/db-rotation/*.json`), oldest first. */
export function readHistory(policy: Policy, workspace: string): HistoryEntry[] {
  const root = resolve(workspace, policy.evidenceDir);
  const entries: HistoryEntry[] = [];
  let stamps: string[];
  try {
    stamps = readdirSync(root);
  } catch {
    return [];
  }
  for (const stamp of stamps) {
    const dir = join(root, stamp, 'db-rotation');
    let files: string[];
    try {
      files = readdirSync(dir).filter((f) => f.endsWith('.json'));
    } catch {
      continue;
    }
    for (const file of files) {
      try {
        const record = JSON.parse(readFileSync(join(dir, file), 'utf8')) as EvidenceRecord;
        if (record.schema === 'credential-rotation/evidence@1') entries.push({ record, path: relative(workspace, join(dir, file)) });
      } catch {
        // A file that is not a record of ours is not history.
      }
    }
  }
  return entries.sort((a, b) => a.record.started_at.localeCompare(b.record.started_at));
}

export interface DueState {
  due: boolean;
  state: 'never rotated' | 'overdue' | 'due' | 'not due';
  last?: string;
  nextDue?: string;
  /** The evidence record of the last successful rotation, relative to the workspace. */
  evidence?: string;
  detail: string;
}

/**
 * Whether a credential is due, counted from its last successful rotation. "due" means the due
 * date has come; "overdue" that it passed more than a day ago (a scheduled run was missed).
 */
export function dueState(credential: CredentialPolicy, history: HistoryEntry[], now: Date): DueState {
  const last = history.filter((e) => e.record.credential === credential.id && e.record.status === 'rotated').at(-1);
  if (!last) return { due: true, state: 'never rotated', detail: 'no successful rotation on record' };
  const lastAt = new Date(last.record.finished_at ?? last.record.started_at);
  const due = nextDue(lastAt, parseCadence(credential.cadence));
  const base = { last: lastAt.toISOString(), nextDue: due.toISOString(), evidence: last.path };
  if (now < due) return { ...base, due: false, state: 'not due', detail: `last rotated ${base.last}, next due ${base.nextDue} (${credential.cadence})` };
  const overdue = now.getTime() - due.getTime() > 24 * 3600 * 1000;
  return { ...base, due: true, state: overdue ? 'overdue' : 'due', detail: `last rotated ${base.last}, due since ${base.nextDue} (${credential.cadence})` };
}

export function isDue(policy: Policy, credential: CredentialPolicy, workspace: string, now: Date): DueState {
  return dueState(credential, readHistory(policy, workspace), now);
}
