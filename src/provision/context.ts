import type pg from 'pg';
import { roleState, type AdminState, type RoleState } from './state.js';

export interface Statement {
  sql: string;
  /** Why, printed as a comment above it. */
  why: string;
  /** Run as this role (SET ROLE … RESET ROLE): PostgreSQL takes it from that role only (a REVOKE of its grant). */
  as?: string;
}

/**
 * The plan being built, and who may do what. PostgreSQL 16 lets the admin act for a role it
 * holds ADMIN OPTION on only once it is granted that role: such a grant (INHERIT, SET) is made for
 * the transaction, before the first statement that needs it, and revoked before COMMIT.
 */
export interface PlanContext {
  db: pg.Client;
  admin: AdminState;
  /** An identifier, always quoted. */
  q: (name: string) => string;
  add: (sql: string, why: string, as?: string) => void;
  /** What provision cannot do with this admin connection: what, and the SQL for the role that can. */
  cannot: (text: string) => void;
  note: (text: string) => void;
  /** Roles this plan creates (the admin gets ADMIN OPTION on them, PG16). */
  created: Set<string>;
  /** Whether the admin may use the rights of `role` (owner's rights: grants, ALTER … OWNER from it). */
  rightsOf: (role: string) => Promise<boolean>;
  /** Whether the admin may become `role` (SET ROLE; new owner of an object; default privileges for it). */
  become: (role: string) => Promise<boolean>;
  /** Several of those at once (an owner change takes the old owner's rights and SET on the new one). */
  actFor: (...needs: [string, 'rights' | 'set'][]) => Promise<boolean>;
  role: (name: string) => Promise<RoleState>;
}

export interface PlanOutput {
  statements: Statement[];
  unresolved: string[];
  notes: string[];
}

export function planContext(db: pg.Client, admin: AdminState): { ctx: PlanContext; finish: () => PlanOutput } {
  const out: Statement[] = [];
  const unresolved: string[] = [];
  const notes: string[] = [];
  const states = new Map<string, RoleState>();
  const granted = new Set<string>();
  let firstActing = -1;
  const q = (name: string) => db.escapeIdentifier(name);
  const role = async (name: string) => {
    if (!states.has(name)) states.set(name, await roleState(db, name));
    return states.get(name)!;
  };
  /** Whether the admin may act for `name` now ('set': SET ROLE as well), or once granted it for the transaction ('grant'). */
  const judge = async (name: string, need: 'rights' | 'set'): Promise<'yes' | 'grant' | 'no'> => {
    if (admin.superuser || name === admin.user || granted.has(name)) return 'yes';
    const state = await role(name);
    if (state.adminHasPrivileges && (need === 'rights' || state.adminMaySet)) return 'yes';
    // A grant (INHERIT, SET) for the transaction, when the admin holds ADMIN OPTION on the role (or creates it).
    return ctx.created.has(name) || (state.adminHasAdmin && !state.powers.includes('SUPERUSER')) ? 'grant' : 'no';
  };
  /** All of `needs` at once, or none: a grant for the transaction is registered only when every one is possible. */
  const actFor = async (...needs: [string, 'rights' | 'set'][]): Promise<boolean> => {
    // One after another: they query the one client, which runs one query at a time (pg@9 refuses overlapping ones).
    const verdicts: ('yes' | 'grant' | 'no')[] = [];
    for (const [name, need] of needs) verdicts.push(await judge(name, need));
    if (verdicts.includes('no')) return false;
    needs.forEach(([name], i) => {
      if (verdicts[i] !== 'grant') return;
      granted.add(name);
      if (firstActing < 0) firstActing = out.length;
    });
    return true;
  };
  const ctx: PlanContext = {
    db,
    admin,
    q,
    add: (sql, why, as) => out.push({ sql, why, ...(as && as !== admin.user ? { as } : {}) }),
    cannot: (text) => unresolved.push(text),
    note: (text) => notes.push(text),
    created: new Set(),
    role,
    rightsOf: (name) => actFor([name, 'rights']),
    become: (name) => actFor([name, 'set']),
    actFor,
  };
  const finish = (): PlanOutput => {
    if (granted.size > 0) {
      const a = q(admin.user);
      const names = [...granted];
      out.splice(
        firstActing,
        0,
        ...names.map((n) => ({
          sql: `GRANT ${q(n)} TO ${a} WITH INHERIT TRUE, SET TRUE`,
          why: `for this transaction only: ${admin.user} acts as ${n}`,
        })),
      );
      out.push(...names.map((n) => ({ sql: `REVOKE ${q(n)} FROM ${a} GRANTED BY ${a}`, why: `back to ADMIN OPTION only on ${n}` })));
    }
    return { statements: out, unresolved, notes };
  };
  return { ctx, finish };
}

/** Those of `roles` that exist, read one after another (one client runs one query at a time). */
export async function existingRoles(ctx: PlanContext, roles: string[]): Promise<string[]> {
  const existing: string[] = [];
  for (const name of roles) if ((await ctx.role(name)).exists) existing.push(name);
  return existing;
}
