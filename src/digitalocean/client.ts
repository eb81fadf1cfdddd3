import type { Runtime } from '../runtime/runtime.js';
import { RotationError } from '../errors/errors.js';
import type { StatusHints } from '../http/http-error.js';
import { jsonCall } from '../http/json-call.js';
import { joinUrl } from '../http/request.js';
import { Secret } from '../secret/secret.js';

export { DEFAULT_API_URL } from './settings.js';

/** Where the cluster accepts connections; DigitalOcean's password and URI are dropped on read. */
export interface ClusterConnection {
  host: string;
  port: number;
  database: string;
  ssl: boolean;
}
export interface Cluster {
  id: string;
  name: string;
  engine: string;
  status: string;
  connection: ClusterConnection;
}
/** A PgBouncer pool of the cluster: `user` unset means each client connects as itself (the inbound user). */
export interface Pool {
  name: string;
  mode: string;
  size: number;
  db: string;
  user?: string;
}
/** The parts of an app's spec that bind a database: its database components and every `envs` list. */
export interface AppSpecBindings {
  databases: { name: string; cluster_name?: string; db_name?: string; db_user?: string; engine?: string }[];
  /** Each env list with where it is (`services[web]`, `envs` for the app's own). Values are never shown. */
  envs: { where: string; envs: { key: string; value?: string }[] }[];
}
export interface Deployment {
  id: string;
  phase: string;
  cause?: string;
}
export type { StatusHints } from '../http/http-error.js';

/** The fields of a database cluster and a database user the rotation reads (database_cluster, database_user). */
interface ApiCluster {
  id: string;
  name: string;
  engine: string;
  status: string;
  connection: { host: string; port: number | string; database: string; ssl?: boolean };
}
interface ApiUser {
  name: string;
  role: string;
  password?: string;
}

/**
 * The DigitalOcean API v2 calls the rotation makes (paths and shapes from DigitalOcean's own
 * OpenAPI description, extract in shared/reference/openapi/digitalocean.json), each one typed
 * request through the project's one HTTP client (jsonCall: runtime.fetch, the run's deadline and
 * cancellation, Retry-After honoured, no redirect followed). Every failure becomes a RotationError
 * from the status and DigitalOcean's own message, scrubbed: never the request, whose headers carry
 * the token. Answers that carry a password (users, pools) are reduced here to what the rotation needs.
 */
export function digitalOceanClient(token: Secret, apiUrl: string, runtime: Runtime) {
  const base = joinUrl(apiUrl, '/v2');

  async function call<T>(what: string, hints: StatusHints, method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const result = await jsonCall(runtime, `DigitalOcean: ${what}`, joinUrl(base, path), {
      method,
      headers: { authorization: `Bearer ${token.reveal()}` },
      body,
      hints,
    });
    if (result.json === undefined) throw new RotationError(`DigitalOcean: ${what}: the answer (HTTP ${result.status}) was not JSON`);
    return result.json as T;
  }
  const get = <T>(what: string, hints: StatusHints, path: string) => call<T>(what, hints, 'GET', path);
  const post = <T>(what: string, hints: StatusHints, path: string, body: unknown) => call<T>(what, hints, 'POST', path, body);
  const cluster = (uuid: string) => `/databases/${encodeURIComponent(uuid)}`;
  const user = (uuid: string, name: string) => `${cluster(uuid)}/users/${encodeURIComponent(name)}`;
  const app = (appId: string) => `/apps/${encodeURIComponent(appId)}`;

  return {
    async getCluster(uuid: string, hints: StatusHints): Promise<Cluster> {
      const data = await get<{ database: ApiCluster }>(`read database cluster ${uuid}`, hints, cluster(uuid));
      const c = data.database;
      const conn = c.connection;
      return {
        id: c.id,
        name: c.name,
        engine: c.engine,
        status: c.status,
        connection: { host: conn.host, port: Number(conn.port), database: conn.database, ssl: Boolean(conn.ssl) },
      };
    },
    /** `showsPassword`: DigitalOcean shows passwords only to tokens with database:view_credentials. */
    async getUser(uuid: string, name: string, hints: StatusHints): Promise<{ name: string; role: string; showsPassword: boolean }> {
      const data = await get<{ user: ApiUser }>(`read user ${name} of cluster ${uuid}`, hints, user(uuid, name));
      return {
        name: data.user.name,
        role: data.user.role,
        showsPassword: typeof data.user.password === 'string' && data.user.password !== '',
      };
    },
    /**
     * GET …/users: the names of the users DigitalOcean manages (and keeps a copy of the password
     * of). The operation takes no page/per_page. Passwords in the answer are dropped here.
     */
    async listUsers(uuid: string, hints: StatusHints): Promise<string[]> {
      const data = await get<{ users?: { name: string }[] }>(`list the users of cluster ${uuid}`, hints, `${cluster(uuid)}/users`);
      return (data.users ?? []).map((u) => u.name);
    },
    /** GET …/pools (PostgreSQL): the connection pools, without their `connection` (it embeds a password). */
    async listPools(uuid: string, hints: StatusHints): Promise<Pool[]> {
      const data = await get<{ pools?: Pool[] }>(`list the connection pools of cluster ${uuid}`, hints, `${cluster(uuid)}/pools`);
      return (data.pools ?? []).map((p) => ({ name: p.name, mode: p.mode, size: p.size, db: p.db, ...(p.user ? { user: p.user } : {}) }));
    },
    /**
     * Whether DigitalOcean's copy of a user's password is `value` (compared here, never returned);
     * undefined when the token may not see passwords (database:view_credentials).
     */
    async storedPasswordIs(uuid: string, name: string, value: Secret, hints: StatusHints): Promise<boolean | undefined> {
      const data = await get<{ user: ApiUser }>(`read user ${name} of cluster ${uuid}`, hints, user(uuid, name));
      const stored = data.user.password;
      return typeof stored === 'string' && stored !== '' ? stored === value.reveal() : undefined;
    },
    /** POST …/users/{name}/reset_auth (body {} for PostgreSQL): DigitalOcean picks the password. */
    async resetAuth(uuid: string, name: string, hints: StatusHints): Promise<Secret> {
      const data = await post<{ user?: { password?: string } }>(
        `reset the password of user ${name} on cluster ${uuid}`,
        hints,
        `${user(uuid, name)}/reset_auth`,
        {},
      );
      const password = data.user?.password;
      if (!password) {
        throw new RotationError(`DigitalOcean reset the password of user ${name} but returned none`, {
          hint: 'the token needs the database:view_credentials scope to receive passwords; the old password no longer works: add the scope and rerun',
        });
      }
      return new Secret(password);
    },
    /** GET …/ca: the PEM of the CA that signed the cluster's certificates (sent base64). */
    async getCa(uuid: string, hints: StatusHints): Promise<string> {
      const data = await get<{ ca?: { certificate?: string } }>(`read the CA certificate of cluster ${uuid}`, hints, `${cluster(uuid)}/ca`);
      const pem = Buffer.from(data.ca?.certificate ?? '', 'base64').toString('utf8');
      if (!pem.includes('-----BEGIN CERTIFICATE-----'))
        throw new RotationError(`DigitalOcean returned no CA certificate for cluster ${uuid}`);
      return pem;
    },
    async getApp(appId: string, hints: StatusHints): Promise<{ id: string; name: string; bindings: AppSpecBindings }> {
      const data = await get<{ app: { id: string; spec?: Record<string, unknown> & { name?: string } } }>(
        `read app ${appId}`,
        hints,
        app(appId),
      );
      return {
        id: data.app.id,
        name: data.app.spec?.name ?? appId,
        bindings: specBindings(data.app.spec),
      };
    },
    /** POST /v2/apps/{id}/restart: a restart of the running deployment (no rebuild), all components or the named ones. */
    async restartApp(appId: string, components: string[] | undefined, hints: StatusHints): Promise<Deployment> {
      const data = await post<{ deployment: Deployment }>(
        `restart app ${appId}`,
        hints,
        `${app(appId)}/restart`,
        components ? { components } : {},
      );
      return pickDeployment(data.deployment);
    },
    async createDeployment(appId: string, forceBuild: boolean, hints: StatusHints): Promise<Deployment> {
      const data = await post<{ deployment: Deployment }>(`deploy app ${appId}`, hints, `${app(appId)}/deployments`, {
        force_build: forceBuild,
      });
      return pickDeployment(data.deployment);
    },
    async getDeployment(appId: string, deploymentId: string, hints: StatusHints): Promise<Deployment> {
      const data = await get<{ deployment: Deployment }>(
        `read deployment ${deploymentId} of app ${appId}`,
        hints,
        `${app(appId)}/deployments/${encodeURIComponent(deploymentId)}`,
      );
      return pickDeployment(data.deployment);
    },
  };
}

export type DigitalOceanClient = ReturnType<typeof digitalOceanClient>;

/** The component lists of an app spec that carry `envs` (app_spec in DigitalOcean's description). */
const COMPONENTS = ['services', 'workers', 'jobs', 'static_sites', 'functions'];

function specBindings(spec: Record<string, unknown> | undefined): AppSpecBindings {
  const list = (v: unknown) => (Array.isArray(v) ? (v as Record<string, unknown>[]) : []);
  const envsOf = (v: unknown) => list(v).map((e) => ({ key: String(e.key), value: typeof e.value === 'string' ? e.value : undefined }));
  const envs: AppSpecBindings['envs'] = [{ where: 'envs', envs: envsOf(spec?.envs) }];
  for (const kind of COMPONENTS)
    for (const c of list(spec?.[kind])) envs.push({ where: `${kind}[${String(c.name)}]`, envs: envsOf(c.envs) });
  const databases = list(spec?.databases).map((d) => ({
    name: String(d.name),
    ...(typeof d.cluster_name === 'string' ? { cluster_name: d.cluster_name } : {}),
    ...(typeof d.db_name === 'string' ? { db_name: d.db_name } : {}),
    ...(typeof d.db_user === 'string' ? { db_user: d.db_user } : {}),
    ...(typeof d.engine === 'string' ? { engine: d.engine } : {}),
  }));
  return { databases, envs: envs.filter((e) => e.envs.length > 0) };
}

function pickDeployment(d: { id: string; phase: string; cause?: string }): Deployment {
  return { id: d.id, phase: d.phase, cause: d.cause };
}
