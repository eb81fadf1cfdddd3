import type pg from 'pg';
import { reachableRoles } from '../catalog.js';
import type { Finding } from '../types.js';
import { powerFinding } from './describe.js';
import { inOtherDatabases } from './databases.js';
import { attributePowers, definerPowers, grantPower, missingRole, type PowerContext } from './kinds.js';
import { writeGrants } from './catalog.js';

export const ADMIN_ATTRIBUTES = [
  ['superuser', 'SUPERUSER'],
  ['createrole', 'CREATEROLE'],
  ['createdb', 'CREATEDB'],
  ['replication', 'REPLICATION'],
  ['bypassrls', 'BYPASSRLS'],
] as const;

/** Predefined roles that act on the server or on other sessions: an administrator's powers. */
const ADMIN_ROLES: Record<string, string> = {
  pg_execute_server_program: 'runs programs on the database server (COPY … TO PROGRAM)',
  pg_write_server_files: 'writes files on the database server (COPY … TO a file)',
  pg_read_server_files: 'reads any file the server can read (COPY … FROM a file), its configuration and keys included',
  pg_signal_backend: "cancels and terminates other roles' sessions",
  pg_checkpoint: 'runs CHECKPOINT',
  pg_create_subscription: 'creates subscriptions (replication connections to other servers)',
};

/**
 * Every way `role` can act as an administrator: an admin attribute it has or gains by SET ROLE
 * (a membership with SET, or one with ADMIN OPTION, which lets it grant itself SET), a predefined
 * role of the server's administrators it reaches, ALTER SYSTEM on a parameter, and a SECURITY DEFINER function it may call
 * whose owner can do any of that (in every database the role may connect to). Empty means not an
 * admin.
 */
export async function adminPaths(db: pg.Client, role: string, context: PowerContext = {}): Promise<Finding[]> {
  const reached = await reachableRoles(db, role);
  if (reached.length === 0) return [missingRole(role)];
  const findings = await attributePowers(db, role, reached, ADMIN_ATTRIBUTES);
  for (const r of reached.filter((x) => ADMIN_ROLES[x.name])) {
    findings.push(powerFinding(db, role, { path: 'predefined-role', object: `role ${r.name}`, what: ADMIN_ROLES[r.name], fix: '' }, r));
  }
  const byOid = new Map(reached.map((r) => [r.oid, r]));
  const holder = (grantee: number) => (grantee === 0 ? 'PUBLIC' : byOid.get(grantee)!.name);
  for (const grant of (await writeGrants(db, [0, ...byOid.keys()])).filter(
    (g) => g.kind === 'parameter' && g.privilege === 'ALTER SYSTEM',
  )) {
    findings.push(powerFinding(db, role, grantPower(db, grant, holder(grant.grantee)), byOid.get(grant.grantee), holder(grant.grantee)));
  }
  const definers = (on: pg.Client, database?: string) =>
    definerPowers(on, role, byOid, context, database, (owner) => adminPaths(on, owner, { ...context, nested: true }));
  findings.push(...(await definers(db)));
  if (!context.nested)
    findings.push(...(await inOtherDatabases(db, role, byOid, context.database, (other, name) => definers(other, name))));
  return findings.map((f) => ({ ...f, fixes: f.fixes.filter(Boolean) }));
}
