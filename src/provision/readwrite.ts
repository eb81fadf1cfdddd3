import { RotationError } from '../errors/errors.js';
import type { CredentialPolicy } from '../policy/types.js';
import { existingRoles, type PlanContext } from './context.js';
import { revokeDefiners } from './definers.js';
import { alterOwner, ownedObjects } from './owned.js';
import { revokeGrant } from './readonly.js';
import { membershipsOf, reachesAdmin, writeGrants } from './write-grants.js';

/** The schemas' objects of every kind move from `from` to the app role; what cannot is named. */
export async function takeOver(ctx: PlanContext, role: string, schemas: string[], from: string | undefined): Promise<void> {
  const objects = (await ownedObjects(ctx.db, null, schemas)).filter((o) => o.owner !== role);
  if (from) {
    if (!(await ctx.role(from)).exists) throw new RotationError(`--take-over-from: role ${JSON.stringify(from)} does not exist`);
    const moving = objects.filter((o) => o.owner === from);
    const movable = moving.filter((o) => !o.extension && alterOwner(o, ''));
    if (movable.length > 0 && !(await ctx.rightsOf(from))) {
      throw new RotationError(
        `--take-over-from ${from}: the admin connection (${ctx.admin.user}) does not have the privileges of ${from}, so it may not change the owner of its objects`,
        { hint: `run provision with ${from}'s connection as admin_url, or as a superuser` },
      );
    }
    if (movable.length > 0 && !(await ctx.become(role))) {
      throw new RotationError(`--take-over-from ${from}: the admin connection (${ctx.admin.user}) may not act as ${role}, the new owner`, {
        hint: `GRANT ${ctx.q(role)} TO ${ctx.q(ctx.admin.user)} WITH ADMIN OPTION as a superuser, or run provision as one`,
      });
    }
    for (const o of movable) ctx.add(alterOwner(o, ctx.q(role))!, `acting as ${role}: take over ${o.type} ${o.identity} from ${from}`);
    for (const o of moving.filter((x) => x.extension))
      ctx.note(`${o.type} ${o.identity} stays with ${from}: it belongs to extension ${o.extension}, whose objects follow the extension`);
    for (const o of moving.filter((x) => !x.extension && !alterOwner(x, '')))
      ctx.cannot(
        `${o.type} ${o.identity} is still owned by ${from}: provision does not move this kind of object; as ${from} or a superuser, ALTER it OWNER TO ${ctx.q(role)}`,
      );
  }
  const others = new Map<string, number>();
  for (const o of objects)
    if (o.owner !== from && o.owner !== 'pg_database_owner' && !o.extension) others.set(o.owner, (others.get(o.owner) ?? 0) + 1);
  for (const [owner, n] of others)
    ctx.note(
      `${n} object(s) in schema(s) ${schemas.join(', ')} are owned by ${owner}, not ${role}: --take-over-from ${owner} moves them (shown first, applied in one transaction)`,
    );
}

/**
 * Rule 2 (the application role is not an admin) beyond its own attributes: memberships through
 * which it reaches an admin attribute or an administrators' predefined role are revoked by their
 * grantor, ALTER SYSTEM on parameters is revoked, and SECURITY DEFINER routines of such owners
 * stop being callable by it.
 */
export async function notAdmin(
  ctx: PlanContext,
  credential: CredentialPolicy,
  roles: string[],
  scope: 'all' | 'database' = 'all',
): Promise<void> {
  const { q } = ctx;
  const existing = await existingRoles(ctx, roles);
  await revokeDefiners(ctx, existing, (owner) => reachesAdmin(ctx.db, owner), []);
  if (scope === 'database') return;
  // ALTER SYSTEM on a parameter is an administrator's power (the server's configuration).
  for (const g of (await writeGrants(ctx.db, existing, true)).filter(
    (x) => x.target.startsWith('PARAMETER ') && x.privilege === 'ALTER SYSTEM',
  ))
    await revokeGrant(ctx, [g]);
  for (const m of await membershipsOf(ctx.db, existing)) {
    if (m.role === credential.role && credential.method === 'alternating-roles' && !m.admin) continue;
    if (!(await reachesAdmin(ctx.db, m.role))) continue;
    const sql = `REVOKE ${q(m.role)} FROM ${q(m.member)}`;
    const why = `${m.member} is an application role: through ${m.role} it could act as an administrator`;
    if (await ctx.become(m.grantor)) ctx.add(sql, `${why} (granted by ${m.grantor})`, m.grantor);
    else ctx.cannot(`${why}; as ${m.grantor} (who granted it) or a superuser: ${sql};`);
  }
}
