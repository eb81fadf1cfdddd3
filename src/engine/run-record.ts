import { recordedLogins, type EvidenceRecord, type Reason, type RunStatus, type Trigger } from '../evidence/record.js';
import type { Policy } from '../policy/types.js';
import type { Runtime } from '../runtime/runtime.js';
import { describeError } from '../errors/errors.js';
import { writeEvidence } from '../evidence/write.js';
import { checkpoint } from './failpoints.js';
import type { StepLog } from './steps.js';

// The record of one run: started with the run, completed by the steps, closed with its outcome,
// and written as evidence (step 8) when the run changed something.

/** What to rotate, why, and who asked. */
export interface RotationRequest {
  credential: string;
  reason: Reason;
  dryRun: boolean;
  trigger: Trigger;
}

/** The record while the run goes: complete once it has finished (`finished_at`). */
export type RecordDraft = Omit<EvidenceRecord, 'finished_at'> & { finished_at?: string };

/** What a run ended with: its status and summary, the record (scrubbed), and where the evidence went. */
export interface RotationResult {
  status: RunStatus;
  rotatedAt?: string;
  evidencePath?: string;
  summary: string;
  record: EvidenceRecord;
}

/** The record a run starts with: who, what, why; every outcome still to come. */
export function newRecord(policy: Policy, request: RotationRequest, startedAt: Date): RecordDraft {
  const credential = policy.credentials[request.credential];
  const logins = recordedLogins(credential);
  return {
    schema: 'credential-rotation/evidence@1',
    credential: credential.id,
    system: credential.system,
    method: credential.method,
    role: credential.role,
    ...(logins ? { logins } : {}),
    reason: request.reason,
    trigger: request.trigger,
    started_at: startedAt.toISOString(),
    status: 'failed',
    summary: '',
    steps: [],
    stores: [],
    consumers: [],
    health: [],
    old_credential: { tried: false, rejected: false, detail: 'not tried' },
    notes: [],
  };
}

/**
 * Step 8, after a run that changed something (rotated, or failed after the change started): the
 * record written to the evidence folder. Returns its path; a failure to write it fails the run.
 */
export async function evidenceStep(
  record: RecordDraft,
  steps: StepLog,
  runtime: Runtime,
  policy: Policy,
  status: RunStatus,
  summary: string,
): Promise<string | undefined> {
  close(record, steps, status, summary);
  try {
    return await steps.run('evidence', async () => {
      await checkpoint(runtime, 'evidence.before');
      const finished: EvidenceRecord = { ...record, steps: steps.records, finished_at: runtime.now().toISOString() };
      record.finished_at = finished.finished_at;
      const path = await writeEvidence(finished, policy.evidenceDir, runtime.workspace, (text) => runtime.reporter.scrub(text));
      return { detail: `written to ${path}`, value: path };
    });
  } catch (error) {
    record.status = 'failed';
    record.summary = `evidence not written: ${describeError(error)}`;
    return undefined;
  }
}

/** Marks the steps not run and sets the outcome (the evidence step, when it runs, records this). */
function close(record: RecordDraft, steps: StepLog, status: RunStatus, summary: string): void {
  if (record.summary !== '') return;
  steps.skipRemaining(status === 'failed' ? 'not run: an earlier step failed' : summary);
  record.status = status;
  record.summary = summary;
}

/** The run's result and its last log line. */
export function result(
  draft: RecordDraft,
  steps: StepLog,
  runtime: Runtime,
  status: RunStatus,
  summary: string,
  evidencePath: string | undefined,
): RotationResult {
  close(draft, steps, status, summary);
  const record: EvidenceRecord = { ...draft, steps: steps.records, finished_at: draft.finished_at ?? runtime.now().toISOString() };
  if (record.status === 'failed') runtime.reporter.error(`${record.credential}: ${record.summary}`);
  else runtime.reporter.info(`${record.credential}: ${record.summary}`);
  return {
    status: record.status,
    rotatedAt: record.status === 'rotated' ? record.finished_at : undefined,
    evidencePath,
    summary: record.summary,
    record,
  };
}
