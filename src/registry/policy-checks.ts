import type { CredentialPolicy } from '../policy/types.js';
import { loginsOf } from '../policy/logins.js';

// The policy checks the registry's entries own (registry.ts names each beside its entry): small,
// and loaded with the registry, so a policy is checked without loading any adapter.

/** PostgreSQL's limit on a name (NAMEDATALEN - 1): longer names are cut, silently but for a NOTICE. */
const MAX_NAME_BYTES = 63;

/** Role names PostgreSQL would cut: a role and its logins that are not the names the policy says (the two logins may even become one). */
export function roleNameProblems(cred: CredentialPolicy, where: string): string[] {
  const names = cred.method === 'alternating-roles' ? [cred.role, ...loginsOf(cred)] : [cred.role];
  const long = names.filter((name) => Buffer.byteLength(name) > MAX_NAME_BYTES);
  if (long.length === 0) return [];
  const cut = (name: string) => Buffer.from(name).subarray(0, MAX_NAME_BYTES).toString();
  const same =
    cred.method === 'alternating-roles' && new Set(loginsOf(cred).map(cut)).size === 1 ? ' (both logins would become the same role)' : '';
  const key =
    cred.method === 'alternating-roles' && cred.settings.logins !== undefined && Buffer.byteLength(cred.role) <= MAX_NAME_BYTES
      ? 'logins'
      : 'role';
  const advice =
    cred.method === 'alter-role'
      ? `choose a role of at most ${MAX_NAME_BYTES} bytes`
      : `choose a role of at most ${MAX_NAME_BYTES - 2} bytes (its logins add _a and _b), or logins of at most ${MAX_NAME_BYTES} bytes (logins: [a, b])`;
  return [
    `${where}.${key}: ${long.map((n) => `${JSON.stringify(n)} is ${Buffer.byteLength(n)} bytes`).join(', ')}; PostgreSQL cuts role names to ${MAX_NAME_BYTES} bytes, so it would be ${long.map((n) => JSON.stringify(cut(n))).join(', ')}${same}: ${advice}`,
  ];
}

/** alternating-roles: the group role is not one of its own logins. */
export function alternatingLoginProblems(cred: CredentialPolicy, where: string): string[] {
  const logins = cred.settings.logins as string[] | undefined;
  return logins?.includes(cred.role) ? [`${where}.logins: expected two logins other than the group role ${cred.role}`] : [];
}

/** A GitHub secret's place: its scope (organization, or repository and environment) and its name, as GitHub compares them. */
export function githubSecretIdentity(o: Record<string, unknown>): string {
  const scope = o.organization ? `org:${String(o.organization).toLowerCase()}` : `repo:${String(o.repository).toLowerCase()}`;
  return `github|${scope}|${String(o.environment ?? '')}|${String(o.secret).toUpperCase()}`;
}

/** A dotenv line's place: the file and the key. */
export function fileKeyIdentity(o: Record<string, unknown>): string {
  return `file|${String(o.path)}|${String(o.key)}`;
}
