import type pg from 'pg';
import type { CredentialPolicy } from '../../policy/types.js';
import { grantsTo, ownedBy, qualified, reachableRoles, roleAttributes, type Grant, type ReachedRole } from '../catalog.js';
import { credentialRoles } from '../roles.js';
import { check, type AuditCheck, type Finding } from '../types.js';

/** Privileges that change data or structure. SELECT, USAGE, CONNECT and TEMPORARY read. */
const WRITES = ['INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER', 'CREATE'];

/**
 * Rule 1, "read-only means read-only" (section 4.3): a role declared `readonly` holds no write
 * privilege on any table, no CREATE on a schema or database, owns nothing, and reaches no role
 * (through memberships, by their INHERIT and SET flags) that has any of these. A superuser or
 * BYPASSRLS role it can become counts too: it reads past every rule.
 */
export async function readonlyCheck(db: pg.Client, credential: CredentialPolicy): Promise<AuditCheck> {
  const findings: Finding[] = [];
  const seen = new Set<string>();
  const add = (finding: Finding) => {
    const key = finding.fixes[0] ?? finding.what;
    if (seen.has(key)) return;
    seen.add(key);
    findings.push(finding);
  };
  for (const role of credentialRoles(credential)) {
    const reached = await reachableRoles(db, role);
    if (reached.length === 0) {
      add({ what: `role ${role} does not exist`, severity: 'error', fixes: [`credential-rotation provision ${credential.id}`], facts: { role } });
      continue;
    }
    const byOid = new Map(reached.map((r) => [r.oid, r]));
    const describe = (grantee: number) => (grantee === 0 ? 'PUBLIC' : byOid.get(grantee)?.name ?? String(grantee));
    for (const grant of await grantsTo(db, [0, ...byOid.keys()], WRITES)) {
      add(grantFinding(db, role, grant, grant.grantee === 0 ? undefined : byOid.get(grant.grantee), describe(grant.grantee)));
    }
    for (const owned of await ownedBy(db, [...byOid.keys()])) {
      const via = byOid.get(owned.owner)!;
      const name = owned.kind === 'table' ? qualified(db, owned.schema, owned.object) : db.escapeIdentifier(owned.object);
      const keyword = owned.kind === 'table' ? alterKeyword(owned.relkind) : owned.kind.toUpperCase();
      add({
        what: `${role} ${via.path.length > 1 ? `reaches ${via.name} (${via.path.join(' → ')}), which owns` : 'owns'} ${owned.kind} ${plain(owned.schema, owned.object)}: an owner may change it`,
        severity: 'error',
        fixes: via.path.length > 1 ? [revokeMembership(db, via)] : [`ALTER ${keyword} ${name} OWNER TO <the application role>;`],
        facts: { role, object: plain(owned.schema, owned.object), kind: owned.kind, owner: via.name, path: via.path.join(' → ') },
      });
    }
    const attrs = await roleAttributes(db, reached.filter((r) => r.mode === 'act').map((r) => r.oid));
    for (const r of reached.filter((x) => x.mode === 'act')) {
      const a = attrs.get(r.oid);
      const flags = a ? [a.superuser && 'SUPERUSER', a.bypassrls && 'BYPASSRLS'].filter(Boolean) : [];
      if (flags.length === 0) continue;
      add({
        what: `${role} ${r.path.length > 1 ? `can become ${r.name} (${r.path.join(' → ')}), which is` : 'is'} ${flags.join(' and ')}: it reads and writes past every grant`,
        severity: 'error',
        fixes: [r.path.length > 1 ? revokeMembership(db, r) : `ALTER ROLE ${db.escapeIdentifier(role)} ${flags.map((f) => `NO${f}`).join(' ')};`],
        facts: { role, via: r.name, attributes: flags.join(',') },
      });
    }
  }
  const roles = credentialRoles(credential).join(', ');
  return check('readonly-is-readonly', credential.id, findings, findings.length === 0 ? `${roles}: no write privilege, ownership or admin role reachable` : `${roles}: ${findings.length} way(s) to write`);
}

function grantFinding(db: pg.Client, role: string, grant: Grant, via: ReachedRole | undefined, grantee: string): Finding {
  const object = grant.kind === 'column' ? `${plain(grant.schema, grant.object)}(${grant.column})` : plain(grant.schema, grant.object);
  const through = via && via.path.length > 1 ? ` through ${via.path.join(' → ')}` : grantee === 'PUBLIC' ? ' through PUBLIC' : '';
  const target =
    grant.kind === 'database'
      ? `DATABASE ${db.escapeIdentifier(grant.object)}`
      : grant.kind === 'schema'
        ? `SCHEMA ${db.escapeIdentifier(grant.object)}`
        : `${grant.relkind === 'S' ? 'SEQUENCE' : 'TABLE'} ${qualified(db, grant.schema, grant.object)}`;
  const privilege = grant.kind === 'column' ? `${grant.privilege} (${db.escapeIdentifier(grant.column!)})` : grant.privilege;
  // The grant itself is the fix when it was made to the role or to PUBLIC; a membership that
  // smuggles it in is cut at the role's own end.
  const fix = via && via.path.length > 1 ? revokeMembership(db, via) : `REVOKE ${privilege} ON ${target} FROM ${grantee === 'PUBLIC' ? 'PUBLIC' : db.escapeIdentifier(grantee)};`;
  return {
    what: `${role} holds ${grant.privilege} on ${grant.kind} ${object}${through}`,
    severity: 'error',
    fixes: [fix],
    facts: { role, privilege: grant.privilege, kind: grant.kind, object, granted_to: grantee, path: via?.path.join(' → ') ?? grantee },
  };
}

/** Cuts the first membership on the path: the role's own grant of the group. */
export function revokeMembership(db: pg.Client, via: ReachedRole): string {
  return `REVOKE ${db.escapeIdentifier(via.path[1])} FROM ${db.escapeIdentifier(via.path[0])};`;
}

function plain(schema: string | undefined, name: string): string {
  return schema ? `${schema}.${name}` : name;
}

function alterKeyword(relkind: string | undefined): string {
  return { v: 'VIEW', m: 'MATERIALIZED VIEW', S: 'SEQUENCE', f: 'FOREIGN TABLE' }[relkind ?? ''] ?? 'TABLE';
}
