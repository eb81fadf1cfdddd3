import type pg from 'pg';
import { roleAttributes, type ReachedRole } from '../catalog.js';
import type { Finding } from '../types.js';
import { callableDefiners, type WriteGrant } from './catalog.js';
import { powerFinding, type Power } from './describe.js';

// The kinds of power a role can hold, one builder each, shared by the write-path analysis
// (write.ts: may the role change data?) and the admin analysis (admin.ts: may it act as an
// administrator?): a grant, a role attribute, a SECURITY DEFINER routine, a missing role.

export interface PowerContext {
  /** The role objects are moved to by an ownership fix (the system's read-write role), if known. */
  writer?: string;
  /** Opens the admin's connection to another database of the cluster, to read its grants. */
  database?: (name: string) => Promise<pg.Client>;
  /** Set when asking about the owner of a SECURITY DEFINER function: its routines are left out, its own definers and other databases are not followed. */
  nested?: boolean;
  /** Answers for owners already asked about, by database and name. */
  owners?: Map<string, Promise<Finding[]>>;
}

/** A role the catalogs do not know: the one finding about it, fixed by provisioning it. */
export function missingRole(role: string): Finding {
  return {
    what: `role ${role} does not exist`,
    severity: 'error',
    fixes: ['credential-rotation provision <credential>'],
    path: 'missing-role',
    object: `role ${role}`,
    facts: { role },
  };
}

/** A write grant (or only its grant option) that `holder` has, with the REVOKE that removes it. */
export function grantPower(db: pg.Client, grant: WriteGrant, holder: string): Power {
  const power = writeGrantPower(db, grant, holder);
  if (grant.write) return power;
  // Held only for its grant option: the holder may hand it on (GRANT writes the catalog, and others' access).
  const revoke = power.fix.replace(/^REVOKE /, 'REVOKE GRANT OPTION FOR ');
  return {
    ...power,
    path: 'grant-option',
    what: `may grant ${grant.privilege} on ${power.object} to others (WITH GRANT OPTION)`,
    fix: revoke,
    facts: { ...power.facts, grantable: true },
  };
}

function writeGrantPower(db: pg.Client, grant: WriteGrant, holder: string): Power {
  const to = holder === 'PUBLIC' ? 'PUBLIC' : db.escapeIdentifier(holder);
  const q = (schema: string | undefined, name: string) =>
    schema ? `${db.escapeIdentifier(schema)}.${db.escapeIdentifier(name)}` : db.escapeIdentifier(name);
  const plain = grant.schema ? `${grant.schema}.${grant.object}` : grant.object;
  const facts = { privilege: grant.privilege, kind: grant.kind, granted_to: holder, grantor: grant.grantor };
  switch (grant.kind) {
    case 'table': {
      const kind = relkindName(grant.relkind);
      const keyword = grant.relkind === 'S' ? 'SEQUENCE' : 'TABLE';
      const why = grant.relkind === 'S' ? ` (${grant.privilege === 'USAGE' ? 'nextval' : 'nextval and setval'} write)` : '';
      return {
        path: 'table-privilege',
        object: `${kind} ${plain}`,
        what: `holds ${grant.privilege} on ${kind} ${plain}${why}`,
        fix: `REVOKE ${grant.privilege} ON ${keyword} ${q(grant.schema, grant.object)} FROM ${to};`,
        runAs: grant.grantor,
        facts: { ...facts, object: plain },
      };
    }
    case 'column':
      return {
        path: 'column-privilege',
        object: `column ${plain}(${grant.column})`,
        what: `holds ${grant.privilege} on column ${plain}(${grant.column})`,
        fix: `REVOKE ${grant.privilege} (${db.escapeIdentifier(grant.column!)}) ON TABLE ${q(grant.schema, grant.object)} FROM ${to};`,
        runAs: grant.grantor,
        facts: { ...facts, object: `${plain}(${grant.column})` },
      };
    case 'schema':
    case 'database':
      return {
        path: grant.kind === 'schema' ? 'schema-privilege' : 'database-privilege',
        object: `${grant.kind} ${plain}`,
        what: `holds ${grant.privilege} on ${grant.kind} ${plain}`,
        fix: `REVOKE ${grant.privilege} ON ${grant.kind.toUpperCase()} ${q(undefined, grant.object)} FROM ${to};`,
        runAs: grant.grantor,
        facts: { ...facts, object: plain },
      };
    case 'large object':
      return {
        path: 'large-object-privilege',
        object: `large object ${grant.object}`,
        what: `holds ${grant.privilege} on large object ${grant.object} (lo_put, lo_truncate)`,
        fix: `REVOKE ${grant.privilege} ON LARGE OBJECT ${Number(grant.object)} FROM ${to};`,
        runAs: grant.grantor,
        facts: { ...facts, object: grant.object },
      };
    case 'foreign server':
    case 'foreign-data wrapper': {
      const does = grant.kind === 'foreign server' ? 'CREATE USER MAPPING' : 'CREATE SERVER';
      const keyword = grant.kind === 'foreign server' ? 'FOREIGN SERVER' : 'FOREIGN DATA WRAPPER';
      return {
        path: 'foreign-data-privilege',
        object: `${grant.kind} ${grant.object}`,
        what: `holds ${grant.privilege} on ${grant.kind} ${grant.object} (${does})`,
        fix: `REVOKE ${grant.privilege} ON ${keyword} ${q(undefined, grant.object)} FROM ${to};`,
        runAs: grant.grantor,
        facts: { ...facts, object: grant.object },
      };
    }
    case 'parameter': {
      const does =
        grant.privilege === 'ALTER SYSTEM'
          ? "changes the server's configuration (postgresql.auto.conf)"
          : 'turns off the privilege checks of large objects in its session';
      const name = /^[a-z_][a-z0-9_.]*$/.test(grant.object) ? grant.object : q(undefined, grant.object);
      return {
        path: 'parameter-privilege',
        object: `parameter ${grant.object}`,
        what: `holds ${grant.privilege} on parameter ${grant.object}: it ${does}`,
        fix: `REVOKE ${grant.privilege} ON PARAMETER ${name} FROM ${to};`,
        runAs: grant.grantor,
        facts: { ...facts, object: grant.object },
      };
    }
  }
}

function relkindName(relkind: string | undefined): string {
  return { v: 'view', m: 'materialized view', S: 'sequence', f: 'foreign table' }[relkind ?? ''] ?? 'table';
}

/** Attributes the subject has, or gains by SET ROLE (attributes are not inherited). */
export async function attributePowers(
  db: pg.Client,
  role: string,
  reached: ReachedRole[],
  attributes: readonly (readonly [string, string])[],
): Promise<Finding[]> {
  const acting = reached.filter((r) => r.mode === 'act');
  const attrs = await roleAttributes(
    db,
    acting.map((r) => r.oid),
  );
  const findings: Finding[] = [];
  for (const r of acting) {
    const a = attrs.get(r.oid) as unknown as Record<string, boolean> | undefined;
    const flags = a ? attributes.filter(([key]) => a[key]).map(([, sql]) => sql) : [];
    if (flags.length === 0) continue;
    const fix = `ALTER ROLE ${db.escapeIdentifier(r.name)} ${flags.map((f) => `NO${f}`).join(' ')};`;
    const needsSuperuser = flags.some((f) => ['SUPERUSER', 'REPLICATION', 'BYPASSRLS'].includes(f));
    const finding = powerFinding(
      db,
      role,
      {
        path: 'role-attribute',
        object: `role ${r.name}`,
        what: `is ${flags.join(', ')}`,
        fix,
        ...(needsSuperuser ? { runAs: 'a superuser' } : {}),
        facts: { via: r.name, attributes: flags.join(',') },
      },
      r,
    );
    if (r.path.length === 1 && needsSuperuser)
      finding.fixes.push(
        '(removing SUPERUSER, REPLICATION or BYPASSRLS needs a superuser; on DigitalOcean, ask support or recreate the role with credential-rotation provision)',
      );
    findings.push(finding);
  }
  return findings;
}

/**
 * SECURITY DEFINER routines the subject may call run with their owner's rights: a path when the
 * owner has the power asked about (`ownerPowers`, the same analysis for the owner), "could not
 * tell" when the owner may in turn call another owner's definer routine (not followed further).
 */
export async function definerPowers(
  db: pg.Client,
  role: string,
  byOid: Map<number, ReachedRole>,
  context: PowerContext,
  database: string | undefined,
  ownerPowers: (owner: string) => Promise<Finding[]>,
): Promise<Finding[]> {
  const findings: Finding[] = [];
  const owners = (context.owners ??= new Map<string, Promise<Finding[]>>());
  const acting = [...byOid.values()].filter((r) => r.mode === 'act').map((r) => r.oid);
  for (const f of await callableDefiners(db, [...byOid.keys()], acting)) {
    const grantee = f.grantees.includes(0) ? 0 : f.grantees[0];
    const holder = grantee === 0 || grantee === undefined ? 'PUBLIC' : byOid.get(grantee)!.name;
    const revoke = `REVOKE EXECUTE ON ROUTINE ${f.signature} FROM ${holder === 'PUBLIC' ? 'PUBLIC' : db.escapeIdentifier(holder)};`;
    const base = {
      object: `function ${f.signature}`,
      fix: revoke,
      runAs: f.owner,
      facts: { function: f.signature, owner: f.owner, granted_to: holder },
    };
    if (context.nested) {
      findings.push(
        powerFinding(
          db,
          role,
          {
            ...base,
            path: 'undecided',
            what: `may call SECURITY DEFINER function ${f.signature} of ${f.owner}: could not tell what that reaches (not followed further)`,
          },
          byOid.get(grantee),
          holder,
        ),
      );
      continue;
    }
    const key = `${database ?? ''}\n${f.owner}`;
    if (!owners.has(key)) owners.set(key, ownerPowers(f.owner));
    const powers = await owners.get(key)!;
    if (powers.length === 0) continue;
    const decided = powers.find((p) => p.path !== 'undecided');
    const what = decided
      ? `may call SECURITY DEFINER function ${f.signature}, which runs as ${f.owner}, and ${decided.what}`
      : `may call SECURITY DEFINER function ${f.signature}, which runs as ${f.owner}: could not tell what it reaches, as ${powers[0].what}`;
    findings.push(powerFinding(db, role, { ...base, path: decided ? 'security-definer' : 'undecided', what }, byOid.get(grantee), holder));
  }
  return findings;
}
