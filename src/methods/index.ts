import type { AdapterContext } from '../engine/runtime.js';
import type { CredentialMethod } from './method.js';
import { alterRole } from './alter-role.js';
import { alternatingRoles } from './alternating-roles.js';
import { digitalOceanReset } from './digitalocean-reset.js';
import { supabasePublishableKey, supabaseSecretKey } from './supabase-key.js';

/** Every credential method, by the name the policy uses. */
export const METHODS: Record<string, (ctx: AdapterContext) => CredentialMethod> = {
  'alter-role': alterRole,
  'alternating-roles': alternatingRoles,
  'digitalocean-reset': digitalOceanReset,
  'supabase-secret-key': supabaseSecretKey,
  'supabase-publishable-key': supabasePublishableKey,
};
