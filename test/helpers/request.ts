import type { RotationRequest } from '../../src/engine/rotate.js';

/** A manual rotation request of `credential` as a test makes it (`extra` overrides: reason, dryRun, trigger). */
export const rotationRequest = (credential: string, extra: Partial<RotationRequest> = {}): RotationRequest => ({
  credential,
  reason: 'manual',
  dryRun: false,
  trigger: { event: 'test', actor: 'vitest' },
  ...extra,
});
