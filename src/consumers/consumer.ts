import type { Secret } from '../secret/secret.js';

/**
 * How a consumer's update was proven after it was made: `read-back` when what the consumer
 * stored (or did with it) was read from the consumer's side; `sent-value-only` when the API
 * offers no such read and only the value sent (and the consumer's acceptance of it) is known.
 */
export type ProofKind = 'read-back' | 'sent-value-only';

export interface ConsumerProof {
  proof: ProofKind;
  /** What was read or tested, for the evidence; never a value. */
  detail: string;
}

/** A service that must pick up the new value: a deploy workflow, a datasource, a function. */
export interface Consumer {
  readonly label: string;
  /**
   * Preflight: proves the update will be accepted, with the cheapest call the API offers that
   * changes nothing (a no-op partial update, a permission read, a GET of the thing it will
   * write), and throws naming what to fix otherwise. Changes nothing.
   *
   * In a dry run it writes nothing to any system, not even what a real preflight may (a no-op
   * update that moves a timestamp, a signed ping, a login the server records), and returns what
   * it left out and what it checked instead, for the report.
   */
  check(dryRun?: boolean): Promise<string | void>;
  /** Makes the consumer use the new value and waits until it has. Returns what happened. */
  refresh(value: Secret): Promise<string>;
  /**
   * After refresh: proves from the consumer's side what it now holds (a read-back, the
   * consumer's own test of its stored value), or says that only the sent value is known.
   * Throws when the consumer's side shows it does not hold a working new value.
   */
  prove(value: Secret): Promise<ConsumerProof>;
}
