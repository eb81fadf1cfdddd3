import type pg from 'pg';
import type { CredentialPolicy } from '../../policy/types.js';
import { credentialRoles } from '../roles.js';
import { check, type AuditCheck, type Finding } from '../types.js';
import { ADMIN_ATTRIBUTES, adminPaths } from '../powers/admin.js';
import type { PowerContext } from '../powers/kinds.js';
import { distinct } from './readonly.js';

/**
 * Rule 2, "the application role is not an admin" (sections 2.1 and 9, the P0 gap): a role declared
 * `readwrite` has no admin attribute, cannot gain one (SET ROLE, or ADMIN OPTION on a role that
 * has one), reaches no predefined role of the server's administrators, and may call no SECURITY
 * DEFINER function whose owner can do any of that (src/audit/powers/admin.ts).
 */
export async function notAdminCheck(
  db: pg.Client,
  credential: CredentialPolicy,
  options: Pick<PowerContext, 'database'> = {},
): Promise<AuditCheck> {
  const context: PowerContext = { ...options };
  const findings: Finding[] = [];
  for (const role of credentialRoles(credential)) findings.push(...(await adminPaths(db, role, context)));
  const unique = distinct(findings).map((f) =>
    f.path === 'missing-role' ? { ...f, fixes: [`credential-rotation provision ${credential.id}`] } : f,
  );
  const roles = credentialRoles(credential).join(', ');
  return check(
    'app-role-not-admin',
    credential.id,
    unique,
    unique.length === 0
      ? `${roles}: none of ${ADMIN_ATTRIBUTES.map(([, s]) => s).join(', ')}, no admin role or definer function reachable`
      : `${roles}: admin powers found`,
  );
}
