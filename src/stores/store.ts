import type { Secret } from '../secret/secret.js';

/** A place the new value is written: a GitHub secret, a local dotenv file, … */
export interface Store {
  /** Names the target in logs and evidence, e.g. "github acme/ops env production ODOO_DB_PASSWORD". */
  readonly label: string;
  /** Proves the target can be written (permissions, key readable, folder writable); changes nothing. */
  check(): Promise<void>;
  /** Writes the (already formatted) value. */
  write(value: Secret): Promise<void>;
  /** Reads the value back where the target allows it (files), for verification and repair. */
  read?(): Promise<Secret | undefined>;
  /**
   * Where the target can be read (files): what it holds now, and how to put exactly that back,
   * absence included; undefined when it cannot be read. Taken before anything changes, so a
   * back-out never guesses (invariant 1).
   */
  capture?(): Promise<Held | undefined>;
  /**
   * When the target last changed, where the store can tell without the value (GitHub's
   * `updated_at`); undefined when the target does not exist. `status` checks it against the
   * last rotation the evidence claims.
   */
  lastWritten?(): Promise<Date | undefined>;
}

/** What a readable target held before the run. */
export interface Held {
  /** The (formatted) value it held, or undefined when it held none. */
  readonly value: Secret | undefined;
  /** "holds no value (file absent)", "holds a value": for messages, never the value. */
  readonly describe: string;
  /** Puts back exactly what the target held. */
  restore(): Promise<void>;
}
