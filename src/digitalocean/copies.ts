import { RotationError } from '../errors/errors.js';
import type { Pool, StatusHints } from './client.js';
import { linkedCluster, type ClusterContext } from './linked-cluster.js';

/** The methods that change a Postgres password on a DigitalOcean cluster, and the roles each changes. */
export type SqlRotation =
  { method: 'alter-role' | 'digitalocean-reset'; role: string } | { method: 'alternating-roles'; group: string; logins: [string, string] };

/**
 * Preflight of a Postgres credential on a DigitalOcean cluster (docs/digitalocean.md): DigitalOcean
 * keeps its own copy of a managed user's password, and a connection pool pinned to a user connects
 * with that copy. What happens to either after an ALTER ROLE is not documented, so:
 * - alternating-roles refuses a pool pinned to the group or a login: such a pool cannot follow the
 *   switch (moving it means DigitalOcean's copy of the other login's password, which ALTER ROLE is
 *   not documented to set, and a PUT whose effect on open connections is not documented either);
 * - alter-role of a user DigitalOcean manages warns, naming the pools pinned to it;
 * - inbound-user pools are listed as untouched: each client logs in as itself, with what it holds;
 * - digitalocean-reset sets DigitalOcean's copy itself: pools pinned to the user are listed as following it.
 * Returns the notes for the evidence; the warnings are also reported. Changes nothing.
 */
export async function digitalOceanCopies(ctx: ClusterContext, rotation: SqlRotation): Promise<string[]> {
  const cluster = linkedCluster(ctx);
  if (!cluster) return [];
  const { digitalOceanClient } = await import('./client.js');
  const client = digitalOceanClient(cluster.token, cluster.apiUrl, ctx.runtime);
  const hints: StatusHints = {
    401: 'DigitalOcean rejected the token (unknown, expired or revoked): create a new one and update DIGITALOCEAN_TOKEN',
    403: `the token of systems.${cluster.id} lacks the database:read scope, needed to read the cluster's users and connection pools`,
    404: `check systems.${cluster.id}.cluster_id (the cluster's uuid) and that the token's team owns it`,
  };
  const [managed, pools] = await Promise.all([client.listUsers(cluster.clusterId, hints), client.listPools(cluster.clusterId, hints)]);
  const where = `DigitalOcean cluster ${cluster.clusterId}`;
  const roles = rotation.method === 'alternating-roles' ? [rotation.group, ...rotation.logins] : [rotation.role];
  const pinned = pools.filter((p) => p.user !== undefined && roles.includes(p.user));
  const inbound = pools.filter((p) => p.user === undefined);

  if (rotation.method === 'alternating-roles' && pinned.length > 0) throw pinnedPoolsRefused(rotation, pinned, where);

  const notes = inbound.map(
    (p) =>
      `${describePool(p)}: untouched; it connects each client as the user the client gives, so clients follow the rotation once they hold the new value`,
  );
  const warnings: string[] = [];
  if (rotation.method === 'digitalocean-reset') {
    for (const p of pinned)
      notes.push(
        `${describePool(p)}: connects as ${rotation.role} with DigitalOcean's copy of its password, which the reset sets; its clients present that password too (the pool's connection string carries it), so they need the new value`,
      );
  } else if (rotation.method === 'alter-role') {
    for (const p of pinned) {
      warnings.push(
        `${describePool(p)} connects as ${rotation.role} with DigitalOcean's copy of its password; DigitalOcean does not document that an ALTER ROLE updates that copy: if it does not, the pool's new server connections fail after this rotation`,
      );
    }
    if (managed.includes(rotation.role)) warnings.push(managedUserWarning(rotation.role, where));
  } else if (rotation.method === 'alternating-roles') {
    const both = rotation.logins.filter((l) => managed.includes(l));
    if (both.length > 0) {
      warnings.push(
        `DigitalOcean manages ${both.join(' and ')} on ${where}: its console, API and App Platform bindings show a copy of the password that this rotation does not set (ALTER ROLE; DigitalOcean does not document that its copy follows): do not use them; logins created in SQL have no such copy`,
      );
    }
  }
  if (pools.length > 0 && pinned.length + inbound.length === 0)
    notes.push(`${where}: none of its ${pools.length} connection pool(s) uses ${roles.join(', ')}`);
  for (const w of warnings) ctx.runtime.reporter.warning(w);
  return [...notes, ...warnings];
}

function describePool(p: Pool): string {
  return `connection pool ${p.name} (${p.mode}, size ${p.size}, database ${p.db}${p.user ? `, user ${p.user}` : ', inbound user'})`;
}

function managedUserWarning(role: string, where: string): string {
  return (
    `DigitalOcean manages user ${role} on ${where} and keeps its own copy of its password (its console and API show it; ` +
    'pools pinned to the user and App Platform bindings use it). DigitalOcean documents that reset_auth sets that copy; it does not say that an ALTER ROLE does. ' +
    `If anything uses that copy, rotate ${role} with method digitalocean-reset, or use alternating-roles with logins created in SQL`
  );
}

/** alternating-roles: a pool pinned to one login would keep using it (and DigitalOcean's copy of its password) after the switch. */
function pinnedPoolsRefused(rotation: Extract<SqlRotation, { method: 'alternating-roles' }>, pinned: Pool[], where: string): RotationError {
  const names = pinned.map((p) => `${describePool(p)}`).join('; ');
  return new RotationError(`${where}: ${names}: a pool pinned to one login cannot follow alternating-roles' switch to the other login`, {
    hint:
      `recreate ${pinned.length === 1 ? 'it' : 'them'} without a user (an inbound-user pool: POST /v2/databases/{cluster}/pools with no "user"), ` +
      `so each client connects as the login it holds (${rotation.logins.join(' / ')}). Moving the pool to the new login is not done: DigitalOcean does not document that it holds the password an ALTER ROLE set, nor what updating a pool's user does to its open connections. Nothing was changed`,
    code: 'NOT_ALLOWED',
  });
}
