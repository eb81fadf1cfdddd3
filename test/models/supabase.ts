import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { http, HttpResponse } from 'msw';
import pg from 'pg';
import { scramVerifier } from '../../src/postgres/scram.js';
import { Secret } from '../../src/secret/secret.js';
import { guarded, loadDescription, OpenApiChecker } from './openapi/validator.js';

/**
 * An msw model of the Supabase Management API parts the rotation uses (API keys, legacy keys,
 * Edge Function secrets, the project and its database password on a real Postgres) and of each project's API gateway as Supabase serves it since 2026-03-11:
 * `GET /rest/v1/` (the Data API's OpenAPI root) answers 200 only to secret (and legacy
 * service_role) keys and 403 to publishable and legacy anon keys; `GET /auth/v1/settings` answers
 * 200 to any live key; both answer 401 to a missing, unknown or deleted key. Every request and
 * answer is checked against the Management API's OpenAPI description and the gateway's
 * (openapi/descriptions/). Written from the Management API reference: Bearer
 * personal access token (401 otherwise), 403 for a project the account may not manage, 404 for
 * an unknown project or key, 422 for a bad name, 429 with X-RateLimit-* headers past 120 requests
 * per minute per endpoint, and injected faults (5xx, 429, network). The request log holds method,
 * path and status only: never a header or body, so never a key or secret value.
 */

export type KeyType = 'legacy' | 'publishable' | 'secret';
export interface ModelKey {
  id: string;
  name: string;
  type: KeyType;
  api_key: string;
  description?: string;
  inserted_at: string;
}
export interface DeletedKey extends ModelKey {
  was_compromised: boolean;
  reason?: string;
}
export interface ProjectSpec {
  ref: string;
  /** Default https://<ref>.supabase.co */
  projectUrl?: string;
  /** Keys besides the legacy anon/service_role pair, e.g. [{ name: 'service_key', type: 'secret' }]. */
  keys?: { name: string; type: 'secret' | 'publishable'; description?: string }[];
  /** The token's account may not manage this project (403). */
  forbidden?: boolean;
  /** v1-get-project's status (default ACTIVE_HEALTHY). */
  status?: string;
  /**
   * The project's database, a real Postgres: PATCH …/database/password changes the password of
   * `role` (the stand-in for the project's `postgres`) through `adminUrl`, with a SCRAM verifier
   * (never the plaintext, so the server log shows none), then calls `onPasswordChange`.
   */
  database?: { host: string; adminUrl: string; role: string; onPasswordChange?: () => void };
}
export interface LoggedRequest {
  host: 'management' | 'project';
  method: string;
  /** Path and query as sent. */
  path: string;
  status: number;
}
export type RequestMatcher = { method?: string; path?: string | RegExp; host?: 'management' | 'project' };
/** `applied`: the request is carried out, then its reply is replaced by the fault (a lost reply). */
export type Fault = { status: number; headers?: Record<string, string>; message?: string; applied?: boolean } | 'network';

interface Project {
  ref: string;
  url: string;
  status: string;
  database?: ProjectSpec['database'];
  forbidden: boolean;
  keys: ModelKey[];
  deleted: DeletedKey[];
  legacyEnabled: boolean;
  secrets: Map<string, { value: string; updated_at: string }>;
}

const RATE_LIMIT = 120;
const err = (status: number, message: string, headers?: Record<string, string>) => HttpResponse.json({ message }, { status, headers });
const gatewayError = (status: number, message: string, hint: string) => HttpResponse.json({ message, hint }, { status });

export function createSupabaseModel(options: { apiUrl?: string; token: string; projects: ProjectSpec[]; now?: () => Date }) {
  const apiUrl = (options.apiUrl ?? 'https://api.supabase.com').replace(/\/+$/, '');
  const apiPath = new URL(apiUrl).pathname.replace(/\/+$/, '');
  const now = options.now ?? (() => new Date());
  const projects = new Map<string, Project>();
  const requests: LoggedRequest[] = [];
  const faults: { matcher: RequestMatcher; fault: Fault; times: number }[] = [];
  const window = new Map<string, { minute: number; count: number }>();

  const newKey = (name: string, type: KeyType, description?: string): ModelKey => ({
    id: type === 'legacy' ? name : randomUUID(),
    name,
    type,
    description,
    inserted_at: now().toISOString(),
    api_key: type === 'legacy' ? legacyJwt(name) : `sb_${type}_${randomBytes(24).toString('base64url')}`,
  });
  for (const spec of options.projects) {
    const keys = [
      newKey('anon', 'legacy'),
      newKey('service_role', 'legacy'),
      ...(spec.keys ?? []).map((k) => newKey(k.name, k.type, k.description)),
    ];
    const secrets = new Map(
      ['SUPABASE_URL', 'SUPABASE_ANON_KEY', 'SUPABASE_SERVICE_ROLE_KEY', 'SUPABASE_DB_URL'].map((n) => [
        n,
        { value: randomBytes(8).toString('hex'), updated_at: now().toISOString() },
      ]),
    );
    projects.set(spec.ref, {
      ref: spec.ref,
      url: (spec.projectUrl ?? `https://${spec.ref}.supabase.co`).replace(/\/+$/, ''),
      status: spec.status ?? 'ACTIVE_HEALTHY',
      database: spec.database,
      forbidden: spec.forbidden ?? false,
      keys,
      deleted: [],
      legacyEnabled: true,
      secrets,
    });
  }

  const errorBody = { type: 'object', properties: { message: { type: 'string' } }, required: ['message'] };
  // The Management API's description declares 401/403/429 (and 500 for secrets); its NestJS
  // validation answers 400 to a body or parameter it refuses, an unknown project or key is 404,
  // and a 5xx can come from any endpoint.
  const managementApi = new OpenApiChecker('supabase-management', loadDescription('supabase-management.json'), {
    generic: {
      400: 'validation',
      404: 'unknown project or key',
      500: 'server error',
      502: 'bad gateway',
      503: 'unavailable',
      504: 'timeout',
    },
    errorSchema: errorBody,
  });
  // The gateway (Kong) answers 404 "no Route matched" to a path it does not serve.
  const gatewayApi = new OpenApiChecker('supabase-gateway', loadDescription('supabase-gateway.json'), {
    generic: {
      400: 'bad request',
      404: 'no route',
      429: 'rate limit (Auth endpoints are rate limited)',
      500: 'server error',
      502: 'bad gateway',
      503: 'unavailable',
      504: 'timeout',
    },
    errorSchema: '#/components/schemas/GatewayError',
  });
  const model = {
    apiUrl,
    requests,
    openapi: { management: managementApi, gateway: gatewayApi },
    /** NestJS validation: a body or parameter the API refuses gets 400 (no 422 is declared). */
    validationStatus: 400,
    failNext(matcher: RequestMatcher, fault: Fault, times = 1): void {
      faults.push({ matcher, fault, times });
    },
    /** The outage is over: pending faults are dropped. */
    clearFaults(): void {
      faults.length = 0;
    },
    project(ref: string): Project {
      const p = projects.get(ref);
      if (!p) throw new Error(`no project ${ref} in the model`);
      return p;
    },
    key(ref: string, name: string): ModelKey | undefined {
      return model.project(ref).keys.find((k) => k.name === name);
    },
    secretValue(ref: string, name: string): string | undefined {
      return model.project(ref).secrets.get(name)?.value;
    },
    count(matcher: RequestMatcher): number {
      return requests.filter((r) => matches(matcher, r)).length;
    },
    handlers: [] as ReturnType<typeof http.all>[],
  };

  /** 429 past 120 requests per minute per user and endpoint, as Supabase documents. */
  function rateLimited(endpoint: string): Response | undefined {
    const minute = Math.floor(now().getTime() / 60_000);
    const w = window.get(endpoint);
    const entry = w && w.minute === minute ? w : { minute, count: 0 };
    entry.count++;
    window.set(endpoint, entry);
    if (entry.count <= RATE_LIMIT) return undefined;
    return err(429, 'Too many requests', rateHeaders(0, (minute + 1) * 60));
  }

  async function management(request: Request, method: string, url: URL): Promise<Response> {
    const token = (request.headers.get('authorization') ?? '').replace(/^Bearer\s+/i, '');
    if (token !== options.token) return err(401, 'Unauthorized');
    const seg = url.pathname.split('/').slice(1).map(decodeURIComponent);
    if (seg[0] !== 'v1' || seg[1] !== 'projects' || seg.length < 3) return err(404, 'Not Found');
    const project = projects.get(seg[2]);
    if (!project) return err(404, `Project not found: ${seg[2]}`);
    if (project.forbidden) return err(403, 'You do not have permission to perform this action');
    const limited = rateLimited(`${method} ${seg.slice(3, 4).join('/')}`);
    if (limited) return limited;
    const reveal = url.searchParams.get('reveal') === 'true';
    const shown = (k: ModelKey) => ({
      id: k.id,
      name: k.name,
      type: k.type,
      description: k.description ?? null,
      inserted_at: k.inserted_at,
      prefix: k.type === 'secret' ? k.api_key.slice(0, 14) : null,
      api_key:
        k.type === 'secret' && !reveal
          ? `${k.api_key.slice(0, 14)}${'•'.repeat(12)}`
          : k.type === 'legacy' && !project.legacyEnabled
            ? null
            : k.api_key,
    });
    const rest = seg.slice(3);
    if (rest.length === 0 && method === 'GET') return HttpResponse.json(projectInfo(project));
    if (rest[0] === 'database' && rest[1] === 'password' && rest.length === 2 && method === 'PATCH')
      return setDatabasePassword(project, request);
    if (rest[0] === 'api-keys') {
      if (rest.length === 1 && method === 'GET') return HttpResponse.json(project.keys.map(shown));
      if (rest.length === 1 && method === 'POST') {
        const body = (await request.json().catch(() => undefined)) as { type?: unknown; name?: unknown; description?: unknown } | undefined;
        if (!body || (body.type !== 'secret' && body.type !== 'publishable')) return err(400, 'type must be one of secret, publishable');
        if (typeof body.name !== 'string' || !/^[a-z_][a-z0-9_]+$/.test(body.name)) return err(422, 'name must match ^[a-z_][a-z0-9_]+$');
        const key = newKey(body.name, body.type, typeof body.description === 'string' ? body.description : undefined);
        project.keys.push(key);
        return HttpResponse.json(shown(key), { status: 201 });
      }
      if (rest[1] === 'legacy' && rest.length === 2) {
        if (method === 'PUT') project.legacyEnabled = url.searchParams.get('enabled') === 'true';
        if (method === 'PUT' || method === 'GET') return HttpResponse.json({ enabled: project.legacyEnabled });
      }
      if (rest.length === 2 && method === 'DELETE') {
        const key = project.keys.find((k) => k.id === rest[1]);
        if (!key) return err(404, 'API key not found');
        if (key.type === 'legacy') return err(400, 'Legacy API keys cannot be deleted; disable them instead');
        project.keys = project.keys.filter((k) => k !== key);
        const reason = url.searchParams.get('reason') ?? undefined;
        project.deleted.push({ ...key, was_compromised: url.searchParams.get('was_compromised') === 'true', reason });
        return HttpResponse.json(shown(key));
      }
    }
    if (rest[0] === 'secrets' && rest.length === 1) {
      if (method === 'GET')
        return HttpResponse.json([...project.secrets].map(([name, s]) => ({ name, value: sha256(s.value), updated_at: s.updated_at })));
      if (method === 'POST') {
        const body = (await request.json().catch(() => undefined)) as { name?: unknown; value?: unknown }[] | undefined;
        if (!Array.isArray(body)) return err(400, 'Body must be an array of {name, value}');
        for (const s of body) {
          if (typeof s.name !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(s.name) || /^SUPABASE_/i.test(s.name))
            return err(422, 'Env var names must not start with SUPABASE_ and may contain only letters, digits and _');
          if (typeof s.value !== 'string' || s.value.length > 24_576)
            return err(422, 'Secret values must be strings of at most 24576 characters');
        }
        for (const s of body) project.secrets.set(s.name as string, { value: s.value as string, updated_at: now().toISOString() });
        return new HttpResponse(null, { status: 201 });
      }
    }
    return err(404, 'Not Found');
  }

  /** v1-get-project: the fields its description requires. */
  function projectInfo(project: Project) {
    return {
      id: project.ref,
      ref: project.ref,
      organization_id: 'org-acme',
      organization_slug: 'acme',
      name: 'ssot',
      region: 'ap-southeast-1',
      created_at: '2025-01-01T00:00:00.000Z',
      status: project.status,
      database: {
        host: project.database?.host ?? `db.${project.ref}.supabase.co`,
        version: '16.4.1',
        postgres_engine: '16',
        release_channel: 'ga',
      },
    };
  }

  /** v1-update-database-password: ALTER ROLE on the real server, with a verifier computed here. */
  async function setDatabasePassword(project: Project, request: Request): Promise<Response> {
    const body = (await request.json().catch(() => undefined)) as { password?: unknown } | undefined;
    if (typeof body?.password !== 'string' || body.password.length < 4)
      return err(400, 'password must be longer than or equal to 4 characters');
    if (!project.database) return err(500, 'Failed to update database password');
    const db = new pg.Client({ connectionString: project.database.adminUrl });
    try {
      await db.connect();
      const verifier = scramVerifier(new Secret(body.password));
      await db.query(`ALTER ROLE ${db.escapeIdentifier(project.database.role)} PASSWORD ${db.escapeLiteral(verifier)}`);
    } finally {
      await db.end().catch(() => undefined);
    }
    project.database.onPasswordChange?.();
    return HttpResponse.json({ message: 'ok' });
  }

  /**
   * The project's API gateway: the key in the `apikey` header must be live (a key of the project,
   * a legacy one only while legacy keys are enabled), else 401; the Data API's OpenAPI root takes
   * only secret and service_role keys (403 for the others, with Supabase's own message).
   */
  function projectApi(request: Request, project: Project, path: string): Response {
    const apikey = request.headers.get('apikey');
    if (!apikey) return gatewayError(401, 'No API key found in request', 'No `apikey` request header or url param was found.');
    const key = project.keys.find((k) => k.api_key === apikey);
    if (!key || (key.type === 'legacy' && !project.legacyEnabled))
      return gatewayError(401, 'Invalid API key', 'Double check your Supabase `anon` or `service_role` API key.');
    if (path === '/rest/v1/') {
      if (key.type === 'publishable' || key.name === 'anon') {
        return gatewayError(
          403,
          'Access to schema is forbidden',
          'Accessing the schema via the Data API is only allowed using a secret API key.',
        );
      }
      return HttpResponse.json(
        { swagger: '2.0', info: { title: 'PostgREST API' }, paths: {} },
        { headers: { 'content-type': 'application/openapi+json' } },
      );
    }
    return HttpResponse.json({
      external: { email: true, phone: false, anonymous_users: false },
      disable_signup: false,
      mailer_autoconfirm: false,
      phone_autoconfirm: false,
      sms_provider: 'twilio',
      saml_enabled: false,
    });
  }

  function logAndFault(host: LoggedRequest['host'], request: Request): { entry: LoggedRequest; fault?: Fault } {
    const url = new URL(request.url);
    const entry: LoggedRequest = { host, method: request.method.toUpperCase(), path: url.pathname + url.search, status: 0 };
    requests.push(entry);
    const f = faults.find((x) => x.times > 0 && matches(x.matcher, entry));
    if (f) f.times--;
    return { entry, fault: f?.fault };
  }

  function faultResponse(fault: Fault): Response {
    if (fault === 'network') return HttpResponse.error();
    const headers = fault.status === 429 ? { ...rateHeaders(0, Math.floor(now().getTime() / 1000) + 1), ...fault.headers } : fault.headers;
    return err(fault.status, fault.message ?? (fault.status >= 500 ? 'Internal Server Error' : 'Error'), headers);
  }

  model.handlers = [
    http.all(`${apiUrl}/*`, async ({ request }) => {
      const { entry, fault } = logAndFault('management', request);
      const url = new URL(request.url);
      const response = await guarded(
        managementApi,
        request,
        url.pathname.slice(apiPath.length),
        async () =>
          fault
            ? fault !== 'network' && fault.applied
              ? management(request, entry.method, url).then(() => faultResponse(fault))
              : faultResponse(fault)
            : management(request, entry.method, url),
        (status, message) => err(status === 404 ? 404 : 400, status === 404 ? 'Not Found' : message),
      );
      entry.status = response.type === 'error' ? 0 : response.status;
      return response;
    }),
    ...[...projects.values()].flatMap((project) =>
      ['rest', 'auth'].map((service) =>
        http.all(`${project.url}/${service}/v1/*`, async ({ request }) => {
          const { entry, fault } = logAndFault('project', request);
          const path = new URL(request.url).pathname.slice(new URL(project.url).pathname.replace(/\/+$/, '').length);
          const response = await guarded(
            gatewayApi,
            request,
            path,
            async () => (fault ? faultResponse(fault) : projectApi(request, project, path)),
            (status) =>
              status === 404
                ? err(404, 'no Route matched with those values')
                : gatewayError(401, 'No API key found in request', 'No `apikey` request header or url param was found.'),
          );
          entry.status = response.type === 'error' ? 0 : response.status;
          return response;
        }),
      ),
    ),
  ];
  return model;
}

export type SupabaseModel = ReturnType<typeof createSupabaseModel>;

function rateHeaders(remaining: number, resetEpochSeconds: number): Record<string, string> {
  return {
    'X-RateLimit-Limit': String(RATE_LIMIT),
    'X-RateLimit-Remaining': String(remaining),
    'X-RateLimit-Reset': String(resetEpochSeconds),
  };
}

function legacyJwt(role: string): string {
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${part({ alg: 'HS256', typ: 'JWT' })}.${part({ iss: 'supabase', role, iat: 1700000000, exp: 2000000000 })}.${randomBytes(32).toString('base64url')}`;
}

function sha256(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

function matches(m: RequestMatcher, r: LoggedRequest): boolean {
  if (m.host && m.host !== r.host) return false;
  if (m.method && m.method.toUpperCase() !== r.method) return false;
  if (m.path === undefined) return true;
  const path = r.path.split('?')[0];
  return typeof m.path === 'string' ? path === m.path : m.path.test(path);
}
