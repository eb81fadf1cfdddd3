import { createApiClient } from 'dots-wrapper';
import type { Runtime } from '../runtime/runtime.js';
import { RotationError } from '../errors/errors.js';
import { httpError, networkError, runtimeErrorOptions, type HttpErrorOptions, type StatusHints } from '../http/http-error.js';
import { withRetry, runtimeRetry } from '../http/retry.js';
import { joinUrl, runtimeRequest } from '../http/request.js';
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

/**
 * The DigitalOcean API v2 calls the rotation makes. dots-wrapper (axios) covers reading clusters,
 * users and apps and creating deployments; it has no call for `reset_auth`, for restarting an
 * app nor for a cluster's CA, and its lists of users and pools send page/per_page, which those
 * operations do not take, so these are one small typed request each through runtime.fetch. Every failure becomes
 * a RotationError from the status and DigitalOcean's `message` only: never the request, whose
 * headers carry the token, nor a response body that may carry a password.
 */
export function digitalOceanClient(token: Secret, apiUrl: string, runtime: Runtime) {
  const base = apiUrl.replace(/\/+$/, '');
  const api = createApiClient({ token: token.reveal(), endpoint: `${base}/v2` });

  async function call<T>(what: string, hints: StatusHints, fn: () => Promise<T>): Promise<T> {
    return withRetry(async () => {
      try {
        return await fn();
      } catch (error) {
        throw toRotationError(what, error, hints, runtimeErrorOptions(runtime));
      }
    }, runtimeRetry(runtime));
  }

  /** The requests dots-wrapper lacks: JSON in (POST), JSON out, with the same error mapping. */
  async function post<T>(path: string, body: unknown): Promise<T> {
    return request<T>('POST', path, body);
  }
  async function request<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    let response: Response;
    try {
      response = await runtimeRequest(runtime, joinUrl(base, `/v2${path}`), {
        method,
        headers: {
          authorization: `Bearer ${token.reveal()}`,
          accept: 'application/json',
          ...(method === 'POST' ? { 'content-type': 'application/json' } : {}),
        },
        body: method === 'POST' ? JSON.stringify(body) : undefined,
        timeoutMs: 30_000,
      });
    } catch (error) {
      throw { network: error };
    }
    const text = await response.text();
    if (!response.ok) throw { status: response.status, headers: response.headers, text };
    return JSON.parse(text) as T;
  }

  return {
    async getCluster(uuid: string, hints: StatusHints): Promise<Cluster> {
      const { data } = await call(`DigitalOcean: read database cluster ${uuid}`, hints, () =>
        api.database.getDatabaseCluster({ database_cluster_id: uuid }),
      );
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
      const { data } = await call(`DigitalOcean: read user ${name} of cluster ${uuid}`, hints, () =>
        api.database.getDatabaseClusterUser({ database_cluster_id: uuid, user_name: name }),
      );
      return {
        name: data.user.name,
        role: data.user.role,
        showsPassword: typeof data.user.password === 'string' && data.user.password !== '',
      };
    },
    /**
     * GET …/users: the names of the users DigitalOcean manages (and keeps a copy of the password
     * of). Through runtime.fetch: dots-wrapper adds page/per_page, which the operation does not take.
     * Passwords in the answer are dropped here.
     */
    async listUsers(uuid: string, hints: StatusHints): Promise<string[]> {
      const data = await call(`DigitalOcean: list the users of cluster ${uuid}`, hints, () =>
        request<{ users?: { name: string }[] }>('GET', `/databases/${encodeURIComponent(uuid)}/users`),
      );
      return (data.users ?? []).map((u) => u.name);
    },
    /** GET …/pools (PostgreSQL): the connection pools, without their `connection` (it embeds a password). */
    async listPools(uuid: string, hints: StatusHints): Promise<Pool[]> {
      const data = await call(`DigitalOcean: list the connection pools of cluster ${uuid}`, hints, () =>
        request<{ pools?: Pool[] }>('GET', `/databases/${encodeURIComponent(uuid)}/pools`),
      );
      return (data.pools ?? []).map((p) => ({ name: p.name, mode: p.mode, size: p.size, db: p.db, ...(p.user ? { user: p.user } : {}) }));
    },
    /**
     * Whether DigitalOcean's copy of a user's password is `value` (compared here, never returned);
     * undefined when the token may not see passwords (database:view_credentials).
     */
    async storedPasswordIs(uuid: string, name: string, value: Secret, hints: StatusHints): Promise<boolean | undefined> {
      const { data } = await call(`DigitalOcean: read user ${name} of cluster ${uuid}`, hints, () =>
        api.database.getDatabaseClusterUser({ database_cluster_id: uuid, user_name: name }),
      );
      const stored = data.user.password;
      return typeof stored === 'string' && stored !== '' ? stored === value.reveal() : undefined;
    },
    /** POST …/users/{name}/reset_auth (body {} for PostgreSQL): DigitalOcean picks the password. */
    async resetAuth(uuid: string, name: string, hints: StatusHints): Promise<Secret> {
      const path = `/databases/${encodeURIComponent(uuid)}/users/${encodeURIComponent(name)}/reset_auth`;
      const data = await call(`DigitalOcean: reset the password of user ${name} on cluster ${uuid}`, hints, () =>
        post<{ user?: { password?: string } }>(path, {}),
      );
      const password = data.user?.password;
      if (!password) {
        throw new RotationError(`DigitalOcean reset the password of user ${name} but returned none`, {
          hint: 'the token needs the database:view_credentials scope to receive passwords; the old password no longer works: add the scope and rerun',
        });
      }
      return new Secret(password);
    },
    /** GET …/ca (not in dots-wrapper): the PEM of the CA that signed the cluster's certificates (sent base64). */
    async getCa(uuid: string, hints: StatusHints): Promise<string> {
      const data = await call(`DigitalOcean: read the CA certificate of cluster ${uuid}`, hints, () =>
        request<{ ca?: { certificate?: string } }>('GET', `/databases/${encodeURIComponent(uuid)}/ca`),
      );
      const pem = Buffer.from(data.ca?.certificate ?? '', 'base64').toString('utf8');
      if (!pem.includes('-----BEGIN CERTIFICATE-----'))
        throw new RotationError(`DigitalOcean returned no CA certificate for cluster ${uuid}`);
      return pem;
    },
    async getApp(appId: string, hints: StatusHints): Promise<{ id: string; name: string; bindings: AppSpecBindings }> {
      const { data } = await call(`DigitalOcean: read app ${appId}`, hints, () => api.app.getApp({ app_id: appId }));
      return {
        id: data.app.id,
        name: data.app.spec?.name ?? appId,
        bindings: specBindings(data.app.spec as unknown as Record<string, unknown> | undefined),
      };
    },
    /** POST /v2/apps/{id}/restart: not in dots-wrapper. */
    async restartApp(appId: string, components: string[] | undefined, hints: StatusHints): Promise<Deployment> {
      const data = await call(`DigitalOcean: restart app ${appId}`, hints, () =>
        post<{ deployment: Deployment }>(`/apps/${encodeURIComponent(appId)}/restart`, components ? { components } : {}),
      );
      return pickDeployment(data.deployment);
    },
    async createDeployment(appId: string, forceBuild: boolean, hints: StatusHints): Promise<Deployment> {
      const { data } = await call(`DigitalOcean: deploy app ${appId}`, hints, () =>
        api.app.createAppDeployment({ app_id: appId, force_build: forceBuild }),
      );
      return pickDeployment(data.deployment);
    },
    async getDeployment(appId: string, deploymentId: string, hints: StatusHints): Promise<Deployment> {
      const { data } = await call(`DigitalOcean: read deployment ${deploymentId} of app ${appId}`, hints, () =>
        api.app.getAppDeployment({ app_id: appId, deployment_id: deploymentId }),
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

interface AxiosLike {
  isAxiosError?: boolean;
  code?: string;
  message?: string;
  response?: { status: number; headers?: Record<string, unknown>; data?: unknown };
}

/** Maps an axios error or a failed fetch to a RotationError; the original is not kept. */
function toRotationError(what: string, error: unknown, hints: StatusHints, options: Pick<HttpErrorOptions, 'now' | 'scrub'>): unknown {
  if (error instanceof RotationError) return error;
  const raw = error as { network?: unknown; status?: number; headers?: Headers; text?: string } & AxiosLike;
  if (raw.network !== undefined) return networkError(what, raw.network);
  let status: number;
  let headers: Record<string, string>;
  let message: string | undefined;
  if (raw.isAxiosError) {
    if (!raw.response) return networkError(what, new Error(raw.code === 'ECONNABORTED' ? 'timed out' : (raw.code ?? 'network error')));
    status = raw.response.status;
    headers = Object.fromEntries(Object.entries(raw.response.headers ?? {}).map(([k, v]) => [k.toLowerCase(), String(v)]));
    message = (raw.response.data as { message?: unknown } | undefined)?.message as string | undefined;
  } else if (typeof raw.status === 'number' && raw.headers) {
    status = raw.status;
    headers = {};
    raw.headers.forEach((value, name) => (headers[name.toLowerCase()] = value));
    try {
      message = (JSON.parse(raw.text ?? '') as { message?: string }).message;
    } catch {
      message = undefined;
    }
  } else {
    return error;
  }
  return httpError(what, status, headers, typeof message === 'string' ? JSON.stringify({ message }) : undefined, { hints, ...options });
}
