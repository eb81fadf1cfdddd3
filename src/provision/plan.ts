import type pg from 'pg';
import { RotationError } from '../errors/errors.js';
import type { CredentialPolicy, Policy } from '../policy/types.js';
import { loginsOf } from '../policy/logins.js';
import { adminState, defaultSelect, membership, roleState, schemaExists, schemaObjects, schemaPrivileges, tableAccess, type AdminState, type RoleState } from './state.js';

export interface Statement {
  sql: string;
  /** Why, printed as a comment above it. */
  why: string;
}

export interface ProvisionPlan {
  credential: string;
  access: 'readwrite' | 'readonly';
  database: string;
  admin: string;
  statements: Statement[];
  /** What provisioning cannot or will not do itself, with the SQL a person runs. */
  notes: string[];
}

export interface ProvisionOptions {
  /** Move the objects of the credential's schemas owned by this role to the app role. */
  takeOverFrom?: string;
}

/**
 * The least-privilege set-up one credential needs, computed against the live catalogs so a rerun
 * after --apply plans nothing. Every identifier is quoted (escapeIdentifier), never spliced.
 *
 * - alternating-roles: the NOLOGIN group role (credentials.*.role) and its two logins, members
 *   with INHERIT and SET, each running as the group (ALTER ROLE … SET role).
 * - readwrite (access: readwrite): the role owns its schemas' objects; --take-over-from moves
 *   them from their current owner, object by object, in the same transaction.
 * - readonly: CONNECT, USAGE, SELECT on the schemas' tables and default privileges for tables the
 *   writers create later; explicit write grants are revoked.
 * - none of them SUPERUSER, CREATEROLE, REPLICATION or BYPASSRLS.
 *
 * PG16: a non-superuser admin (DigitalOcean's doadmin, rotation_admin) gets ADMIN OPTION, INHERIT
 * FALSE, SET FALSE on the roles it creates. Acting as a role (changing an owner, default
 * privileges, granting on its tables) needs SET and its privileges: the plan grants them to the
 * admin for the transaction and revokes that grant before COMMIT.
 */
export async function planProvision(db: pg.Client, policy: Policy, credential: CredentialPolicy, options: ProvisionOptions = {}): Promise<ProvisionPlan> {
  const where = `credentials.${credential.id}`;
  if (!credential.access) throw new RotationError(`${where}.access: provision needs the intent: readwrite | readonly`);
  if (credential.method !== 'alter-role' && credential.method !== 'alternating-roles') {
    throw new RotationError(`${where}.method: provision sets up Postgres roles (alter-role, alternating-roles), not ${credential.method}`);
  }
  const admin = await adminState(db);
  const q = (name: string) => db.escapeIdentifier(name);
  const out: Statement[] = [];
  const notes: string[] = [];
  const add = (sql: string, why: string) => out.push({ sql, why });
  const role = credential.role;
  const alternating = credential.method === 'alternating-roles';
  for (const schema of credential.schemas) if (!(await schemaExists(db, schema))) throw new RotationError(`${where}.schemas: schema ${JSON.stringify(schema)} does not exist in database ${admin.database}`);

  const group = await roleState(db, role);
  if (!group.exists) add(`CREATE ROLE ${q(role)} ${alternating ? 'NOLOGIN' : 'LOGIN'}`, alternating ? 'the group role: owns the objects, logs in never' : 'the application role (its password is set by the first rotation)');
  else {
    stripPowers(group, add, q);
    if (alternating && group.canLogin) notes.push(`${role} can still log in: once no consumer logs in as it, run ALTER ROLE ${q(role)} NOLOGIN (the rotation refuses a group role that can log in)`);
  }
  adminOption(group, admin, add, notes, q);

  if (alternating) {
    for (const login of loginsOf(credential)) {
      const state = await roleState(db, login);
      if (!state.exists) add(`CREATE ROLE ${q(login)} LOGIN`, `a login of ${role} (no password yet: the first rotation sets one)`);
      else stripPowers(state, add, q);
      const member = state.exists && group.exists ? await membership(db, login, role) : { inherits: false, maySet: false };
      if (!member.inherits || !member.maySet) add(`GRANT ${q(role)} TO ${q(login)} WITH INHERIT TRUE, SET TRUE`, `${login} has the privileges of ${role} and may act as it`);
      if (!state.config.includes(`role=${role}`)) add(`ALTER ROLE ${q(login)} SET role = ${db.escapeLiteral(role)}`, `${login} runs as ${role}: what it creates belongs to ${role}, usable through the other login`);
      adminOption(state, admin, add, notes, q);
    }
  }

  // Statements that act as a role the admin may not act as get a grant for the transaction.
  const actAs = new Set<string>();
  const mayAct = (state: RoleState) => admin.superuser || state.name === admin.user || (state.adminMaySet && state.adminHasPrivileges);
  if (!group.exists || !(await schemaPrivileges(db, role, credential.schemas[0])).connect) {
    add(`GRANT CONNECT ON DATABASE ${q(admin.database)} TO ${q(role)}`, `${role} may connect to ${admin.database}`);
  }
  for (const schema of credential.schemas) {
    const privileges = group.exists ? await schemaPrivileges(db, role, schema) : { usage: false, create: false, connect: false };
    if (credential.access === 'readwrite') {
      if (!privileges.usage || !privileges.create) add(`GRANT USAGE, CREATE ON SCHEMA ${q(schema)} TO ${q(role)}`, `${role} creates and owns the objects of ${schema}`);
      await ownership(schema);
    } else {
      await readOnly(schema, privileges);
    }
  }
  if (actAs.size > 0) {
    const [first, last] = [...actAs].reduce<[Statement[], Statement[]]>(
      ([pre, post], name) => [
        [...pre, { sql: `GRANT ${q(name)} TO ${q(admin.user)} WITH INHERIT TRUE, SET TRUE`, why: `for this transaction only: ${admin.user} acts as ${name}` }],
        [...post, { sql: `REVOKE ${q(name)} FROM ${q(admin.user)} GRANTED BY ${q(admin.user)}`, why: `back to ADMIN OPTION only on ${name}` }],
      ],
      [[], []],
    );
    const firstActing = out.findIndex((s) => s.why.startsWith('acting as'));
    out.splice(firstActing, 0, ...first);
    out.push(...last);
  }
  return { credential: credential.id, access: credential.access, database: admin.database, admin: admin.user, statements: out, notes };

  async function ownership(schema: string): Promise<void> {
    const objects = await schemaObjects(db, schema);
    const foreign = objects.filter((o) => o.owner !== role);
    const from = options.takeOverFrom;
    if (from) {
      const owner = await roleState(db, from);
      if (!owner.exists) throw new RotationError(`--take-over-from: role ${JSON.stringify(from)} does not exist`);
      const moving = foreign.filter((o) => o.owner === from);
      if (moving.length > 0 && !(admin.superuser || from === admin.user || owner.adminHasPrivileges)) {
        throw new RotationError(`--take-over-from ${from}: the admin connection (${admin.user}) does not have the privileges of ${from}, so it may not change the owner of its objects`, { hint: `run provision with ${from}'s connection as admin_url, or as a superuser` });
      }
      if (moving.length > 0 && !mayAct(group)) actAs.add(role);
      for (const o of moving) add(`ALTER ${o.kind} ${o.name} OWNER TO ${q(role)}`, `acting as ${role}: take over ${o.kind.toLowerCase()} ${o.name} from ${from}`);
    }
    const others = new Map<string, number>();
    for (const o of foreign) if (o.owner !== from) others.set(o.owner, (others.get(o.owner) ?? 0) + 1);
    for (const [owner, n] of others) notes.push(`${n} object(s) in schema ${schema} are owned by ${owner}, not ${role}: --take-over-from ${owner} moves them (shown first, applied in one transaction)`);
  }

  async function readOnly(schema: string, privileges: { usage: boolean; create: boolean }): Promise<void> {
    if (!privileges.usage) add(`GRANT USAGE ON SCHEMA ${q(schema)} TO ${q(role)}`, `${role} may look up objects in ${schema}`);
    if (privileges.create) add(`REVOKE CREATE ON SCHEMA ${q(schema)} FROM ${q(role)}`, `${role} is read-only: it creates nothing`);
    const tables = group.exists ? await tableAccess(db, role, schema) : (await tableAccess(db, admin.user, schema)).map((t) => ({ ...t, select: false, writes: [], granted_writes: [] }));
    const byOwner = new Map<string, string[]>();
    for (const t of tables) {
      if (!t.select) byOwner.set(t.owner, [...(byOwner.get(t.owner) ?? []), t.name]);
      if (t.granted_writes.length > 0) add(`REVOKE ${t.granted_writes.join(', ')} ON ${t.name} FROM ${q(role)}`, `${role} is read-only`);
      else if (t.writes.length > 0) notes.push(`${role} may ${t.writes.join(', ')} on ${t.name} through PUBLIC or a membership: revoke that grant where it is made`);
    }
    // Writers: the owners of the tables there now and the read-write credentials of this system.
    const writers = new Set([...tables.map((t) => t.owner), ...Object.values(policy.credentials).filter((c) => c.system === credential.system && c.access === 'readwrite' && c.id !== credential.id).map((c) => c.role)]);
    for (const owner of writers) {
      const state = await roleState(db, owner);
      if (!state.exists) continue;
      if (!mayAct(state) && !state.adminHasAdmin) {
        notes.push(`tables owned by ${owner} in ${schema}: ${admin.user} may not act as ${owner}; as ${owner} or a superuser run: ALTER DEFAULT PRIVILEGES FOR ROLE ${q(owner)} IN SCHEMA ${q(schema)} GRANT SELECT ON TABLES TO ${q(role)}${byOwner.has(owner) ? `; GRANT SELECT ON ${byOwner.get(owner)!.join(', ')} TO ${q(role)}` : ''}`);
        continue;
      }
      const pending = byOwner.get(owner);
      const needDefault = !group.exists || !(await defaultSelect(db, owner, schema, role));
      if ((pending || needDefault) && !mayAct(state)) actAs.add(owner);
      if (pending) add(`GRANT SELECT ON ${pending.join(', ')} TO ${q(role)}`, `acting as ${owner}: ${role} reads the tables of ${schema} ${owner} owns`);
      if (needDefault) add(`ALTER DEFAULT PRIVILEGES FOR ROLE ${q(owner)} IN SCHEMA ${q(schema)} GRANT SELECT ON TABLES TO ${q(role)}`, `acting as ${owner}: tables ${owner} creates later in ${schema} are readable by ${role}`);
    }
  }
}

/** SUPERUSER, CREATEROLE, REPLICATION, BYPASSRLS off, naming only those that are on. */
function stripPowers(state: RoleState, add: (sql: string, why: string) => void, q: (n: string) => string): void {
  if (state.powers.length > 0) add(`ALTER ROLE ${q(state.name)} ${state.powers.map((p) => `NO${p}`).join(' ')}`, `an application role needs none of ${state.powers.join(', ')}`);
}

/** The rotation admin holds ADMIN OPTION (not its privileges) on every role it rotates. */
function adminOption(state: RoleState, admin: AdminState, add: (sql: string, why: string) => void, notes: string[], q: (n: string) => string): void {
  // A role the admin creates comes with ADMIN OPTION, INHERIT FALSE, SET FALSE (PG16).
  if (!state.exists || admin.superuser || state.adminHasAdmin) return;
  add(`GRANT ${q(state.name)} TO ${q(admin.user)} WITH ADMIN OPTION, INHERIT FALSE, SET FALSE`, `${admin.user} may change the password of ${state.name} (and nothing else of it)`);
  notes.push(`GRANT ${q(state.name)} TO ${q(admin.user)} … needs a superuser or a holder of ADMIN OPTION on ${state.name}`);
}
