import type { Octokit } from '@octokit/rest';
import type { Reporter } from '../report/reporter.js';
import type { Secret } from '../secret/secret.js';

// Below the adapters: what every adapter and the engine get from the run (this type), the time
// limits and polling (deadline.ts). Nothing here knows a policy, an adapter or the engine.

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
  /**
   * A GitHub client for the given token (the base URL from GITHUB_API_URL) whose requests go through
   * `run` (the caller's runtime: its fetch, and its signal, which carries the run's deadline).
   * A promise: the client's code is loaded only by a run that talks to GitHub.
   */
  github: (token: Secret, run: Pick<Runtime, 'fetch' | 'signal'>) => Promise<Octokit>;
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
