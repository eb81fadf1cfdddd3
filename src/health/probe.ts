import type { Secret } from '../secret/secret.js';
import type { LiveChange } from '../adapters/context.js';
import type { PoolerSettle } from '../postgres/pooler.js';

/** A check that must pass once the consumers run on the new value. */
export interface HealthProbe {
  readonly label: string;
  /** Returns what was seen when healthy; throws a RotationError otherwise. */
  probe(value: Secret, live?: LiveChange): Promise<string>;
  /** After probe(), passed or failed: how a pooler on the way took the new value (the evidence records it). */
  pooler?(): PoolerSettle | undefined;
}
