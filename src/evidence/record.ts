/** The audit record of one run for one credential. It never holds a secret, hash or verifier. */
export interface EvidenceRecord {
  schema: 'credential-rotation/evidence@1';
  credential: string;
  system: string;
  method: string;
  role: string;
  reason: Reason;
  trigger: Trigger;
  started_at: string;
  finished_at: string;
  status: RunStatus;
  /** One line for a person: what happened, or what failed and what to do. */
  summary: string;
  steps: StepRecord[];
  stores: OutcomeRecord[];
  consumers: ConsumerRecord[];
  health: OutcomeRecord[];
  old_credential: { tried: boolean; rejected: boolean; detail: string };
  notes: string[];
  incident?: { exposure: true; cut_off: string[] };
}

export type Reason = 'scheduled' | 'exposure' | 'manual';
export const REASONS: Reason[] = ['scheduled', 'exposure', 'manual'];
export type RunStatus = 'rotated' | 'skipped' | 'failed';
export type Outcome = 'ok' | 'failed' | 'skipped';

export interface Trigger {
  event: string;
  actor: string;
  run_url?: string;
  repository?: string;
}

export interface StepRecord {
  step: string;
  title: string;
  started_at: string;
  duration_ms: number;
  outcome: Outcome;
  detail: string;
}

export interface OutcomeRecord {
  target: string;
  outcome: Outcome;
  detail: string;
}

/** A consumer's outcome: which value it holds after the run, and how that was proven. */
export interface ConsumerRecord extends OutcomeRecord {
  /** `new`: took the new value; `old`: still holds the value from before; `unknown`: cannot tell. */
  holds?: 'new' | 'old' | 'unknown';
  /** How the update was proven from the consumer's side (see Consumer.prove). */
  proof?: 'read-back' | 'sent-value-only';
  proof_detail?: string;
}
