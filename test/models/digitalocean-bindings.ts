import type { AppSpec, ClusterSpec, PoolSpec } from './digitalocean.js';

/**
 * What DigitalOcean derives from its own copy of a user's password: a pool's `connection`
 * (databases_list_connectionPools: the pool's user and that user's password, database = the pool's
 * name) and App Platform's bindable variables, resolved when a deployment is made:
 * `${<db>.<VAR>}` for a database component (cluster_name, db_name, db_user) and
 * `${<db>.<pool>.<VAR>}` for one of its cluster's pools (docs.digitalocean.com, App Platform
 * "How to Use Environment Variables" and "How to Connect PostgreSQL to Connection Pools").
 * VAR: HOSTNAME, PORT, USERNAME, PASSWORD, DATABASE, DATABASE_URL, JDBC_DATABASE_URL, CA_CERT.
 */

/** The user a pool's server connections log in as: its own, or (inbound) the one given. */
export const poolUser = (pool: PoolSpec, inbound: string) => pool.user ?? inbound;

export function poolJson(cluster: ClusterSpec, pool: PoolSpec, show: (pw: string | undefined) => string) {
  const user = pool.user;
  const password = user ? show(cluster.users[user]) : '';
  const mode = cluster.ssl === false ? 'disable' : 'require';
  const connection = {
    uri: `postgresql://${user ? `${user}:${password}@` : ''}${cluster.host}:${cluster.port}/${pool.name}?sslmode=${mode}`,
    database: pool.name,
    host: cluster.host,
    port: cluster.port,
    ...(user ? { user, password } : {}),
    ssl: cluster.ssl ?? true,
  };
  return {
    name: pool.name,
    mode: pool.mode,
    size: pool.size,
    db: pool.db,
    ...(user ? { user } : {}),
    connection,
    private_connection: { ...connection, host: `private-${cluster.host}` },
  };
}

/** Each component's env with the bindings resolved from the clusters' copies, as a deployment gets it. */
export function resolveBindings(app: AppSpec, clusters: Map<string, ClusterSpec>): Record<string, Record<string, string>> {
  const byName = new Map([...clusters.values()].map((c) => [c.name, c]));
  const out: Record<string, Record<string, string>> = {};
  for (const [component, envs] of Object.entries(app.envs ?? {})) {
    out[component] = Object.fromEntries(
      envs.map((e) => [
        e.key,
        e.value.replace(
          /\$\{([a-z0-9-]+)\.(?:([A-Za-z0-9_-]+)\.)?([A-Z_]+)\}/g,
          (whole, db: string, pool: string | undefined, key: string) => {
            const component = app.databases?.find((d) => d.name === db);
            const cluster = component?.cluster_name ? byName.get(component.cluster_name) : undefined;
            if (!component || !cluster) return whole;
            const user = component.db_user ?? 'doadmin';
            const p = pool ? cluster.pools?.find((x) => x.name === pool) : undefined;
            if (pool && !p) return whole;
            const login = p ? poolUser(p, user) : user;
            const database = p ? p.name : (component.db_name ?? cluster.database ?? 'defaultdb');
            const password = cluster.users[login] ?? '';
            const sslmode = cluster.ssl === false ? 'disable' : 'require';
            const url = `postgresql://${encodeURIComponent(login)}:${encodeURIComponent(password)}@${cluster.host}:${cluster.port}/${database}?sslmode=${sslmode}`;
            const values: Record<string, string> = {
              HOSTNAME: cluster.host,
              PORT: String(cluster.port),
              USERNAME: login,
              PASSWORD: password,
              DATABASE: database,
              DATABASE_URL: url,
              JDBC_DATABASE_URL: `jdbc:${url}`, // "the database connection string prefixed with jdbc:"
              CA_CERT: cluster.ca ?? '',
            };
            return values[key] ?? whole;
          },
        ),
      ]),
    );
  }
  return out;
}

/** The app's spec as GET /v2/apps/{id} shows it (app_spec): components, their envs, its databases. */
export function appSpecJson(app: AppSpec) {
  const envs = app.envs ?? {};
  const withScope = (list: NonNullable<AppSpec['envs']>[string]) =>
    list.map((e) => ({ scope: 'RUN_AND_BUILD_TIME', type: 'GENERAL', ...e }));
  return {
    name: app.name,
    services: (app.components ?? ['web']).map((name) => ({ name, ...(envs[name] ? { envs: withScope(envs[name]) } : {}) })),
    ...(envs[''] ? { envs: withScope(envs['']) } : {}),
    ...(app.databases ? { databases: app.databases.map((d) => ({ engine: 'PG', production: true, ...d })) } : {}),
  };
}
