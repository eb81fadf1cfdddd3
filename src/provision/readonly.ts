import type { CredentialPolicy, Policy } from '../policy/types.js';
import { existingRoles, type PlanContext } from './context.js';
import { revokeDefiners } from './definers.js';
import { alterOwner, ownedObjects, type OwnedObject } from './owned.js';
import { defaultSelect, schemaPrivileges, tableAccess } from './state.js';
import { defaultWriteGrants, membershipsOf, reachesWrites, writeGrants, type WriteGrant } from './write-grants.js';

/**
 * A read-only credential: USAGE and SELECT on its schemas' tables, today's and (default
 * privileges) those their writers create later; and every way to write the audit knows taken
 * away: write grants to its roles or to PUBLIC anywhere in the database, default privileges that
 * would grant them later, memberships that reach a writer, and ownership (moved to the system's
 * read-write role). Each statement is run by the role PostgreSQL takes it from.
 */
export async function planReadOnly(
  ctx: PlanContext,
  policy: Policy,
  credential: CredentialPolicy,
  roles: string[],
  groupExists: boolean,
): Promise<void> {
  if (groupExists) await takeAwayWrites(ctx, policy, credential, roles);
  // After the ownership moves: SELECT on a table the role owned is granted by its new owner.
  for (const schema of credential.schemas) await readSchema(ctx, policy, credential, schema, groupExists, roles);
}

/**
 * The ways to write taken away. `scope: 'database'` is another database of the cluster, read
 * through the admin's connection there: only what that database holds (grants on its objects,
 * default privileges, definer routines); memberships, attributes, CREATE on databases and
 * ownership are the cluster's, or moved from the admin_url's database.
 */
export async function takeAwayWrites(
  ctx: PlanContext,
  policy: Policy,
  credential: CredentialPolicy,
  roles: string[],
  scope: 'all' | 'database' = 'all',
): Promise<void> {
  const { q } = ctx;
  const group = credential.role;
  const existing = await existingRoles(ctx, roles);
  // What the roles passed on with a GRANT OPTION is revoked first, by them: a membership that
  // still gives them the owner's rights would keep it through a CASCADE.
  const grantsHere = (await writeGrants(ctx.db, existing, true)).filter((g) => scope === 'all' || !/^(DATABASE|PARAMETER) /.test(g.target));
  grantsHere.sort((a, b) => Number(existing.includes(b.grantor)) - Number(existing.includes(a.grantor)));
  for (const grants of groupBy(grantsHere, (g) => `${g.target}\0${g.column}\0${g.grantee}\0${g.grantor}\0${g.write}`)) {
    await revokeGrant(ctx, grants);
  }
  for (const d of await defaultWriteGrants(ctx.db, existing, true)) {
    const sql = `ALTER DEFAULT PRIVILEGES FOR ROLE ${q(d.creator)}${d.schema ? ` IN SCHEMA ${q(d.schema)}` : ''} REVOKE ${d.privileges.join(', ')} ON ${d.objects} FROM ${grantee(ctx, d.grantee)}`;
    if (await ctx.become(d.creator))
      ctx.add(sql, `acting as ${d.creator}: ${d.objects.toLowerCase()} it creates later are not writable by ${d.grantee}`);
    else
      ctx.cannot(`${d.grantee} may write ${d.objects.toLowerCase()} ${d.creator} creates later; as ${d.creator} or a superuser: ${sql};`);
  }
  await revokeDefiners(
    ctx,
    existing,
    (owner) => reachesWrites(ctx.db, owner, true),
    readWriteRoles(policy, credential).map((c) => c.role),
  );
  if (scope === 'database') return;
  for (const m of await membershipsOf(ctx.db, existing)) {
    const ownGroup = m.role === group && m.member !== group && credential.method === 'alternating-roles';
    if (ownGroup && !m.admin) continue;
    const writes = !ownGroup && (await reachesWrites(ctx.db, m.role));
    if (!writes && !m.admin) continue;
    const sql = writes ? `REVOKE ${q(m.role)} FROM ${q(m.member)}` : `REVOKE ADMIN OPTION FOR ${q(m.role)} FROM ${q(m.member)}`;
    const why = writes ? `${m.member} is read-only: through ${m.role} it could write` : `${m.member} could grant itself ${m.role}'s rights`;
    if (await ctx.become(m.grantor)) ctx.add(sql, `${why} (granted by ${m.grantor})`, m.grantor);
    else ctx.cannot(`${why}; as ${m.grantor} (who granted it) or a superuser: ${sql};`);
  }
  await moveOwnership(ctx, policy, credential, await ownedObjects(ctx.db, existing));
}

/** USAGE on the schema, SELECT on its tables, and SELECT on the tables its writers create later. */
async function readSchema(
  ctx: PlanContext,
  policy: Policy,
  credential: CredentialPolicy,
  schema: string,
  groupExists: boolean,
  roles: string[],
): Promise<void> {
  const { q, db } = ctx;
  const role = credential.role;
  const privileges = await schemaPrivileges(db, groupExists ? role : 'public', schema);
  if (!groupExists || !privileges.usage) {
    const sql = `GRANT USAGE ON SCHEMA ${q(schema)} TO ${q(role)}`;
    if (await ctx.rightsOf(privileges.owner)) ctx.add(sql, `${role} may look up objects in ${schema}`);
    else ctx.cannot(`${role} may not look up objects in ${schema}; as its owner (${privileges.owner}) or a superuser: ${sql};`);
  }
  const tables = groupExists
    ? await tableAccess(db, role, schema)
    : (await tableAccess(db, ctx.admin.user, schema)).map((t) => ({ ...t, select: false }));
  // A table the role owns itself goes to the read-write role (moveOwnership), and the role reads it as others'.
  const ownerAfter = (owner: string) => (roles.includes(owner) ? (writerFor(policy, credential, schema) ?? owner) : owner);
  const byOwner = new Map<string, string[]>();
  for (const t of tables)
    if (!t.select || roles.includes(t.owner)) byOwner.set(ownerAfter(t.owner), [...(byOwner.get(ownerAfter(t.owner)) ?? []), t.name]);
  // Writers: the owners of the tables there now and the read-write credentials of this system.
  const writers = new Set([...tables.map((t) => ownerAfter(t.owner)), ...readWriteRoles(policy, credential).map((c) => c.role)]);
  for (const owner of writers) {
    if (roles.includes(owner)) continue;
    const state = await ctx.role(owner);
    if (!state.exists) continue;
    const pending = byOwner.get(owner);
    const needDefault = !groupExists || !(await defaultSelect(db, owner, schema, role));
    if (!pending && !needDefault) continue;
    const grant = pending && `GRANT SELECT ON ${pending.join(', ')} TO ${q(role)}`;
    const later = `ALTER DEFAULT PRIVILEGES FOR ROLE ${q(owner)} IN SCHEMA ${q(schema)} GRANT SELECT ON TABLES TO ${q(role)}`;
    if (!(await ctx.become(owner))) {
      ctx.cannot(
        `tables owned by ${owner} in ${schema}: ${ctx.admin.user} may not act as ${owner}; as ${owner} or a superuser run: ${[needDefault && later, grant].filter(Boolean).join('; ')};`,
      );
      continue;
    }
    if (grant) ctx.add(grant, `acting as ${owner}: ${role} reads the tables of ${schema} ${owner} owns`);
    if (needDefault) ctx.add(later, `acting as ${owner}: tables ${owner} creates later in ${schema} are readable by ${role}`);
  }
}

/** One REVOKE for the privileges one grantor gave one grantee on one object (or column). */
export async function revokeGrant(ctx: PlanContext, grants: WriteGrant[]): Promise<void> {
  const [g] = grants;
  const privileges = grants.map((x) => (x.column ? `${x.privilege} (${x.column})` : x.privilege)).join(', ');
  // CASCADE: what the role granted on with a GRANT OPTION goes too (else PostgreSQL refuses the revoke).
  const sql = `REVOKE ${g.write ? '' : 'GRANT OPTION FOR '}${privileges} ON ${g.target} FROM ${grantee(ctx, g.grantee)}${g.grantee === 'PUBLIC' ? '' : ' CASCADE'}`;
  const holder = g.grantee === 'PUBLIC' ? 'every role, this one included,' : g.grantee;
  const why = g.write
    ? `${holder} may write through it (granted by ${g.grantor})`
    : `${holder} may grant it on (WITH GRANT OPTION, by ${g.grantor})`;
  // The owner's grants go with the owner's rights; another grantor's only from that grantor.
  if (g.grantor === g.owner ? await ctx.rightsOf(g.owner) : await ctx.become(g.grantor))
    ctx.add(sql, why, g.grantor === g.owner ? undefined : g.grantor);
  else ctx.cannot(`${why}; as ${g.grantor} or a superuser: ${sql};`);
}

/** Objects a read-only role owns go to the read-write role of their schema (the system's, when it has one). */
async function moveOwnership(ctx: PlanContext, policy: Policy, credential: CredentialPolicy, owned: OwnedObject[]): Promise<void> {
  for (const object of owned) {
    const to = writerFor(policy, credential, object.schema);
    const what = `${object.owner} owns ${object.type} ${object.identity}: an owner may change it`;
    const sql = to && alterOwner(object, ctx.q(to));
    if (!to || !sql) {
      ctx.cannot(`${what}; give it to the application role: ALTER … ${object.identity} OWNER TO <the read-write role>;`);
    } else if (object.extension) {
      ctx.cannot(`${what}; it belongs to extension ${object.extension}: as a superuser, ${sql};`);
    } else if (await ctx.actFor([object.owner, 'rights'], [to, 'set'])) {
      ctx.add(sql, `acting as ${object.owner}: ${credential.role} is read-only, ${to} owns what the application uses`);
    } else {
      ctx.cannot(`${what}; as a superuser: ${sql};`);
    }
  }
}

/** The read-write role objects of `schema` belong to: the system's read-write credential for that schema, or its only one. */
function writerFor(policy: Policy, credential: CredentialPolicy, schema: string | null): string | undefined {
  const writers = readWriteRoles(policy, credential);
  return writers.find((c) => schema && c.schemas.includes(schema))?.role ?? (writers.length === 1 ? writers[0].role : undefined);
}

function readWriteRoles(policy: Policy, credential: CredentialPolicy): CredentialPolicy[] {
  return Object.values(policy.credentials).filter(
    (c) => c.system === credential.system && c.access === 'readwrite' && c.id !== credential.id,
  );
}

function grantee(ctx: PlanContext, name: string): string {
  return name === 'PUBLIC' ? 'PUBLIC' : ctx.q(name);
}

function groupBy<T>(items: T[], key: (item: T) => string): T[][] {
  const groups = new Map<string, T[]>();
  for (const item of items) groups.set(key(item), [...(groups.get(key(item)) ?? []), item]);
  return [...groups.values()];
}
