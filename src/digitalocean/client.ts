import { createApiClient } from 'dots-wrapper';
import type { Runtime } from '../runtime/runtime.js';
import { RotationError } from '../errors/errors.js';
import { httpError, networkError, type StatusHints } from '../http/http-error.js';
import { withRetry } from '../http/retry.js';
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
export interface Deployment {
  id: string;
  phase: string;
  cause?: string;
}
export type { StatusHints } from '../http/http-error.js';

/**
 * The DigitalOcean API v2 calls the rotation makes. dots-wrapper (axios) covers reading clusters,
 * users and apps and creating deployments; it has no call for `reset_auth`, for restarting an
 * app nor for a cluster's CA, so those three are one small typed request each through runtime.fetch. Every failure becomes
 * a RotationError from the status and DigitalOcean's `message` only: never the request, whose
 * headers carry the token, nor a response body that may carry a password.
 */
export function digitalOceanClient(token: Secret, apiUrl: string, runtime: Runtime) {
  const base = apiUrl.replace(/\/+$/, '');
  const api = createApiClient({ token: token.reveal(), endpoint: `${base}/v2` });

  async function call<T>(what: string, hints: StatusHints, fn: () => Promise<T>): Promise<T> {
    return withRetry(
      async () => {
        try {
          return await fn();
        } catch (error) {
          throw toRotationError(what, error, hints, () => runtime.now().getTime());
        }
      },
      {
        sleep: runtime.sleep,
        onRetry: (error, attempt, delay) => runtime.reporter.warning(`${(error as Error).message}; retry ${attempt} in ${Math.round(delay / 1000)}s`),
      },
    );
  }

  /** The requests dots-wrapper lacks: JSON in (POST), JSON out, with the same error mapping. */
  async function post<T>(path: string, body: unknown): Promise<T> {
    return request<T>('POST', path, body);
  }
  async function request<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    let response: Response;
    try {
      response = await runtime.fetch(`${base}/v2${path}`, {
        method,
        headers: { authorization: `Bearer ${token.reveal()}`, accept: 'application/json', ...(method === 'POST' ? { 'content-type': 'application/json' } : {}) },
        body: method === 'POST' ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(30_000),
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
      const { data } = await call(`DigitalOcean: read database cluster ${uuid}`, hints, () => api.database.getDatabaseCluster({ database_cluster_id: uuid }));
      const c = data.database;
      const conn = c.connection;
      return { id: c.id, name: c.name, engine: c.engine, status: c.status, connection: { host: conn.host, port: Number(conn.port), database: conn.database, ssl: Boolean(conn.ssl) } };
    },
    /** `showsPassword`: DigitalOcean shows passwords only to tokens with database:view_credentials. */
    async getUser(uuid: string, name: string, hints: StatusHints): Promise<{ name: string; role: string; showsPassword: boolean }> {
      const { data } = await call(`DigitalOcean: read user ${name} of cluster ${uuid}`, hints, () => api.database.getDatabaseClusterUser({ database_cluster_id: uuid, user_name: name }));
      return { name: data.user.name, role: data.user.role, showsPassword: typeof data.user.password === 'string' && data.user.password !== '' };
    },
    /** POST …/users/{name}/reset_auth (body {} for PostgreSQL): DigitalOcean picks the password. */
    async resetAuth(uuid: string, name: string, hints: StatusHints): Promise<Secret> {
      const path = `/databases/${encodeURIComponent(uuid)}/users/${encodeURIComponent(name)}/reset_auth`;
      const data = await call(`DigitalOcean: reset the password of user ${name} on cluster ${uuid}`, hints, () => post<{ user?: { password?: string } }>(path, {}));
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
      if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new RotationError(`DigitalOcean returned no CA certificate for cluster ${uuid}`);
      return pem;
    },
    async getApp(appId: string, hints: StatusHints): Promise<{ id: string; name: string }> {
      const { data } = await call(`DigitalOcean: read app ${appId}`, hints, () => api.app.getApp({ app_id: appId }));
      return { id: data.app.id, name: data.app.spec?.name ?? appId };
    },
    /** POST /v2/apps/{id}/restart: not in dots-wrapper. */
    async restartApp(appId: string, components: string[] | undefined, hints: StatusHints): Promise<Deployment> {
      const data = await call(`DigitalOcean: restart app ${appId}`, hints, () =>
        post<{ deployment: Deployment }>(`/apps/${encodeURIComponent(appId)}/restart`, components ? { components } : {}),
      );
      return pickDeployment(data.deployment);
    },
    async createDeployment(appId: string, forceBuild: boolean, hints: StatusHints): Promise<Deployment> {
      const { data } = await call(`DigitalOcean: deploy app ${appId}`, hints, () => api.app.createAppDeployment({ app_id: appId, force_build: forceBuild }));
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
function toRotationError(what: string, error: unknown, hints: StatusHints, now: () => number): unknown {
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
  return httpError(what, status, headers, typeof message === 'string' ? JSON.stringify({ message }) : undefined, { hints, now });
}
