import type { Octokit } from '@octokit/rest';
import type { Reporter } from '../report/reporter.js';
import type { Secret } from '../secret/secret.js';
import type { CredentialPolicy, Policy, SystemPolicy, TargetSpec } from '../policy/types.js';
import type { Reason } from '../evidence/record.js';
import type { CredentialMethod } from '../methods/method.js';
import type { Store } from '../stores/store.js';
import type { Consumer } from '../consumers/consumer.js';
import type { HealthProbe } from '../health/probe.js';

// The contracts between the engine and its adapters. A leaf: types only, nothing of the engine,
// so an adapter depends on these and the engine on these, never on each other.

/**
 * The collaborators a run uses, passed in rather than imported, so a test drives the real entry
 * point with its own clock, HTTP models and workspace.
 */
export interface Runtime {
  env: NodeJS.ProcessEnv;
  reporter: Reporter;
  /** Relative paths (file store, evidence) are resolved from here. */
  workspace: string;
  now: () => Date;
  sleep: (ms: number) => Promise<void>;
  /** The fetch every HTTP adapter uses (the global one, so msw can model the APIs in tests). */
  fetch: typeof fetch;
  /** A GitHub client for the given token; the base URL comes from GITHUB_API_URL. */
  github: (token: Secret) => Octokit;
  githubToken?: Secret;
  /** Stops a long wait (a workflow run, a deployment) when the run is cancelled or over time. */
  signal?: AbortSignal;
  /** The run's overall deadline (ms since the epoch, on `now`'s clock): no wait or retry goes past it. */
  deadline?: number;
  /**
   * Called at each named boundary of the checklist (see engine/failpoints.ts; the etcd/gofail
   * failpoint pattern). Unset in production: a no-op. Fault-injection tests decide what happens there.
   */
  failpoint?: (name: string) => Promise<void>;
}

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
