import { nextDue, parseCadence } from '../policy/cadence.js';
import type { CredentialPolicy, Policy } from '../policy/types.js';
import type { EvidenceRecord } from './record.js';
import { whyNotCounted, whyNotCurrent } from './validate.js';
import { evidenceRoot, readEvidenceFiles, type FolderLimits } from './folder.js';

export interface HistoryEntry {
  record: EvidenceRecord;
  path: string;
}

/** How history is read: the moment it is read for, and where ignored files are reported. */
export interface HistoryOptions {
  /** A record dated after this is in the future. */
  now: Date;
  /** Called once per file that does not count, with its path and why (a warning for people). */
  warn?: (message: string) => void;
  /** Size limits of the read (default: src/evidence/folder.ts). */
  limits?: FolderLimits;
}

/**
 * Every evidence record under the evidence folder that counts (src/evidence/validate.ts), oldest
 * first. Any other JSON file there (hand-written, misplaced, in the future, claiming a rotation
 * its steps do not show, of a role or logins the policy no longer gives the credential) is named
 * through `warn` and ignored, so it cannot make a credential look rotated. The folder is read as
 * untrusted input (src/evidence/folder.ts), and refused when it resolves outside the workspace.
 */
export function readHistory(policy: Policy, workspace: string, options: HistoryOptions): HistoryEntry[] {
  const root = evidenceRoot(policy, workspace);
  const { now } = options;
  const entries: HistoryEntry[] = [];
  // Other kinds of record beside the rotations (`<stamp>/db-audit/…`): not history, not read.
  const include = (parts: string[]) => !(parts.length >= 2 && parts[1] !== 'db-rotation' && /^db-[a-z]+$/.test(parts[1]));
  for (const { parts, path, text } of readEvidenceFiles(root, workspace, { include, warn: options.warn, limits: options.limits })) {
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch {
      options.warn?.(`${path}: ignored, not an evidence record (not JSON)`);
      continue;
    }
    const id = String((data as Partial<EvidenceRecord> | null)?.credential ?? '');
    const credential = Object.hasOwn(policy.credentials, id) ? policy.credentials[id] : undefined;
    const why = whyNotCounted(data, parts, now) ?? (credential && whyNotCurrent(data as EvidenceRecord, credential));
    if (why) options.warn?.(`${path}: ignored, ${why}`);
    else entries.push({ record: data as EvidenceRecord, path });
  }
  return entries.sort((a, b) => a.record.started_at.localeCompare(b.record.started_at));
}

/** The last successful rotation of a credential on record. */
export function lastRotation(credentialId: string, history: HistoryEntry[]): HistoryEntry | undefined {
  return history.filter((e) => e.record.credential === credentialId && e.record.status === 'rotated').at(-1);
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
  const last = lastRotation(credential.id, history);
  if (!last) return { due: true, state: 'never rotated', detail: 'no successful rotation on record' };
  const lastAt = new Date(last.record.finished_at ?? last.record.started_at);
  const due = nextDue(lastAt, parseCadence(credential.cadence));
  const base = { last: lastAt.toISOString(), nextDue: due.toISOString(), evidence: last.path };
  if (now < due)
    return { ...base, due: false, state: 'not due', detail: `last rotated ${base.last}, next due ${base.nextDue} (${credential.cadence})` };
  const overdue = now.getTime() - due.getTime() > 24 * 3600 * 1000;
  return {
    ...base,
    due: true,
    state: overdue ? 'overdue' : 'due',
    detail: `last rotated ${base.last}, due since ${base.nextDue} (${credential.cadence})`,
  };
}

export function isDue(
  policy: Policy,
  credential: CredentialPolicy,
  workspace: string,
  now: Date,
  warn?: (message: string) => void,
): DueState {
  return dueState(credential, readHistory(policy, workspace, { now, warn }), now);
}
