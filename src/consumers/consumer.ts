import type { Secret } from '../secret/secret.js';

/** A service that must pick up the new value: a deploy workflow, a datasource, a function. */
export interface Consumer {
  readonly label: string;
  /** Proves the consumer can be reached and refreshed; changes nothing. */
  check(): Promise<void>;
  /** Makes the consumer use the new value and waits until it has. Returns what happened. */
  refresh(value: Secret): Promise<string>;
}
