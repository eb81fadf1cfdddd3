import type pg from 'pg';
import type { CredentialPolicy } from '../../policy/types.js';
import { credentialRoles } from '../roles.js';
import { check, type AuditCheck, type Finding } from '../types.js';
import type { PowerContext } from '../powers/kinds.js';
import { writePaths } from '../powers/write.js';

/**
 * Rule 1, "read-only means read-only" (section 4.3): a role declared `readonly` has no way to
 * change data or structure (src/audit/powers/write.ts lists the ways looked at; docs/audit.md
 * lists them for people). For alternating-roles the group and both logins are each checked.
 * `options.writer` is the role an ownership fix moves objects to (the system's read-write role);
 * `options.database` opens the other databases the role may connect to.
 */
export async function readonlyCheck(
  db: pg.Client,
  credential: CredentialPolicy,
  options: Pick<PowerContext, 'writer' | 'database'> = {},
): Promise<AuditCheck> {
  const context: PowerContext = { ...options };
  const findings: Finding[] = [];
  for (const role of credentialRoles(credential)) findings.push(...(await writePaths(db, role, context)));
  const unique = distinct(findings).map((f) =>
    f.path === 'missing-role' ? { ...f, fixes: [`credential-rotation provision ${credential.id}`] } : f,
  );
  const roles = credentialRoles(credential).join(', ');
  return check(
    'readonly-is-readonly',
    credential.id,
    unique,
    unique.length === 0
      ? `${roles}: no write privilege, ownership, writing role or definer function reachable`
      : `${roles}: ${unique.length} way(s) to write`,
  );
}

/** Findings once each: the group's powers show again through every login. */
export function distinct(findings: Finding[]): Finding[] {
  const seen = new Set<string>();
  return findings.filter((f) => {
    const key = `${f.what}\n${f.fixes[0] ?? ''}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
