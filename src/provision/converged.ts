import type pg from 'pg';
import type { CredentialPolicy, Policy } from '../policy/types.js';
import { readonlyCheck } from '../audit/rules/readonly.js';
import { notAdminCheck } from '../audit/rules/not-admin.js';

/** Opens the admin's connection to another database of the cluster (the audit reads them all). */
export type OpenDatabase = (name: string) => Promise<pg.Client>;

/**
 * What the audit still finds on the credential's roles, read as `audit` reads them (other
 * databases included): provision says "nothing to do" only when this is empty, so it never calls
 * a credential provisioned while the audit fails it.
 */
export async function auditFindings(
  db: pg.Client,
  policy: Policy,
  credential: CredentialPolicy,
  database?: OpenDatabase,
): Promise<string[]> {
  const writer = Object.values(policy.credentials).find((c) => c.system === credential.system && c.access === 'readwrite')?.role;
  const check =
    credential.access === 'readonly'
      ? await readonlyCheck(db, credential, { writer, database })
      : await notAdminCheck(db, credential, { database });
  return check.findings.map((f) => `the audit finds: ${f.what}${f.fixes[0] ? `; fix: ${f.fixes[0]}` : ''}`);
}
