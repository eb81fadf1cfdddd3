import { http, HttpResponse } from 'msw';
import pg from 'pg';
import { randomBytes, randomUUID } from 'node:crypto';
import { scramVerifier } from '../../src/postgres/scram.js';
import { Secret } from '../../src/secret/secret.js';
import { guarded, loadDescription, OpenApiChecker } from './openapi/validator.js';
import { appSpecJson, poolJson, resolveBindings } from './digitalocean-bindings.js';

/**
 * An msw model of the DigitalOcean API v2 parts the rotation uses, from the API reference
 * (digitalocean/openapi): database clusters, their CA, their users, `reset_auth` and their
 * connection pools (list, get, update), and App Platform apps with restarts and deployments. Like DigitalOcean it checks the Bearer token (401
 * "unable to authenticate you") and its custom scopes (403), answers 404 for what it does not
 * know, 422 for invalid bodies, carries `ratelimit-limit/-remaining/-reset` on every answer, and
 * shows passwords only to tokens with database:view_credentials. `reset_auth` really changes the
 * role's password on a real Postgres (through a superuser connection, as a SCRAM verifier so the
 * server log holds no password) and returns the new one. Faults (429, 5xx, network) are injected
 * per request; deployments move one phase per poll.
 */

export const ALL_SCOPES = ['database:read', 'database:update', 'database:view_credentials', 'app:read', 'app:update'];
export interface ClusterSpec {
  id: string;
  name: string;
  /** Where the cluster's connection details point (the embedded Postgres). */
  host: string;
  port: number;
  database?: string;
  /** Users DigitalOcean manages on it, with their passwords as DigitalOcean last knew them. */
  users: Record<string, string>;
  /** A superuser connection to the server, for ALTER ROLE. */
  superuserUrl: string;
  /** The PEM of the CA that signed the server's certificate, served by GET …/ca (base64, as DigitalOcean does). */
  ca?: string;
  /** What `connection.ssl` reports: true on every DigitalOcean cluster (the default); false for a stand-in without TLS. */
  ssl?: boolean;
  /** Its PgBouncer connection pools (connection_pool in the description); no `user`: the inbound user. */
  pools?: PoolSpec[];
}
export interface PoolSpec {
  name: string;
  mode: 'session' | 'transaction' | 'statement';
  size: number;
  db: string;
  user?: string;
}
export interface AppSpec {
  id: string;
  name: string;
  components?: string[];
  /** How the next deployment ends: ACTIVE, ERROR, CANCELED, or never (stuck in DEPLOYING). */
  outcome?: 'ACTIVE' | 'ERROR' | 'CANCELED' | 'stuck';
  /** Database components (app_database_spec), bound by name in env values: `${<name>.PASSWORD}`. */
  databases?: { name: string; cluster_name?: string; db_name?: string; db_user?: string; engine?: 'PG'; production?: boolean }[];
  /** Env lists per component (`web` → its envs; `''` for the app's own `envs`). */
  envs?: Record<
    string,
    { key: string; value: string; scope?: 'RUN_TIME' | 'BUILD_TIME' | 'RUN_AND_BUILD_TIME'; type?: 'GENERAL' | 'SECRET' }[]
  >;
}
export interface DigitalOceanModelOptions {
  baseUrl?: string;
  /** Tokens DigitalOcean accepts, with their scopes. */
  tokens: Record<string, string[]>;
  clusters?: ClusterSpec[];
  apps?: AppSpec[];
}
export interface LoggedRequest {
  method: string;
  path: string;
  status: number;
  /** The JSON body as sent (reset_auth, restart and pool bodies hold no secret). */
  body?: unknown;
}
export type RequestMatcher = { method?: string; path?: string | RegExp };
export type Fault = { status: number; headers?: Record<string, string>; message?: string } | 'network';
interface Deployment {
  id: string;
  app: string;
  cause: string;
  phases: string[];
  polls: number;
  created_at: string;
  /** What each component's env holds in this deployment, bindings resolved (for the tests; never served). */
  env: Record<string, Record<string, string>>;
}

const ERROR_IDS: Record<number, [string, string]> = {
  400: ['bad_request', 'The request could not be parsed.'],
  401: ['unauthorized', 'Unable to authenticate you.'],
  403: ['forbidden', 'You are not authorized to perform this operation.'],
  404: ['not_found', 'The resource you were accessing could not be found.'],
  422: ['unprocessable_entity', 'The request was invalid.'],
  429: ['too_many_requests', 'API Rate limit exceeded.'],
  500: ['server_error', 'Unexpected server-side error'],
  503: ['service_unavailable', 'The service is temporarily unavailable.'],
};

export function createDigitalOceanModel(options: DigitalOceanModelOptions) {
  const baseUrl = (options.baseUrl ?? 'https://api.digitalocean.com').replace(/\/+$/, '');
  const basePath = new URL(baseUrl).pathname.replace(/\/+$/, '');
  const clusters = new Map((options.clusters ?? []).map((c) => [c.id, { ...c, users: { ...c.users } }]));
  const apps = new Map((options.apps ?? []).map((a) => [a.id, { ...a }]));
  const deployments = new Map<string, Deployment>();
  const requests: LoggedRequest[] = [];
  const faults: { matcher: RequestMatcher; fault: Fault; times: number }[] = [];
  const limit = 5000;
  let remaining = limit;

  const rateHeaders = (extra: Record<string, string> = {}) => ({
    'ratelimit-limit': String(limit),
    'ratelimit-remaining': String(remaining),
    'ratelimit-reset': String(Math.ceil(Date.now() / 1000) + 60),
    ...extra,
  });
  const error = (status: number, message?: string, headers?: Record<string, string>) => {
    const [id, text] = ERROR_IDS[status] ?? ['error', 'Error'];
    return HttpResponse.json({ id, message: message ?? text, request_id: randomUUID() }, { status, headers: rateHeaders(headers) });
  };
  const ok = (body: Record<string, unknown>, status = 200) => HttpResponse.json(body, { status, headers: rateHeaders() });

  // Every operation declares its errors (with a `default`): nothing is generic.
  const openapi = new OpenApiChecker('digitalocean', loadDescription('digitalocean.json'), { generic: {} });
  const model = {
    baseUrl,
    requests,
    openapi,
    tokens: options.tokens,
    failNext(matcher: RequestMatcher, fault: Fault, times = 1): void {
      faults.push({ matcher, fault, times });
    },
    /** The outage is over: pending faults are dropped. */
    clearFaults(): void {
      faults.length = 0;
    },
    count(matcher: RequestMatcher): number {
      return requests.filter((r) => matches(matcher, r)).length;
    },
    app(id: string): AppSpec | undefined {
      return apps.get(id);
    },
    cluster(id: string): ClusterSpec | undefined {
      return clusters.get(id);
    },
    deployments,
    handlers: [] as ReturnType<typeof http.all>[],
  };

  async function resetAuth(cluster: ClusterSpec, user: string): Promise<string> {
    const password = randomBytes(12).toString('base64url'); // DigitalOcean's look: 16 url-safe characters
    const db = new pg.Client({ connectionString: cluster.superuserUrl });
    db.on('error', () => undefined);
    await db.connect();
    try {
      await db.query(`ALTER ROLE ${db.escapeIdentifier(user)} PASSWORD ${db.escapeLiteral(scramVerifier(new Secret(password)))}`);
    } finally {
      await db.end();
    }
    cluster.users[user] = password;
    return password;
  }

  /**
   * A deployment binds the clusters' copies as they are now; a restart keeps the environment of
   * the app's last deployment (the model's reading: DigitalOcean does not document that a restart
   * resolves bindings again).
   */
  function newDeployment(app: AppSpec, cause: string, build: boolean, restart = false): Deployment {
    const start = build ? ['PENDING_BUILD', 'BUILDING', 'DEPLOYING'] : ['PENDING_DEPLOY', 'DEPLOYING'];
    const end = app.outcome ?? 'ACTIVE';
    const last = [...deployments.values()].filter((d) => d.app === app.id).at(-1);
    const env = restart && last ? last.env : resolveBindings(app, clusters);
    const d: Deployment = {
      id: randomUUID(),
      app: app.id,
      cause,
      phases: end === 'stuck' ? start : [...start, end],
      polls: 0,
      created_at: new Date().toISOString(),
      env,
    };
    deployments.set(d.id, d);
    return d;
  }
  const deploymentJson = (d: Deployment) => ({
    id: d.id,
    cause: d.cause,
    created_at: d.created_at,
    phase: d.phases[Math.min(d.polls, d.phases.length - 1)],
    progress: { total_steps: d.phases.length, success_steps: Math.min(d.polls, d.phases.length - 1) },
  });

  async function route(request: Request, method: string, seg: string[]): Promise<Response> {
    const token = (request.headers.get('authorization') ?? '').replace(/^Bearer\s+/i, '');
    const scopes = options.tokens[token];
    if (!scopes) return error(401, 'Unable to authenticate you');
    const need = (scope: string) =>
      scopes.includes(scope) ? undefined : error(403, `You are not authorized to perform this operation (missing scope ${scope})`);
    const json = async (): Promise<Record<string, unknown> | Response> => {
      try {
        const body = (await request.json()) as unknown;
        return body && typeof body === 'object' && !Array.isArray(body)
          ? (body as Record<string, unknown>)
          : error(400, 'The request body must be a JSON object.');
      } catch {
        return error(400, 'The request body must be a JSON object.');
      }
    };

    if (seg[0] === 'databases' && seg[1]) {
      const cluster = clusters.get(seg[1]);
      if (!cluster) return need('database:read') ?? error(404);
      const show = (pw: string | undefined) => (scopes.includes('database:view_credentials') ? (pw ?? '') : '');
      const database = cluster.database ?? 'defaultdb';
      if (seg.length === 2 && method === 'GET') {
        const connection = {
          protocol: 'postgresql',
          host: cluster.host,
          port: cluster.port,
          database,
          user: 'doadmin',
          password: show(cluster.users.doadmin),
          uri: `postgresql://doadmin:${show(cluster.users.doadmin)}@${cluster.host}:${cluster.port}/${database}?sslmode=require`,
          ssl: cluster.ssl ?? true,
        };
        return (
          need('database:read') ??
          ok({
            database: {
              id: cluster.id,
              name: cluster.name,
              engine: 'pg',
              version: '16',
              status: 'online',
              num_nodes: 1,
              size: 'db-s-1vcpu-1gb',
              region: 'fra1',
              db_names: [database],
              connection,
              private_connection: { ...connection, host: `private-${cluster.host}` },
              users: Object.entries(cluster.users).map(([name, pw]) => ({
                name,
                role: name === 'doadmin' ? 'primary' : 'normal',
                password: show(pw),
              })),
            },
          })
        );
      }
      // databases_get_ca: { ca: { certificate: <base64 of the PEM> } }, scope database:read.
      if (seg[2] === 'ca' && seg.length === 3 && method === 'GET') {
        if (!cluster.ca) return error(500, 'model: this cluster was given no CA (ClusterSpec.ca)');
        return need('database:read') ?? ok({ ca: { certificate: Buffer.from(cluster.ca).toString('base64') } });
      }
      if (seg[2] === 'users' && seg.length === 3 && method === 'GET') {
        return (
          need('database:read') ??
          ok({
            users: Object.entries(cluster.users).map(([name, pw]) => ({
              name,
              role: name === 'doadmin' ? 'primary' : 'normal',
              password: show(pw),
            })),
          })
        );
      }
      if (seg[2] === 'pools') {
        const pools = (cluster.pools ??= []);
        if (seg.length === 3 && method === 'GET')
          return need('database:read') ?? ok({ pools: pools.map((p) => poolJson(cluster, p, show)) });
        const pool = pools.find((p) => p.name === seg[3]);
        if (seg.length !== 4) return error(404);
        if (method === 'GET') return need('database:read') ?? (pool ? ok({ pool: poolJson(cluster, pool, show) }) : error(404));
        if (method === 'PUT') {
          // databases_update_connectionPool: mode, size, db required, user optional (none: the inbound user); 204.
          const denied = need('database:update');
          if (denied) return denied;
          if (!pool) return error(404);
          const body = await json();
          if (body instanceof Response) return body;
          if (!['session', 'transaction', 'statement'].includes(String(body.mode)))
            return error(422, 'mode must be one of session, transaction, statement');
          if (body.user !== undefined && !(String(body.user) in cluster.users))
            return error(422, `user ${String(body.user)} does not exist`);
          Object.assign(pool, { mode: body.mode, size: body.size, db: body.db });
          if (body.user === undefined) delete pool.user;
          else pool.user = String(body.user);
          return new HttpResponse(null, { status: 204, headers: rateHeaders() });
        }
      }
      if (seg[2] === 'users' && seg[3]) {
        const name = seg[3];
        if (!(name in cluster.users)) return need('database:read') ?? error(404);
        const user = (pw: string) => ({ name, role: name === 'doadmin' ? 'primary' : 'normal', password: show(pw) });
        if (seg.length === 4 && method === 'GET') return need('database:read') ?? ok({ user: user(cluster.users[name]) });
        if (seg[4] === 'reset_auth' && seg.length === 5 && method === 'POST') {
          const denied = need('database:update');
          if (denied) return denied;
          const body = await json();
          if (body instanceof Response) return body;
          if (body.mysql_settings !== undefined) return error(422, 'mysql_settings is only valid for MySQL clusters');
          return ok({ user: user(await resetAuth(cluster, name)) });
        }
      }
      return error(404);
    }

    if (seg[0] === 'apps' && seg[1]) {
      const app = apps.get(seg[1]);
      if (!app) return need('app:read') ?? error(404);
      if (seg.length === 2 && method === 'GET') {
        return need('app:read') ?? ok({ app: { id: app.id, spec: appSpecJson(app), tier_slug: 'basic' } });
      }
      if (seg[2] === 'restart' && seg.length === 3 && method === 'POST') {
        const denied = need('app:update');
        if (denied) return denied;
        const body = await json();
        if (body instanceof Response) return body;
        const known = app.components ?? ['web'];
        const wanted = body.components;
        if (wanted !== undefined && (!Array.isArray(wanted) || wanted.some((c) => !known.includes(String(c))))) {
          return error(422, `components must be names of the app's components (${known.join(', ')})`);
        }
        return ok({ deployment: deploymentJson(newDeployment(app, 'manual restart', false, true)) });
      }
      if (seg[2] === 'deployments' && seg.length === 3 && method === 'POST') {
        const denied = need('app:update');
        if (denied) return denied;
        const body = await json();
        if (body instanceof Response) return body;
        return ok({ deployment: deploymentJson(newDeployment(app, 'manual', Boolean(body.force_build))) });
      }
      if (seg[2] === 'deployments' && seg[3] && seg.length === 4 && method === 'GET') {
        const denied = need('app:read');
        if (denied) return denied;
        const d = deployments.get(seg[3]);
        if (!d) return error(404);
        d.polls++;
        return ok({ deployment: deploymentJson(d) });
      }
    }
    return error(404);
  }

  /** An answer: an injected fault, or the route. */
  async function answer(request: Request, method: string, path: string): Promise<Response> {
    const fault = faults.find((f) => f.times > 0 && matches(f.matcher, { method, path }));
    if (fault) {
      fault.times--;
      if (fault.fault === 'network') return HttpResponse.error();
      const headers =
        fault.fault.status === 429 ? { 'ratelimit-remaining': '0', 'retry-after': '2', ...fault.fault.headers } : fault.fault.headers;
      return error(fault.fault.status, fault.fault.message, headers);
    }
    remaining = Math.max(0, remaining - 1);
    return route(
      request,
      method,
      path
        .split('/')
        .slice(2)
        .map((s) => decodeURIComponent(s)),
    );
  }

  model.handlers = [
    http.all(`${baseUrl}/v2/*`, async ({ request }) => {
      const url = new URL(request.url);
      const method = request.method.toUpperCase();
      const path = url.pathname.slice(basePath.length);
      const body =
        method === 'POST' || method === 'PUT'
          ? await request
              .clone()
              .json()
              .catch(() => undefined)
          : undefined;
      // DigitalOcean answers 422 unprocessable_entity to a request its schema refuses, 404 to an unknown route.
      const response = await guarded(
        openapi,
        request,
        path,
        () => answer(request, method, path),
        (status, message) => error(status, status === 404 ? undefined : message),
      );
      requests.push({ method, path, status: response.type === 'error' ? 0 : response.status, body });
      return response;
    }),
  ];
  return model;
}

export type DigitalOceanModel = ReturnType<typeof createDigitalOceanModel>;

function matches(matcher: RequestMatcher, req: { method: string; path: string }): boolean {
  if (matcher.method && matcher.method.toUpperCase() !== req.method) return false;
  if (matcher.path === undefined) return true;
  return typeof matcher.path === 'string' ? req.path === matcher.path : matcher.path.test(req.path);
}
