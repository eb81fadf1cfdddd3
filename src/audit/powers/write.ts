import type pg from 'pg';
import { reachableRoles, roleAttributes, type ReachedRole } from '../catalog.js';
import type { Finding } from '../types.js';
import {
  callableDefiners,
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
