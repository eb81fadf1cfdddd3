import type pg from 'pg';
import type { CredentialPolicy } from '../policy/types.js';
import { readonlyCheck } from '../audit/rules/readonly.js';
import { notAdminCheck } from '../audit/rules/not-admin.js';

/**
 * What the audit still finds on the credential's roles: provision says "nothing to do" only when
 * this is empty, so it never calls a credential provisioned while the audit fails it.
 */
export async function auditFindings(db: pg.Client, credential: CredentialPolicy): Promise<string[]> {
  const check = credential.access === 'readonly' ? await readonlyCheck(db, credential) : await notAdminCheck(db, credential);
  return check.findings.map((f) => `the audit finds: ${f.what}${f.fixes[0] ? `; fix: ${f.fixes[0]}` : ''}`);
}
