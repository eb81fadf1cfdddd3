import type pg from 'pg';
import type { CredentialPolicy } from '../../policy/types.js';
import { reachableRoles, roleAttributes } from '../catalog.js';
import { credentialRoles } from '../roles.js';
import { check, type AuditCheck, type Finding } from '../types.js';
import { revokeMembership } from './readonly.js';

const ADMIN_ATTRIBUTES = [
  ['superuser', 'SUPERUSER'],
  ['createrole', 'CREATEROLE'],
  ['createdb', 'CREATEDB'],
  ['replication', 'REPLICATION'],
  ['bypassrls', 'BYPASSRLS'],
] as const;

/**
 * Rule 2, "the application role is not an admin" (sections 2.1 and 9, the P0 gap): a role declared
 * `readwrite` is not SUPERUSER, CREATEROLE, CREATEDB, REPLICATION or BYPASSRLS, and cannot become
 * (SET ROLE) a role that is: role attributes are not inherited, but a settable membership hands
 * them over.
 */
export async function notAdminCheck(db: pg.Client, credential: CredentialPolicy): Promise<AuditCheck> {
  const findings: Finding[] = [];
  for (const role of credentialRoles(credential)) {
    const reached = (await reachableRoles(db, role)).filter((r) => r.mode === 'act');
    if (reached.length === 0) {
      findings.push({ what: `role ${role} does not exist`, severity: 'error', fixes: [`credential-rotation provision ${credential.id}`], facts: { role } });
      continue;
    }
    const attrs = await roleAttributes(db, reached.map((r) => r.oid));
    for (const r of reached) {
      const a = attrs.get(r.oid);
      const flags = a ? ADMIN_ATTRIBUTES.filter(([key]) => a[key]).map(([, sql]) => sql) : [];
      if (flags.length === 0) continue;
      const direct = r.path.length === 1;
      findings.push({
        what: `${role} ${direct ? 'is' : `can become ${r.name} (${r.path.join(' → ')}), which is`} ${flags.join(', ')}`,
        severity: 'error',
        fixes: direct
          ? [
              `ALTER ROLE ${db.escapeIdentifier(role)} ${flags.map((f) => `NO${f}`).join(' ')};`,
              ...(flags.includes('SUPERUSER') || flags.includes('REPLICATION') || flags.includes('BYPASSRLS')
                ? ['(removing SUPERUSER, REPLICATION or BYPASSRLS needs a superuser; on DigitalOcean, ask support or recreate the role with credential-rotation provision)']
                : []),
            ]
          : [revokeMembership(db, r)],
        facts: { role, via: r.name, attributes: flags.join(','), path: r.path.join(' → ') },
      });
    }
  }
  const roles = credentialRoles(credential).join(', ');
  return check('app-role-not-admin', credential.id, findings, findings.length === 0 ? `${roles}: none of ${ADMIN_ATTRIBUTES.map(([, s]) => s).join(', ')}` : `${roles}: admin attributes found`);
}
