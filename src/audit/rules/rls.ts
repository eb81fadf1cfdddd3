import type pg from 'pg';
import { existingRoles, qualified } from '../catalog.js';
import { check, type AuditCheck, type Finding } from '../types.js';

/** The roles Supabase's Data API (PostgREST) runs requests as. */
export const API_ROLES = ['anon', 'authenticated'];

interface Relation {
  schema: string;
  name: string;
  relkind: string;
  rls: boolean;
  policies: number;
  options: string[] | null;
  granted: string[];
}

/**
 * Rule 4, "Row-Level Security where the public API reaches" (section 2.2): in the schemas an HTTP
 * API serves, every table on which anon or authenticated holds any privilege (directly, through
 * PUBLIC or a membership: has_table_privilege follows them) has RLS enabled and at least one
 * policy, and a table without RLS grants them nothing. A view runs with its owner's rights unless
 * it is security_invoker (PG15+), so a view they can read must be one; a materialized or foreign
 * table has no RLS at all, so it must not be granted to them.
 */
export async function rlsCheck(db: pg.Client, schemas: string[]): Promise<AuditCheck> {
  const roles = await existingRoles(db, API_ROLES);
  const subject = schemas.join(', ');
  if (roles.length === 0)
    return check('rls-where-exposed', subject, [], `no ${API_ROLES.join(' or ')} role on this database: nothing the API can reach`);
  const { rows } = await db.query<Relation>(
    `SELECT n.nspname AS schema, c.relname AS name, c.relkind::text AS relkind, c.relrowsecurity AS rls,
            (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid)::int AS policies, c.reloptions AS options,
            ARRAY(SELECT r FROM unnest($2::text[]) r
                   WHERE has_table_privilege(r, c.oid, 'SELECT,INSERT,UPDATE,DELETE,TRUNCATE,REFERENCES,TRIGGER')
                      OR has_any_column_privilege(r, c.oid, 'SELECT,INSERT,UPDATE,REFERENCES')) AS granted
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = ANY($1::text[]) AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
      ORDER BY 1, 2`,
    [schemas, roles],
  );
  const findings: Finding[] = [];
  for (const rel of rows.filter((r) => r.granted.length > 0)) {
    const name = qualified(db, rel.schema, rel.name);
    const who = rel.granted.join(', ');
    const revoke = `REVOKE ALL ON TABLE ${name} FROM ${rel.granted.map((r) => db.escapeIdentifier(r)).join(', ')};`;
    const facts = {
      object: `${rel.schema}.${rel.name}`,
      kind: kindName(rel.relkind),
      granted_to: who,
      rls: rel.rls,
      policies: rel.policies,
    };
    if (rel.relkind === 'v') {
      if (!securityInvoker(rel.options)) {
        findings.push({
          what: `view ${rel.schema}.${rel.name} is granted to ${who} and runs with its owner's rights (not security_invoker): it bypasses the RLS of the tables it reads`,
          severity: 'error',
          fixes: [`ALTER VIEW ${name} SET (security_invoker = true);`, revoke],
          facts,
        });
      }
    } else if (rel.relkind === 'm' || rel.relkind === 'f') {
      findings.push({
        what: `${kindName(rel.relkind)} ${rel.schema}.${rel.name} is granted to ${who} and cannot have RLS`,
        severity: 'error',
        fixes: [revoke],
        facts,
      });
    } else if (!rel.rls) {
      findings.push({
        what: `table ${rel.schema}.${rel.name} has RLS disabled and is granted to ${who}: the API serves every row`,
        severity: 'error',
        fixes: [
          revoke,
          `ALTER TABLE ${name} ENABLE ROW LEVEL SECURITY; CREATE POLICY ${db.escapeIdentifier(`${rel.name}_read`)} ON ${name} FOR SELECT TO ${rel.granted.map((r) => db.escapeIdentifier(r)).join(', ')} USING (<condition>);`,
        ],
        facts,
      });
    } else if (rel.policies === 0) {
      findings.push({
        what: `table ${rel.schema}.${rel.name} has RLS enabled but no policy, and is granted to ${who}: every request sees nothing (deny by default)`,
        severity: 'warning',
        fixes: [
          `CREATE POLICY ${db.escapeIdentifier(`${rel.name}_read`)} ON ${name} FOR SELECT TO ${rel.granted.map((r) => db.escapeIdentifier(r)).join(', ')} USING (<condition>);`,
          revoke,
        ],
        facts,
      });
    }
  }
  const exposed = rows.filter((r) => r.granted.length > 0).length;
  return check(
    'rls-where-exposed',
    subject,
    findings,
    `${rows.length} relation(s) in ${subject}, ${exposed} granted to ${roles.join('/')}${findings.length ? `, ${findings.length} not protected` : ', each protected by RLS with a policy'}`,
  );
}

function securityInvoker(options: string[] | null): boolean {
  const value = (options ?? [])
    .find((o) => o.startsWith('security_invoker='))
    ?.split('=')[1]
    ?.toLowerCase();
  return ['true', 'on', '1', 'yes'].includes(value ?? '');
}

function kindName(relkind: string): string {
  return { r: 'table', p: 'partitioned table', v: 'view', m: 'materialized view', f: 'foreign table' }[relkind] ?? 'relation';
}
