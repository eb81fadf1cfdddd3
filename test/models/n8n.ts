import { http, HttpResponse } from 'msw';
import { tryLogin } from '../../src/postgres/connect.js';

/**
 * An msw model of the n8n public API's credential calls (header X-N8N-API-KEY), after n8n's
 * published description (/work/shared/reference/openapi/n8n.json) and its source
 * (packages/cli/src/public-api/v1/handlers/credentials): GET one credential's metadata (never its
 * data), PATCH with isPartialData merging into the stored data or replacing it, POST …/{id}/test
 * testing the stored data the way n8n does (a real Postgres login for a postgres credential), GET
 * …/schema/{type} with the type's JSON schema,
 * 401 for a wrong key, 404 for an unknown id, 400 in jsonschema's words for data the type's
 * schema refuses. Parameterised by version, the behaviours of the releases in the field:
 *
 * - `before-partial-update`: before PR #23431 (n8n < 2.3.0) /credentials/{id} has only DELETE:
 *   GET and PATCH answer 405 (express-openapi-validator's "<METHOD> method not allowed").
 * - `strict-partial`: PR #23431 (2.3.0) until PR #35680 (merged 2026-08-13): the middleware
 *   validates the raw payload against the whole type schema before the merge, so partial data
 *   that lacks a required property gets 400 `request.body.data requires property "ssl"`, even `{}`.
 * - `2.39.5`: PATCH answers 405 (issue #38746); GET works.
 * - `current`: PR #35680: with isPartialData the schema check drops `required` and conditional
 *   blocks; per-key type checks and unknown-key rejection stay.
 */

export type N8nVersion = 'before-partial-update' | 'strict-partial' | '2.39.5' | 'current';

export interface N8nCredentialSpec {
  id: string;
  name: string;
  type: string;
  data: Record<string, unknown>;
}
export interface N8nTypeSchema {
  properties: Record<string, 'string' | 'number' | 'boolean'>;
  required: string[];
}
export interface N8nModelOptions {
  baseUrl?: string;
  apiKey: string;
  version?: N8nVersion;
  /** The API key's scopes (enterprise keys are scoped; default: all). */
  scopes?: string[];
  /** Whether POST /credentials/{id}/test exists (newer releases); default true for `current`. */
  credentialTest?: boolean;
  credentials?: N8nCredentialSpec[];
  /** The schema each credential type's properties give (default: postgres and supabaseApi). */
  types?: Record<string, N8nTypeSchema>;
}

/** The postgres type as toJsonSchema derives it (required `ssl`, as the issue reproduced). */
const TYPES: Record<string, N8nTypeSchema> = {
  postgres: {
    properties: {
      host: 'string',
      database: 'string',
      user: 'string',
      password: 'string',
      maxConnections: 'number',
      allowUnauthorizedCerts: 'boolean',
      ssl: 'string',
      port: 'number',
    },
    required: ['ssl'],
  },
  supabaseApi: { properties: { host: 'string', serviceRole: 'string' }, required: ['host', 'serviceRole'] },
};

export function createN8nModel(options: N8nModelOptions) {
  const baseUrl = (options.baseUrl ?? 'https://n8n.example.com').replace(/\/+$/, '');
  const types = options.types ?? TYPES;
  const credentials = new Map(
    (options.credentials ?? []).map((c) => [c.id, { ...c, data: { ...c.data }, updatedAt: '2026-01-01T00:00:00.000Z' }]),
  );
  const model = {
    baseUrl,
    version: options.version ?? 'current',
    credentialTest: options.credentialTest ?? (options.version ?? 'current') === 'current',
    requests: [] as { method: string; path: string; status: number }[],
    /** Answers the next PATCH with this status (5xx, 429). */
    failNextPatch: [] as number[],
    /** Credential tests run, with their outcome. */
    tests: [] as { id: string; ok: boolean }[],
    credentialData(id: string): Record<string, unknown> | undefined {
      return credentials.get(id)?.data;
    },
    /** When n8n last recorded a change of the credential (every accepted PATCH moves it, a no-op too). */
    updatedAt(id: string): string | undefined {
      return credentials.get(id)?.updatedAt;
    },
    handlers: [] as ReturnType<typeof http.all>[],
  };

  const notAllowed = (method: string) => HttpResponse.json({ message: `${method} method not allowed` }, { status: 405 });

  async function route(request: Request, method: string, path: string): Promise<Response> {
    if (!path.startsWith('/api/v1/')) return HttpResponse.json({ message: 'not found' }, { status: 404 });
    const key = request.headers.get('x-n8n-api-key');
    if (!key) return HttpResponse.json({ message: "'X-N8N-API-KEY' header required" }, { status: 401 });
    if (key !== options.apiKey) return HttpResponse.json({ message: 'unauthorized' }, { status: 401 });
    const needs =
      method === 'PATCH' ? 'credential:update' : method === 'GET' && path.startsWith('/api/v1/credentials') ? 'credential:read' : undefined;
    if (needs && options.scopes && !options.scopes.includes(needs)) return HttpResponse.json({ message: 'Forbidden' }, { status: 403 });
    if (path === '/api/v1/workflows' && method === 'GET') return HttpResponse.json({ data: [], nextCursor: null });
    const schema = /^\/api\/v1\/credentials\/schema\/([^/]+)$/.exec(path);
    if (schema && method === 'GET') {
      const type = types[decodeURIComponent(schema[1])];
      if (!type) return HttpResponse.json({ message: 'Not Found' }, { status: 404 });
      const properties = Object.fromEntries(Object.entries(type.properties).map(([k, t]) => [k, { type: t }]));
      return HttpResponse.json({ additionalProperties: false, type: 'object', properties, required: type.required });
    }
    const test = /^\/api\/v1\/credentials\/([^/]+)\/test$/.exec(path);
    if (test) {
      if (!model.credentialTest) return HttpResponse.json({ message: 'not found' }, { status: 404 });
      if (method !== 'POST') return notAllowed(method);
      const credential = credentials.get(decodeURIComponent(test[1]));
      if (!credential) return HttpResponse.json({ message: 'Credential not found' }, { status: 404 });
      return testCredential(credential);
    }
    const match = /^\/api\/v1\/credentials\/([^/]+)$/.exec(path);
    if (!match) return HttpResponse.json({ message: 'not found' }, { status: 404 });
    if (method === 'DELETE') return HttpResponse.json({ message: 'not modelled' }, { status: 501 });
    if (method !== 'GET' && method !== 'PATCH') return notAllowed(method);
    if (model.version === 'before-partial-update') return notAllowed(method);
    if (method === 'PATCH' && model.version === '2.39.5') return notAllowed(method);
    const credential = credentials.get(decodeURIComponent(match[1]));
    if (!credential) return HttpResponse.json({ message: 'Credential not found' }, { status: 404 });
    const meta = () => ({
      id: credential.id,
      name: credential.name,
      type: credential.type,
      isManaged: false,
      isGlobal: false,
      isResolvable: false,
      resolvableAllowFallback: false,
      resolverId: null,
      createdAt: '2026-01-01T00:00:00.000Z',
      updatedAt: credential.updatedAt,
    });
    if (method === 'GET') return HttpResponse.json(meta());
    const status = model.failNextPatch.shift();
    if (status)
      return HttpResponse.json(
        { message: status === 429 ? 'Too Many Requests' : 'Internal Server Error' },
        { status, headers: status === 429 ? { 'retry-after': '1' } : {} },
      );
    const body = (await request.json().catch(() => undefined)) as Record<string, unknown> | undefined;
    if (!body || typeof body !== 'object') return HttpResponse.json({ message: 'request/body must be object' }, { status: 400 });
    const extra = Object.keys(body).find((k) => !['name', 'type', 'data', 'isGlobal', 'isResolvable', 'isPartialData'].includes(k));
    if (extra) return HttpResponse.json({ message: `request/body must NOT have additional properties` }, { status: 400 });
    if (body.data === undefined) return HttpResponse.json(meta());
    if (typeof body.data !== 'object' || body.data === null || Array.isArray(body.data))
      return HttpResponse.json({ message: 'request/body/data must be object' }, { status: 400 });
    const data = body.data as Record<string, unknown>;
    const partial = body.isPartialData === true;
    const refused = validate(types[credential.type], data, partial && model.version === 'current');
    if (refused) return HttpResponse.json({ message: refused }, { status: 400 });
    credential.data = partial ? { ...credential.data, ...data } : { ...data };
    credential.updatedAt = new Date().toISOString();
    return HttpResponse.json(meta());
  }

  /** As n8n's credential test of a postgres credential: a login with the stored data. */
  async function testCredential(credential: { id: string; type: string; data: Record<string, unknown> }): Promise<Response> {
    if (credential.type !== 'postgres') return HttpResponse.json({ status: 'OK', message: 'Connection successful!' });
    const d = credential.data;
    const result = await tryLogin({
      host: String(d.host),
      port: Number(d.port ?? 5432),
      database: String(d.database),
      user: String(d.user),
      password: String(d.password ?? ''),
      ssl: d.ssl === 'disable' ? false : { rejectUnauthorized: false },
      connectionTimeoutMillis: 3000,
    });
    model.tests.push({ id: credential.id, ok: result.ok });
    if (result.ok) return HttpResponse.json({ status: 'OK', message: 'Connection successful!' });
    return HttpResponse.json({
      status: 'Error',
      message: result.rejected ? `password authentication failed for user "${String(d.user)}"` : 'Connection failed',
    });
  }

  model.handlers = [
    http.all(`${baseUrl}/*`, async ({ request }) => {
      const url = new URL(request.url);
      const method = request.method.toUpperCase();
      const response = await route(request, method, url.pathname);
      model.requests.push({ method, path: url.pathname + url.search, status: response.status });
      return response;
    }),
  ];
  return model;
}

/** jsonschema's messages for the schema toJsonSchema builds; `partial` drops `required`. */
function validate(schema: N8nTypeSchema | undefined, data: Record<string, unknown>, partial: boolean): string | undefined {
  const errors: string[] = [];
  const properties = schema?.properties ?? {};
  for (const key of Object.keys(data)) {
    if (!(key in properties)) errors.push(`is not allowed to have the additional property "${key}"`);
    else if (data[key] !== null && typeof data[key] !== properties[key]) errors.push(`.${key} is not of a type(s) ${properties[key]}`);
  }
  if (!partial) for (const key of schema?.required ?? []) if (!(key in data)) errors.push(`requires property "${key}"`);
  return errors.length ? errors.map((e) => `request.body.data ${e}`).join(',') : undefined;
}

export type N8nModel = ReturnType<typeof createN8nModel>;
