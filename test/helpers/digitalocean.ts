import { startLocalPostgres, type LocalPostgres } from '../../src/demo/local-postgres.js';
import { scramVerifier } from '../../src/postgres/scram.js';
import { generatePassword } from '../../src/secret/generate.js';
import type { Secret } from '../../src/secret/secret.js';
import { tryLogin } from '../../src/postgres/connect.js';
import type { ClusterSpec, DigitalOceanModel } from '../models/digitalocean.js';

/** The database cluster and the App Platform app the DigitalOcean tests rotate against. */
export const CLUSTER = '9cc10173-e9ea-4176-9dbc-a4cee4c4ff30';
export const APP = '4f6c71e2-1e90-4762-9fee-6cc4a0a9f2cf';

/**
 * Adds DigitalOcean's default database (`defaultdb`, where the method proves a password) and a
 * role like DigitalOcean's doadmin: may create roles and databases, not a superuser.
 */
export async function createDoadminLike(server: LocalPostgres, role: string, password?: Secret): Promise<void> {
  const db = await server.client();
  try {
    await db.query('CREATE DATABASE defaultdb');
    const withPassword = password ? ` PASSWORD ${db.escapeLiteral(scramVerifier(password))}` : '';
    await db.query(`CREATE ROLE ${role} LOGIN CREATEROLE CREATEDB${withPassword}`);
  } finally {
    await db.end();
  }
}

/** An embedded Postgres with a doadmin-like `role` (see createDoadminLike); the caller stops it. */
export async function startDoadminPostgres(role: string): Promise<LocalPostgres> {
  const server = await startLocalPostgres();
  await createDoadminLike(server, role);
  return server;
}

/** Sets a fresh generated password on `role` directly, and returns it. */
export async function resetPassword(server: LocalPostgres, role: string): Promise<Secret> {
  const password = generatePassword();
  const db = await server.client();
  await db.query(`ALTER ROLE ${role} PASSWORD ${db.escapeLiteral(scramVerifier(password))}`);
  await db.end();
  return password;
}

/** A cluster whose connection details point at the embedded `server` (no TLS), with `users` as DigitalOcean knows them. */
export function clusterOn(server: LocalPostgres, users: Record<string, string>, more: Partial<ClusterSpec> = {}): ClusterSpec {
  return {
    id: CLUSTER,
    name: 'platform-db',
    host: '127.0.0.1',
    port: server.port,
    superuserUrl: server.superuserUrl,
    users,
    ssl: false,
    ...more,
  };
}

/** The `do-pg` entry under `systems:` of a policy; the embedded server has no TLS. */
export function doSystemYaml(options: { cluster?: string; database?: string } = {}): string {
  const database = options.database ? `    database: ${options.database}\n` : '';
  return `  do-pg:
    type: digitalocean
    cluster_id: ${options.cluster ?? CLUSTER}
    token: \${DIGITALOCEAN_TOKEN}
${database}    sslmode: disable          # the embedded server has no TLS
`;
}

/** A policy for the doadmin credential (a digitalocean-reset of `role`) with a file and a GitHub store; `extra` adds lines under it. */
export function doadminPolicy(role: string, options: { cluster?: string; extra?: string } = {}): string {
  return `
version: 1
systems:
${doSystemYaml({ cluster: options.cluster })}credentials:
  doadmin:
    system: do-pg
    method: digitalocean-reset
    role: ${role}
    cadence: annually
    current: \${DOADMIN_PASSWORD}
    store:
      - file: { path: .secrets/do.env, key: DOADMIN_PASSWORD }
      - github: { repository: acme/ops, secret: DOADMIN_PASSWORD }
${options.extra ?? ''}`;
}

/**
 * A stand-in for a DigitalOcean connection pool (PgBouncer) in front of the embedded server: a
 * client connects to the pool with a user and password; a pool pinned to a user opens its server
 * connection as that user with DigitalOcean's copy of its password, an inbound-user pool as the
 * client, with what the client gave. Returns what the real server said.
 */
export async function poolLogin(model: DigitalOceanModel, clusterId: string, poolName: string, client: { user: string; password: string }) {
  const cluster = model.cluster(clusterId);
  const pool = cluster?.pools?.find((p) => p.name === poolName);
  if (!cluster || !pool) throw new Error(`poolLogin: no pool ${poolName} on cluster ${clusterId}`);
  const server = pool.user ? { user: pool.user, password: cluster.users[pool.user] ?? '' } : client;
  return tryLogin({ host: cluster.host, port: cluster.port, database: pool.db, ...server, ssl: false });
}

/** The head of a policy whose postgres system (`odoo-sor`, as rotation_admin) is linked to its DigitalOcean cluster (`do-pg`). */
export function linkedPolicyHead(options: { database?: string } = {}): string {
  return `version: 1
systems:
  odoo-sor:
    type: postgres
    admin_url: \${ROTATION_ADMIN_URL}
    cluster: do-pg
${doSystemYaml(options)}credentials:
`;
}
