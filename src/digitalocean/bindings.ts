import type { AppSpecBindings, Pool } from './client.js';

/** One env value of an app that App Platform fills from DigitalOcean's copy of a user's password (or name). */
export interface Binding {
  /** `services[web] DATABASE_URL`: where it is. */
  where: string;
  /** The bindable variable as written: `${db.DATABASE_URL}`, `${db.odoo-pool.PASSWORD}`. */
  expression: string;
  /** The user whose copy it carries. */
  user: string;
}

/**
 * App Platform's bindable variables of a database component (`${<db>.VAR}`) and of its cluster's
 * connection pools (`${<db>.<pool>.VAR}`, "these same variable names … PostgreSQL only") that carry
 * a user's credentials: DATABASE_URL, JDBC_DATABASE_URL, USERNAME, PASSWORD (docs.digitalocean.com,
 * App Platform "How to Use Environment Variables", Databases). The others (HOSTNAME, PORT,
 * DATABASE, CA_CERT) carry none.
 */
const BINDING = /\$\{([a-z][a-z0-9-]*)\.(?:([^.}]+)\.)?(DATABASE_URL|JDBC_DATABASE_URL|USERNAME|PASSWORD)\}/g;

/** What is known of the cluster the credential lives on: its name (apps name it) and its pools. */
export interface ClusterFacts {
  name: string;
  pools: Pool[];
}

/**
 * The bindings in an app's spec that carry one of `users`. A component binds `db_user` (none
 * given: the cluster's default user, doadmin) of the cluster `cluster_name`; a pool binding
 * carries the pool's user, or for an inbound-user pool the component's. Without `cluster` (the
 * credential's system is not linked to its cluster) every PostgreSQL component counts whatever
 * cluster it names, and a pool binding counts whatever its pool: "could not tell" is not "no".
 */
export function credentialBindings(spec: AppSpecBindings, users: string[], cluster: ClusterFacts | undefined): Binding[] {
  const found: Binding[] = [];
  for (const { where, envs } of spec.envs) {
    for (const env of envs) {
      for (const m of (env.value ?? '').matchAll(BINDING)) {
        const [expression, dbName, poolName] = m;
        const db = spec.databases.find((d) => d.name === dbName);
        if (!db || (db.engine !== undefined && db.engine !== 'PG')) continue;
        if (cluster && db.cluster_name !== undefined && db.cluster_name !== cluster.name) continue;
        const componentUser = db.db_user ?? 'doadmin';
        const pool = poolName === undefined ? undefined : cluster?.pools.find((p) => p.name === poolName);
        const user = poolName === undefined ? componentUser : (pool?.user ?? componentUser);
        const unknownPool = poolName !== undefined && !cluster;
        if (users.includes(user) || unknownPool)
          found.push({ where: `${where} ${env.key}`, expression, user: unknownPool ? `${user} or the pool's user` : user });
      }
    }
  }
  return found;
}

export function describeBindings(bindings: Binding[]): string {
  return bindings.map((b) => `${b.where} = ${b.expression} (${b.user})`).join(', ');
}
