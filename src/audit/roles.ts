import type { CredentialPolicy, Policy } from '../policy/types.js';
import { loginsOf } from '../policy/logins.js';

/**
 * The Postgres roles a credential stands for: its role, and for `alternating-roles` the group's
 * two logins too (each runs as the group, so each must keep the group's intent).
 */
export function credentialRoles(credential: CredentialPolicy): string[] {
  return credential.method === 'alternating-roles' ? [credential.role, ...loginsOf(credential)] : [credential.role];
}

/** The credentials a rule reads on a system: those of the system, and those marked for it. */
export function credentialsOf(policy: Policy, systemId: string): CredentialPolicy[] {
  return Object.values(policy.credentials).filter((c) => c.system === systemId);
}
