import type { CredentialPolicy, Policy } from '../policy/types.js';

/**
 * The Postgres roles a credential stands for: its role, and for `alternating-roles` the group's
 * two logins too (each runs as the group, so each must keep the group's intent).
 */
export function credentialRoles(credential: CredentialPolicy): string[] {
  if (credential.method !== 'alternating-roles') return [credential.role];
  const logins = credential.settings.logins;
  const pair = Array.isArray(logins) && logins.length === 2 ? logins.map(String) : [`${credential.role}_a`, `${credential.role}_b`];
  return [credential.role, ...pair];
}

/** The credentials a rule reads on a system: those of the system, and those marked for it. */
export function credentialsOf(policy: Policy, systemId: string): CredentialPolicy[] {
  return Object.values(policy.credentials).filter((c) => c.system === systemId);
}
