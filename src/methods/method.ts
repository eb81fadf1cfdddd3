import type { Secret } from '../secret/secret.js';
import type { LiveChange } from '../adapters/context.js';

/**
 * How a kind of credential is changed at its source (Postgres ALTER ROLE, a provider API).
 *
 * Each operation is named after the checklist step it serves (engine/steps.ts). The engine calls,
 * in order: preflight → generate → (stores written) → apply → verify → (consumers, health) →
 * revoke, and close() always. Between generate and apply the new value exists at the source but
 * is not yet the only live one, so the engine can write every store and still back out with abort().
 */
export interface CredentialMethod {
  readonly name: string;
  /** 'client': the engine generates the value and passes it to generate(); 'provider': the source issues it. */
  readonly generates: 'client' | 'provider';
  /** Checks everything the change needs, changes nothing. Throws a RotationError on a problem. */
  preflight(current: Secret | undefined): Promise<PreflightReport>;
  /**
   * When `current` does not log in: tries a value a readable store target holds. True when it is
   * the live one; the method then treats it as the current value (digitalocean-reset takes its
   * lock with it). Changes nothing. Methods without it never adopt a stored value.
   */
  tryCurrent?(value: Secret): Promise<boolean>;
  /** Produces the new value and prepares it at the source, reversibly where the source allows. */
  generate(chosen: Secret | undefined): Promise<StagedChange>;
  /** Proves the new value is accepted by the source; says when it went live where the source tells. */
  verify(value: Secret): Promise<Verified>;
  /** Revokes the old value where that is a separate act, then proves it is refused. */
  revoke(old: Secret | undefined, reason: string): Promise<RevocationProof>;
  close(): Promise<void>;
  /** The login that holds the new value once staged (`{user}`); without it, the role. */
  user?(): string;
  /** The login the value in use belongs to (known after preflight); without it, the role. */
  currentUser?(): string;
}

export interface PreflightReport {
  /** Whether the `current` value logs in today. False means drift or a half-done earlier run. */
  currentWorks: boolean;
  notes: string[];
  /** The login `current` logged in as, when the method has several (alternating-roles). */
  user?: string;
  /** Where the rotated login is reached (host and port): the engine refuses to rotate a policy admin URL's own login there. */
  endpoints?: { host: string; port: number }[];
}

export interface StagedChange {
  readonly value: Secret;
  /** Whether abort() really restores the old value (Postgres: yes; a provider-chosen reset: no). */
  readonly reversible: boolean;
  /** The login the old value belongs to, for restoring `{user}` templates on back-out; default: the role. */
  readonly previousUser?: string;
  /** What the generate step says it did, when the engine's default ("staged, not yet live") is not true. */
  readonly detail?: string;
  /** Makes the new value the live one. */
  apply(): Promise<string>;
  /** Backs out of a change that was not applied, leaving the old value live. */
  abort(): Promise<void>;
}

export interface RevocationProof {
  /** The old value was presented to the source. */
  tried: boolean;
  /** ...and refused. */
  rejected: boolean;
  /** What was seen, e.g. "login refused with SQLSTATE 28P01". */
  detail: string;
  /** On exposure: the sessions (or keys) cut off, for the evidence's incident record. No secrets. */
  cut_off?: string[];
  /** On exposure: sessions that may carry the old credential and could not be ended (the run fails). */
  survived?: string[];
  /** ...and the GRANTs that would let the tool end them next time. */
  grants?: string[];
}

export interface Verified {
  /** What was seen, e.g. "odoo_app logs in with the new password". */
  detail: string;
  /** When the new value went live and how to log in with it, for the health probes (no-stale-sessions). */
  live?: LiveChange;
  /**
   * Where the change itself killed the old value (a provider's password change): the old value
   * tried right after it. Recorded at once, so a run that fails later still shows what happened
   * to the old value; the revoke step's proof replaces it.
   */
  old?: RevocationProof;
}
