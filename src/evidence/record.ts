import type { CredentialPolicy } from '../policy/types.js';
import { loginsOf } from '../policy/logins.js';
import type { PoolerSettle } from '../postgres/pooler.js';

/** The audit record of one run for one credential. It never holds a secret, hash or verifier. */
export interface EvidenceRecord {
  schema: 'credential-rotation/evidence@1';
  credential: string;
  system: string;
  method: string;
  role: string;
  /** alternating-roles: the two logins that take turns (the record counts only for these). */
  logins?: string[];
  reason: Reason;
  trigger: Trigger;
  started_at: string;
  finished_at: string;
  status: RunStatus;
  /** One line for a person: what happened, or what failed and what to do. */
  summary: string;
  steps: StepRecord[];
  stores: StoreRecord[];
  consumers: ConsumerRecord[];
  health: HealthRecord[];
  old_credential: { tried: boolean; rejected: boolean; detail: string };
  notes: string[];
  /** An exposure run: sessions (or keys) cut off; those that survived it and the GRANTs that would end them. */
  incident?: { exposure: true; cut_off: string[]; survived?: string[]; grants?: string[] };
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

/** A health check's outcome; `pooler` for a login through a pooler. */
export interface HealthRecord extends OutcomeRecord {
  pooler?: PoolerSettle;
}

/** A store target's outcome, and what it holds when the run ends. */
export interface StoreRecord extends OutcomeRecord {
  holds?: StoreHolds;
}

/** `restored`: put back what it held (or the live value, for a write-only target). */
export type StoreHolds = 'new value' | 'new value (never live)' | 'restored' | 'unchanged' | 'unknown';

/** A consumer's outcome: which value it holds after the run, and how that was proven. */
export interface ConsumerRecord extends OutcomeRecord {
  /** `new`: took the new value; `old`: still holds the value from before; `unknown`: cannot tell. */
  holds?: 'new' | 'old' | 'unknown';
  /** How the update was proven from the consumer's side (see Consumer.prove). */
  proof?: 'read-back' | 'sent-value-only';
  proof_detail?: string;
}

/**
 * The logins a credential's record names beside its role: alternating-roles' two (a record of
 * another pair is not a rotation of these); undefined for methods that rotate the role itself.
 */
export function recordedLogins(credential: CredentialPolicy): [string, string] | undefined {
  return credential.method === 'alternating-roles' ? loginsOf(credential) : undefined;
}
