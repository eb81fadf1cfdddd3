import type { PlanContext } from './context.js';

/** A SECURITY DEFINER routine one of the roles may call, and who gave them EXECUTE. */
interface CallableDefiner {
  /** Schema-qualified, quoted where needed: public.close_period(integer). */
  identity: string;
  owner: string;
  /** EXECUTE held by PUBLIC (explicitly, or by default when the routine has no ACL yet). */
  public: boolean;
  /** Direct grants to the roles: grantee and grantor. */
  grants: { grantee: string; grantor: string }[];
}

/**
 * A SECURITY DEFINER routine runs with its owner's rights: one the credential's roles may call,
 * whose owner has the powers they must not have (`powerful`), is a way to those powers. EXECUTE
 * is revoked from them: a grant to PUBLIC (the default) with the owner's rights, each of `keep`
 * that called it through PUBLIC getting EXECUTE of its own; a grant to them by its grantor.
 */
export async function revokeDefiners(
  ctx: PlanContext,
  roles: string[],
  powerful: (owner: string) => Promise<boolean>,
  keep: string[],
): Promise<void> {
  const { q } = ctx;
  for (const f of await callableDefiners(ctx, roles)) {
    if (!(await powerful(f.owner))) continue;
    const why = `it runs as ${f.owner}, with powers ${roles[0]} must not have`;
    if (f.public) {
      const keepers = (await keepersOf(ctx, f.identity, keep)).filter((k) => k !== f.owner);
      const sql = [
        `REVOKE EXECUTE ON ROUTINE ${f.identity} FROM PUBLIC`,
        ...keepers.map((k) => `GRANT EXECUTE ON ROUTINE ${f.identity} TO ${q(k)}`),
      ];
      if (await ctx.rightsOf(f.owner))
        sql.forEach((s, i) =>
          ctx.add(s, i === 0 ? `every role may call SECURITY DEFINER routine ${f.identity}: ${why}` : `${keepers[i - 1]} still calls it`),
        );
      else
        ctx.cannot(`every role may call SECURITY DEFINER routine ${f.identity}: ${why}; as ${f.owner} or a superuser: ${sql.join('; ')};`);
    }
    for (const g of f.grants) {
      const sql = `REVOKE EXECUTE ON ROUTINE ${f.identity} FROM ${q(g.grantee)}`;
      if (g.grantor === f.owner ? await ctx.rightsOf(f.owner) : await ctx.become(g.grantor))
        ctx.add(sql, `${g.grantee} may call SECURITY DEFINER routine ${f.identity}: ${why}`, g.grantor === f.owner ? undefined : g.grantor);
      else ctx.cannot(`${g.grantee} may call SECURITY DEFINER routine ${f.identity}: ${why}; as ${g.grantor} or a superuser: ${sql};`);
    }
  }
}

async function callableDefiners(ctx: PlanContext, roles: string[]): Promise<CallableDefiner[]> {
  const { rows } = await ctx.db.query<CallableDefiner>(
    `WITH who AS (SELECT oid FROM pg_roles WHERE rolname = ANY($1::text[]))
     SELECT i.identity, pg_get_userbyid(p.proowner) AS owner,
            EXISTS (SELECT 1 FROM aclexplode(COALESCE(p.proacl, acldefault('f', p.proowner))) a WHERE a.grantee = 0 AND a.privilege_type = 'EXECUTE') AS public,
            ARRAY(SELECT json_build_object('grantee', pg_get_userbyid(a.grantee), 'grantor', pg_get_userbyid(a.grantor))
                    FROM aclexplode(p.proacl) a WHERE a.privilege_type = 'EXECUTE' AND a.grantee IN (SELECT oid FROM who)) AS grants
       FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace CROSS JOIN LATERAL pg_identify_object('pg_proc'::regclass, p.oid, 0) i
      WHERE p.prosecdef AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND p.proowner NOT IN (SELECT oid FROM who)
        AND EXISTS (SELECT 1 FROM who WHERE has_function_privilege(who.oid, p.oid, 'EXECUTE') AND has_schema_privilege(who.oid, p.pronamespace, 'USAGE'))
      ORDER BY 1`,
    [roles],
  );
  return rows;
}

/** Those of `keep` that may call the routine today (they keep it once PUBLIC loses it). */
async function keepersOf(ctx: PlanContext, identity: string, keep: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const role of keep) {
    if (!(await ctx.role(role)).exists) continue;
    const { rows } = await ctx.db.query<{ ok: boolean }>(`SELECT has_function_privilege($1, $2::regprocedure, 'EXECUTE') AS ok`, [
      role,
      identity,
    ]);
    if (rows[0]?.ok) out.push(role);
  }
  return out;
}
