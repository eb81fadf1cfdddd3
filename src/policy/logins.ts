import type { CredentialPolicy } from './types.js';

/** The two logins of an alternating-roles credential: `logins:` as written, or <role>_a / <role>_b. */
export function loginsOf(credential: CredentialPolicy): [string, string] {
  const given = credential.settings.logins;
  if (Array.isArray(given) && given.length === 2) return [String(given[0]), String(given[1])];
  return [`${credential.role}_a`, `${credential.role}_b`];
}
