import type { Runtime } from '../runtime/runtime.js';
import type { CredentialPolicy, Policy, SystemPolicy, TargetSpec } from '../policy/types.js';
import type { Reason } from '../evidence/record.js';
import type { DatabaseLogin } from '../postgres/connect.js';

// The contracts between the engine and its adapters. A leaf: types only, nothing of the engine,
// so an adapter depends on these and the engine on these, never on each other.

/** What every adapter is built from: the credential it serves and the run's collaborators. */
export interface AdapterContext {
  policy: Policy;
  credential: CredentialPolicy;
  system: SystemPolicy;
  runtime: Runtime;
  /** Why this run rotates (the webhook reports it; exposure changes what revocation does). */
  reason?: Reason;
  /**
   * The login that holds the new value, for `{user}` in a template: the role, or for a method
   * with several logins (alternating-roles) the one it set. Read when a value is rendered.
   */
  user?: () => string;
  /** The login the value in use (`current`) belongs to: the role, or the active login of alternating-roles. */
  currentUser?: () => string;
}

/** Builds a store, consumer or health probe from its policy entry. Nothing is contacted yet. */
export type AdapterFactory<T> = (spec: TargetSpec, ctx: AdapterContext) => T;

/** What a method knows once the new value is live: when (server clock) and where it logs in (data, not a driver config). */
export interface LiveChange {
  changedAt: Date;
  login: DatabaseLogin;
}
