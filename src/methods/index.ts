import type { AdapterContext } from '../engine/runtime.js';
import type { CredentialMethod } from './method.js';
import { alterRole } from './alter-role.js';

/** Every credential method, by the name the policy uses. */
export const METHODS: Record<string, (ctx: AdapterContext) => CredentialMethod> = {
  'alter-role': alterRole,
};
