import type { Secret } from '../secret/secret.js';
import type { Runtime } from '../runtime/runtime.js';
import type { CredentialPolicy, Policy, SystemPolicy, TargetSpec } from '../policy/types.js';
import type { Reason } from '../evidence/record.js';
import type { CredentialMethod } from '../methods/method.js';
import type { Store } from '../stores/store.js';
import type { Consumer } from '../consumers/consumer.js';
import type { HealthProbe } from '../health/probe.js';

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

/** The adapters of one credential, as the engine receives them (built by adapters/load.ts). */
export interface Adapters {
  method: CredentialMethod;
  /** Each store with the function that turns the bare value (held by `user`, default: the login the method set) into what that target holds, and back. */
  stores: {
    store: Store;
    render: (value: Secret, user?: string) => Secret;
    unrender: (held: Secret) => Secret | undefined;
    /** What the target holds carries no secret (a `{user}`-only format: a login name, which messages and evidence name). */
    public?: boolean;
  }[];
  consumers: Consumer[];
  probes: HealthProbe[];
}

/** How the engine gets the adapters of a credential: adapters/load.ts in production. */
export type AdapterLoader = (policy: Policy, credentialId: string, runtime: Runtime, reason?: Reason) => Promise<Adapters>;
