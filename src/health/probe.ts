import type { Secret } from '../secret/secret.js';
import type { LiveChange } from '../adapters/context.js';

/** A check that must pass once the consumers run on the new value. */
export interface HealthProbe {
  readonly label: string;
  /** Returns what was seen when healthy; throws a RotationError otherwise. */
  probe(value: Secret, live?: LiveChange): Promise<string>;
}
