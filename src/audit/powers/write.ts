import type pg from 'pg';
import { reachableRoles, type ReachedRole } from '../catalog.js';
import type { Finding } from '../types.js';
import {
  defaultWriteGrants,
  largeObjectCompat,
  ownedObjects,
  writeGrants,
  type DefaultGrant,
  type OwnedObject,
  type WriteGrant,
} from './catalog.js';
import { alterOwner, powerFinding, type Power } from './describe.js';
import { inOtherDatabases } from './databases.js';
import { attributePowers, definerPowers, grantPower, missingRole, type PowerContext } from './kinds.js';

/** Predefined roles that write, or reach past the database onto the server. */
const WRITING_ROLES: Record<string, string> = {
  pg_write_all_data: 'writes every table, view and sequence',
  pg_execute_server_program: 'runs programs on the database server (COPY … TO PROGRAM)',
  pg_write_server_files: 'writes files on the database server (COPY … TO a file)',
  pg_read_server_files: 'reads any file the server can read (COPY … FROM a file), its configuration and keys included',
};

/** Attributes that let a role write, create or read past every grant. */
const WRITING_ATTRIBUTES = [
  ['superuser', 'SUPERUSER'],
  ['bypassrls', 'BYPASSRLS'],
  ['createrole', 'CREATEROLE'],
  ['createdb', 'CREATEDB'],
  ['replication', 'REPLICATION'],
] as const;

/**
 * Every way `role` can change data or structure, each as a finding with its path, object and fix:
 * write grants to it, to PUBLIC or to any role it reaches (INHERIT, SET or ADMIN OPTION), objects
 * it owns (any kind, any database), predefined roles that write, role attributes, default
 * privileges on objects created later, SECURITY DEFINER functions whose owner can write, and
 * large objects opened to all by lo_compat_privileges; the per-database ones in every database
 * the role may connect to. Empty means read-only.
 */
export async function writePaths(db: pg.Client, role: string, context: PowerContext = {}, database?: string): Promise<Finding[]> {
  const reached = await reachableRoles(db, role);
  if (reached.length === 0) return [missingRole(role)];
  const byOid = new Map(reached.map((r) => [r.oid, r]));
  const findings = [
    ...(await clusterWritePaths(db, role, reached, byOid, context)),
    ...(await databaseWritePaths(db, role, byOid, context, database)),
  ];
  if (!context.nested)
    findings.push(
      ...(await inOtherDatabases(db, role, byOid, context.database, (other, name) =>
        databaseWritePaths(other, role, byOid, context, name),
      )),
    );
  // A predefined role has no fix but cutting the membership: its empty second fix goes.
  return findings.map((f) => ({ ...f, fixes: f.fixes.filter(Boolean) }));
}

/** Grants on objects of the whole cluster (shared catalogs): read once, whatever the database. */
const CLUSTER_KINDS: WriteGrant['kind'][] = ['database', 'parameter'];

/** Paths the shared catalogs show, the same from any database: ownership, grants on databases and parameters, roles, attributes, settings. */
async function clusterWritePaths(
  db: pg.Client,
  role: string,
  reached: ReachedRole[],
  byOid: Map<number, ReachedRole>,
  context: PowerContext,
): Promise<Finding[]> {
  const oids = [...byOid.keys()];
  const holder = (grantee: number) => (grantee === 0 ? 'PUBLIC' : byOid.get(grantee)!.name);
  const findings: Finding[] = [];
  for (const grant of (await writeGrants(db, [0, ...oids])).filter((g) => CLUSTER_KINDS.includes(g.kind)))
    findings.push(powerFinding(db, role, grantPower(db, grant, holder(grant.grantee)), byOid.get(grant.grantee), holder(grant.grantee)));
  const owned = (await ownedObjects(db, oids)).filter((o) => !(context.nested && o.catalog === 'pg_proc'));
  for (const power of ownershipPowers(db, owned, byOid, context.writer)) findings.push(powerFinding(db, role, power.power, power.via));
  for (const r of reached.filter((x) => WRITING_ROLES[x.name])) {
    findings.push(powerFinding(db, role, { path: 'predefined-role', object: `role ${r.name}`, what: WRITING_ROLES[r.name], fix: '' }, r));
  }
  findings.push(...(await attributePowers(db, role, reached, WRITING_ATTRIBUTES)));
  for (const setting of await largeObjectCompat(db, oids)) {
    findings.push({
      what: `lo_compat_privileges is on for ${setting.where}: ${role} may write every large object`,
      severity: 'error',
      fixes: [setting.fix],
      path: 'server-setting',
      object: `setting lo_compat_privileges for ${setting.where}`,
      runAs: 'a superuser',
      facts: { role, where: setting.where },
    });
  }
  return findings;
}

/** Paths of one database: grants on its objects, its default privileges, its definer functions. */
async function databaseWritePaths(
  db: pg.Client,
  role: string,
  byOid: Map<number, ReachedRole>,
  context: PowerContext,
  database: string | undefined,
): Promise<Finding[]> {
  const oids = [...byOid.keys()];
  const holder = (grantee: number) => (grantee === 0 ? 'PUBLIC' : byOid.get(grantee)!.name);
  const findings: Finding[] = [];
  for (const grant of (await writeGrants(db, [0, ...oids])).filter((g) => !CLUSTER_KINDS.includes(g.kind)))
    findings.push(powerFinding(db, role, grantPower(db, grant, holder(grant.grantee)), byOid.get(grant.grantee), holder(grant.grantee)));
  for (const grant of await defaultWriteGrants(db, [0, ...oids]))
    findings.push(powerFinding(db, role, defaultPower(db, grant, holder(grant.grantee)), byOid.get(grant.grantee), holder(grant.grantee)));
  findings.push(
    ...(await definerPowers(db, role, byOid, context, database, (owner) => writePaths(db, owner, { ...context, nested: true }, database))),
  );
  return findings;
}

/** Each owned object of this database, and per other database the count (its catalogs are not read here). */
function ownershipPowers(
  db: pg.Client,
  owned: OwnedObject[],
  byOid: Map<number, ReachedRole>,
  writer: string | undefined,
): { power: Power; via: ReachedRole }[] {
  const to = writer ? db.escapeIdentifier(writer) : '<the application role>';
  const elsewhere = new Map<string, number>();
  const out: { power: Power; via: ReachedRole }[] = [];
  for (const o of owned) {
    const via = byOid.get(o.owner)!;
    if (!o.here) {
      const key = `${o.owner}\n${o.database}`;
      elsewhere.set(key, (elsewhere.get(key) ?? 0) + 1);
      continue;
    }
    const object = `${o.type} ${o.identity}`;
    out.push({
      via,
      power: {
        path: 'ownership',
        object,
        what: `owns ${object}: an owner may change it, its contents and who may`,
        fix: alterOwner(db, o.type, o.identity, via.name, to),
        runAs: via.name,
        facts: { object, owner: via.name },
      },
    });
  }
  for (const [key, count] of elsewhere) {
    const [owner, database] = key.split('\n');
    const via = byOid.get(Number(owner))!;
    out.push({
      via,
      power: {
        path: 'ownership',
        object: `database ${database}`,
        what: `owns ${count} object(s) in database ${database}: connect there to see them`,
        fix: `REASSIGN OWNED BY ${db.escapeIdentifier(via.name)} TO ${to}; (connected to database ${database})`,
        runAs: via.name,
        facts: { database, count, owner: via.name },
      },
    });
  }
  return out;
}

function defaultPower(db: pg.Client, grant: DefaultGrant, holder: string): Power {
  const objects = { r: 'TABLES', S: 'SEQUENCES', n: 'SCHEMAS' }[grant.objtype]!;
  const where = grant.schema ? ` IN SCHEMA ${db.escapeIdentifier(grant.schema)}` : '';
  const scope = `every ${objects.toLowerCase().replace(/s$/, '')} ${grant.creator} creates${grant.schema ? ` in schema ${grant.schema}` : ''}`;
  return {
    path: 'default-privileges',
    object: `default privileges of ${grant.creator}${grant.schema ? ` in schema ${grant.schema}` : ''} on ${objects.toLowerCase()}`,
    what: `is granted ${grant.privilege} on ${scope} (ALTER DEFAULT PRIVILEGES): objects created later become writable`,
    fix: `ALTER DEFAULT PRIVILEGES FOR ROLE ${db.escapeIdentifier(grant.creator)}${where} REVOKE ${grant.privilege} ON ${objects} FROM ${holder === 'PUBLIC' ? 'PUBLIC' : db.escapeIdentifier(holder)};`,
    runAs: grant.creator,
    facts: { privilege: grant.privilege, creator: grant.creator, schema: grant.schema, granted_to: holder },
  };
}
