import type pg from 'pg';
import { RotationError } from '../errors/errors.js';
import type { CredentialPolicy, Policy } from '../policy/types.js';
import { loginsOf } from '../policy/logins.js';
import { planContext, type PlanContext, type Statement } from './context.js';
import { auditFindings, type OpenDatabase } from './converged.js';
import { planOtherDatabases, type DatabasePlan } from './elsewhere.js';
import { planReadOnly } from './readonly.js';
import { notAdmin, takeOver } from './readwrite.js';
import { adminState, membership, schemaExists, schemaPrivileges, type RoleState } from './state.js';

export type { Statement } from './context.js';

export interface ProvisionPlan {
  credential: string;
  access: 'readwrite' | 'readonly';
  database: string;
  admin: string;
  statements: Statement[];
  /** What provisioning cannot do with this admin connection (or leaves to a person), with the SQL for the role that can. */
  unresolved: string[];
  /** Facts worth knowing that need nothing done. */
  notes: string[];
  /** What is done in the cluster's other databases, each in its own transaction. */
  elsewhere: DatabasePlan[];
}

export interface ProvisionOptions {
  /** Move the objects of the credential's schemas owned by this role to the app role. */
  takeOverFrom?: string;
  /** The admin's connection to another database, for the audit's look there (it names what it finds; provision changes only the admin_url's database). */
  database?: OpenDatabase;
}

/**
 * The least-privilege set-up one credential needs, computed against the live catalogs so a rerun
 * after --apply plans nothing. Every identifier is quoted (escapeIdentifier), never spliced.
 *
 * - alternating-roles: the NOLOGIN group role (credentials.*.role) and its two logins, members
 *   with INHERIT and SET, each running as the group (ALTER ROLE … SET role); a login that cannot
 *   log in is repaired (the rotation refuses it).
 * - readwrite (access: readwrite): the role owns its schemas' objects; --take-over-from moves
 *   every object of every kind from their current owner, in the same transaction.
 * - readonly: CONNECT, USAGE, SELECT on the schemas' tables and default privileges for tables the
 *   writers create later; every way to write taken away (readonly.ts).
 * - none of them SUPERUSER, CREATEROLE, CREATEDB, REPLICATION or BYPASSRLS.
 *
 * A plan with no statements is "nothing to do" only when nothing is unresolved and the audit
 * passes the credential: what is left is named, with the SQL for the role that can do it.
 */
export async function planProvision(
  db: pg.Client,
  policy: Policy,
  credential: CredentialPolicy,
  options: ProvisionOptions = {},
): Promise<ProvisionPlan> {
  const where = `credentials.${credential.id}`;
  if (!credential.access) throw new RotationError(`${where}.access: provision needs the intent: readwrite | readonly`);
  if (credential.method !== 'alter-role' && credential.method !== 'alternating-roles') {
    throw new RotationError(`${where}.method: provision sets up Postgres roles (alter-role, alternating-roles), not ${credential.method}`);
  }
  if (options.takeOverFrom && credential.access !== 'readwrite') {
    throw new RotationError(
      `--take-over-from: ${credential.id} is access: ${credential.access}; only a readwrite role takes over objects (what a read-only role owns goes to the system's read-write role by itself)`,
    );
  }
  const admin = await adminState(db);
  for (const schema of credential.schemas)
    if (!(await schemaExists(db, schema)))
      throw new RotationError(`${where}.schemas: schema ${JSON.stringify(schema)} does not exist in database ${admin.database}`);
  const { ctx, finish } = planContext(db, admin);
  const { q } = ctx;
  const role = credential.role;
  const alternating = credential.method === 'alternating-roles';
  const roles = alternating ? [role, ...loginsOf(credential)] : [role];

  const group = await ctx.role(role);
  if (!group.exists) {
    ctx.add(
      `CREATE ROLE ${q(role)} ${alternating ? 'NOLOGIN' : 'LOGIN'}`,
      alternating ? 'the group role: owns the objects, logs in never' : 'the application role (its password is set by the first rotation)',
    );
    ctx.created.add(role);
  } else {
    stripPowers(ctx, group);
    if (alternating && group.canLogin)
      ctx.cannot(
        `${role} can still log in, and the rotation refuses a group role that can: once no consumer logs in as it, run ALTER ROLE ${q(role)} NOLOGIN;`,
      );
    if (!alternating && !group.canLogin)
      ctx.add(`ALTER ROLE ${q(role)} LOGIN`, `${role} is the application's login (the rotation refuses a role that cannot log in)`);
  }
  adminOption(ctx, group);

  if (alternating) {
    for (const login of roles.slice(1)) {
      const state = await ctx.role(login);
      if (!state.exists) {
        ctx.add(`CREATE ROLE ${q(login)} LOGIN`, `a login of ${role} (no password yet: the first rotation sets one)`);
        ctx.created.add(login);
      } else {
        stripPowers(ctx, state);
        if (!state.canLogin)
          ctx.add(`ALTER ROLE ${q(login)} LOGIN`, `${login} is a login of ${role} (the rotation refuses one that cannot log in)`);
      }
      const member = state.exists && group.exists ? await membership(db, login, role) : { inherits: false, maySet: false };
      if (!member.inherits || !member.maySet)
        ctx.add(`GRANT ${q(role)} TO ${q(login)} WITH INHERIT TRUE, SET TRUE`, `${login} has the privileges of ${role} and may act as it`);
      if (!state.config.includes(`role=${role}`))
        ctx.add(
          `ALTER ROLE ${q(login)} SET role = ${db.escapeLiteral(role)}`,
          `${login} runs as ${role}: what it creates belongs to ${role}, usable through the other login`,
        );
      adminOption(ctx, state);
    }
  }

  await connectGrant(ctx, role, group.exists, credential.schemas[0]);
  if (credential.access === 'readwrite') {
    for (const schema of credential.schemas) {
      const privileges = await schemaPrivileges(db, group.exists ? role : 'public', schema);
      if (!group.exists || !privileges.usage || !privileges.create) {
        const sql = `GRANT USAGE, CREATE ON SCHEMA ${q(schema)} TO ${q(role)}`;
        if (await ctx.rightsOf(privileges.owner)) ctx.add(sql, `${role} creates and owns the objects of ${schema}`);
        else ctx.cannot(`${role} may not create in ${schema}; as its owner (${privileges.owner}) or a superuser: ${sql};`);
      }
    }
    await takeOver(ctx, role, credential.schemas, options.takeOverFrom);
    if (group.exists) await notAdmin(ctx, credential, roles);
  } else {
    await planReadOnly(ctx, policy, credential, roles, group.exists);
  }
  const { statements, unresolved, notes } = finish();
  const elsewhere = group.exists ? await planOtherDatabases(db, admin, policy, credential, roles, options.database) : [];
  if (statements.length === 0 && unresolved.length === 0 && elsewhere.length === 0)
    unresolved.push(...(await auditFindings(db, policy, credential, options.database)));
  return {
    credential: credential.id,
    access: credential.access,
    database: admin.database,
    admin: admin.user,
    statements,
    unresolved,
    notes,
    elsewhere,
  };
}

/** CONNECT on the database, explicitly (it survives a REVOKE … FROM PUBLIC); only the database's owner may grant it. */
async function connectGrant(ctx: PlanContext, role: string, exists: boolean, schema: string): Promise<void> {
  const { admin, q } = ctx;
  const privileges = await schemaPrivileges(ctx.db, exists ? role : 'public', schema);
  if (exists && privileges.connect) return;
  const sql = `GRANT CONNECT ON DATABASE ${q(admin.database)} TO ${q(role)}`;
  if (await ctx.rightsOf(admin.databaseOwner)) ctx.add(sql, `${role} may connect to ${admin.database}`);
  else if (!privileges.connect)
    ctx.cannot(`${role} may not connect to ${admin.database}; as its owner (${admin.databaseOwner}) or a superuser: ${sql};`);
}

/** SUPERUSER, CREATEROLE, CREATEDB, REPLICATION, BYPASSRLS off; PostgreSQL 16 lets the admin take away only what it has itself. */
function stripPowers(ctx: PlanContext, state: RoleState): void {
  const may = (p: string) => ctx.admin.superuser || (p !== 'SUPERUSER' && (ctx.admin.powers as string[]).includes(p));
  const doable = state.powers.filter(may);
  const sql = (powers: string[]) => `ALTER ROLE ${ctx.q(state.name)} ${powers.map((p) => `NO${p}`).join(' ')}`;
  if (doable.length > 0) ctx.add(sql(doable), `an application role needs none of ${doable.join(', ')}`);
  const left = state.powers.filter((p) => !may(p));
  if (left.length > 0)
    ctx.cannot(
      `${state.name} is ${left.join(', ')}, which only a role that has it (${left.includes('SUPERUSER') ? 'a superuser' : 'or a superuser'}) may take away: ${sql(left)};`,
    );
}

/** The rotation admin holds ADMIN OPTION (not its privileges) on every role it rotates. */
function adminOption(ctx: PlanContext, state: RoleState): void {
  // A role the admin creates comes with ADMIN OPTION, INHERIT FALSE, SET FALSE (PG16).
  if (!state.exists || ctx.admin.superuser || state.adminHasAdmin) return;
  const { q, admin } = ctx;
  ctx.cannot(
    `${admin.user} may not change the password of ${state.name}; as a superuser (or a holder of ADMIN OPTION on ${state.name}): GRANT ${q(state.name)} TO ${q(admin.user)} WITH ADMIN OPTION, INHERIT FALSE, SET FALSE;`,
  );
}
