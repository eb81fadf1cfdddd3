import { randomBytes } from 'node:crypto';
import { http, HttpResponse } from 'msw';
import { connectionConfig, tryLogin } from '../../src/postgres/connect.js';
import { Secret } from '../../src/secret/secret.js';

/**
 * An msw model of the Apache Superset REST API parts the datasource consumer uses, after
 * Superset's published description (/work/shared/reference/openapi/superset.json) and code:
 * JWT login (401 "Not authorized"), CSRF token whose session cookie must come back on every write
 * with X-CSRFToken (Flask-WTF's 400 "The CSRF session token is missing." otherwise), the
 * Database API's permissions (`GET /api/v1/database/_info?q=(keys:!(permissions))`), database
 * connections whose SQLAlchemy URI is shown only by `GET …/{pk}/connection` (since 3.0; `GET
 * …/{pk}` holds no sqlalchemy_uri), the password masked as ten X (sending the mask back keeps the
 * stored password), a PUT that pings the database with the new URI and rolls back with 422 when
 * it cannot connect, and a test_connection that really logs in to Postgres and answers 400 in
 * Superset's error shape when it cannot (422 in older releases: `testFailureStatus`). Version
 * '2.1' models a release before 3.0: no /connection route, GET …/{pk} shows the masked URI.
 * GET /health answers "OK".
 */

export const MASK = 'XXXXXXXXXX';

export interface SupersetDatabaseSpec {
  id: number;
  database_name: string;
  sqlalchemy_uri: string;
}
export interface SupersetModelOptions {
  baseUrl?: string;
  /** username → password of Superset database users. */
  users: Record<string, string>;
  databases?: SupersetDatabaseSpec[];
  /** Users whose role may read but not write database connections (can_read only). */
  readOnlyUsers?: string[];
  /** 'current' (3.0 and later) or '2.1' (before GET …/{pk}/connection existed). */
  version?: 'current' | '2.1';
  /** The status of a failed connection test: 400 in current Superset, 422 in older releases. */
  testFailureStatus?: 400 | 422;
}
export interface LoggedRequest {
  method: string;
  path: string;
  status: number;
}

export function createSupersetModel(options: SupersetModelOptions) {
  const baseUrl = (options.baseUrl ?? 'https://superset.example.com').replace(/\/+$/, '');
  const databases = new Map((options.databases ?? []).map((d) => [d.id, { ...d }]));
  const tokens = new Map<string, string>();
  /** session cookie → CSRF token, as Flask keeps it in the signed session. */
  const sessions = new Map<string, string>();
  const requests: LoggedRequest[] = [];
  const faults: { path: RegExp; status: number; times: number }[] = [];

  const version = options.version ?? 'current';
  const model = {
    baseUrl,
    requests,
    /** Superset's workers cannot reach the database (a network partition): every ping fails. */
    databaseUnreachable: false,
    /** PUTs refused because Superset could not connect with the new URI. */
    refusedPuts: 0,
    /** Connection tests run, with their outcome. */
    connectionTests: [] as { database_name: string; ok: boolean }[],
    /** A proxy in front of Superset that drops Set-Cookie. */
    stripSetCookie: false,
    /** 'OK', or a failing health answer. */
    health: { status: 200, body: 'OK' },
    /** The URI Superset stores for a database (with the real password). */
    storedUri(id: number): string | undefined {
      return databases.get(id)?.sqlalchemy_uri;
    },
    /** Workers without a shared SECRET_KEY: the worker that takes a write never knew the session. */
    loseSessions: false,
    failNext(path: RegExp, status: number, times = 1): void {
      faults.push({ path, status, times });
    },
    handlers: [] as ReturnType<typeof http.all>[],
  };

  const bearer = (request: Request): string | undefined =>
    tokens.get((request.headers.get('authorization') ?? '').replace(/^Bearer\s+/i, ''));

  /** Flask-WTF's checks, in its order, with Superset's JSON error shape for /api/. */
  function csrfRefusal(request: Request): Response | undefined {
    const token = request.headers.get('x-csrftoken');
    if (!token) return csrfError('The CSRF token is missing.');
    const cookie = /(?:^|;\s*)session=([^;]+)/.exec(request.headers.get('cookie') ?? '')?.[1];
    const expected = cookie ? sessions.get(cookie) : undefined;
    if (!expected) return csrfError('The CSRF session token is missing.');
    if (expected !== token) return csrfError('The CSRF tokens do not match.');
    if (baseUrl.startsWith('https:') && !(request.headers.get('referer') ?? '').startsWith(`${baseUrl}/`))
      return csrfError('The referrer header is missing.');
    return undefined;
  }

  async function route(request: Request, method: string, path: string): Promise<Response> {
    if (path === '/health' && method === 'GET')
      return new HttpResponse(model.health.body, { status: model.health.status, headers: { 'content-type': 'text/plain' } });
    if (path === '/api/v1/security/login' && method === 'POST') {
      const body = (await request.json().catch(() => ({}))) as Record<string, unknown>;
      if (body.provider !== 'db' && body.provider !== 'ldap')
        return HttpResponse.json({ message: { provider: ['Must be one of: db, ldap.'] } }, { status: 400 });
      const user = String(body.username ?? '');
      if (!(user in options.users) || options.users[user] !== body.password)
        return HttpResponse.json({ message: 'Not authorized' }, { status: 401 });
      const access = randomBytes(24).toString('base64url');
      tokens.set(access, user);
      return HttpResponse.json({ access_token: access, refresh_token: randomBytes(24).toString('base64url') });
    }
    const user = bearer(request);
    if (!user) return HttpResponse.json({ msg: 'Missing Authorization Header' }, { status: 401 });
    if (path === '/api/v1/database/_info' && method === 'GET') {
      const permissions = (options.readOnlyUsers ?? []).includes(user)
        ? ['can_read']
        : ['can_read', 'can_write', 'can_export', 'can_upload'];
      return HttpResponse.json({ permissions });
    }
    if (path === '/api/v1/security/csrf_token/' && method === 'GET') {
      const session = randomBytes(18).toString('base64url');
      const token = randomBytes(20).toString('hex');
      if (!model.loseSessions) sessions.set(session, token);
      const headers = new Headers({ 'content-type': 'application/json' });
      if (!model.stripSetCookie) headers.append('set-cookie', `session=${session}; HttpOnly; Path=/; SameSite=Lax`);
      return new HttpResponse(JSON.stringify({ result: token }), { status: 200, headers });
    }
    if (method !== 'GET') {
      const refused = csrfRefusal(request);
      if (refused) return refused;
    }
    const connection = /^\/api\/v1\/database\/(\d+)\/connection$/.exec(path);
    if (connection && method === 'GET' && version !== '2.1') {
      const entry = databases.get(Number(connection[1]));
      if (!entry) return HttpResponse.json({ message: 'Not found' }, { status: 404 });
      return HttpResponse.json({ id: entry.id, result: show(entry) });
    }
    const db = /^\/api\/v1\/database\/(\d+)$/.exec(path);
    if (db) {
      const entry = databases.get(Number(db[1]));
      if (!entry) return HttpResponse.json({ message: 'Not found' }, { status: 404 });
      if (method === 'GET') {
        const { sqlalchemy_uri, ...rest } = show(entry);
        return HttpResponse.json({ id: entry.id, result: version === '2.1' ? { ...rest, sqlalchemy_uri } : rest });
      }
      if (method === 'PUT') {
        if ((options.readOnlyUsers ?? []).includes(user)) return HttpResponse.json({ message: 'Forbidden' }, { status: 403 });
        const body = (await request.json().catch(() => ({}))) as { sqlalchemy_uri?: unknown };
        const unknown = unknownFields(body, PUT_FIELDS);
        if (unknown) return unknown;
        if (body.sqlalchemy_uri !== undefined) {
          const uri = parseUri(body.sqlalchemy_uri);
          if (!uri)
            return HttpResponse.json(
              {
                message: {
                  sqlalchemy_uri: [
                    'Invalid connection string, a valid string usually follows: backend+driver://user:password@database-host/database-name',
                  ],
                },
              },
              { status: 422 },
            );
          if (decodeURIComponent(uri.password) === MASK) uri.password = parseUri(entry.sqlalchemy_uri)?.password ?? '';
          // As UpdateDatabaseCommand does: ping with the new URI; a failure rolls back with 422.
          if (!(await logsIn(uri)).ok) {
            model.refusedPuts++;
            return HttpResponse.json({ message: 'Connection failed, please check your connection settings' }, { status: 422 });
          }
          entry.sqlalchemy_uri = uri.toString();
        }
        const { sqlalchemy_uri: _hidden, ...shown } = show(entry);
        return HttpResponse.json({ id: entry.id, result: shown });
      }
    }
    if (path === '/api/v1/database/test_connection/' && method === 'POST') return testConnection(request);
    return HttpResponse.json({ message: 'Not found' }, { status: 404 });
  }

  async function testConnection(request: Request): Promise<Response> {
    const body = (await request.json().catch(() => ({}))) as { sqlalchemy_uri?: unknown; database_name?: unknown };
    const unknown = unknownFields(body, TEST_FIELDS);
    if (unknown) return unknown;
    if (typeof body.sqlalchemy_uri !== 'string')
      return HttpResponse.json({ message: { sqlalchemy_uri: ['Missing data for required field.'] } }, { status: 400 });
    const name = String(body.database_name ?? '');
    let uri = parseUri(body.sqlalchemy_uri);
    if (!uri) return HttpResponse.json({ message: { sqlalchemy_uri: ['Invalid connection string'] } }, { status: 400 });
    // As Superset does: the masked URI of an existing connection means "its stored password".
    const existing = [...databases.values()].find((d) => d.database_name === name);
    if (existing && body.sqlalchemy_uri === show(existing).sqlalchemy_uri) uri = parseUri(existing.sqlalchemy_uri)!;
    const result = await logsIn(uri);
    model.connectionTests.push({ database_name: name, ok: result.ok });
    if (result.ok) return HttpResponse.json({ message: 'OK' });
    const error = result.rejected
      ? {
          message: `The password provided for username "${decodeURIComponent(uri.username)}" is incorrect.`,
          error_type: 'CONNECTION_INVALID_PASSWORD_ERROR',
          code: 1013,
          issue: 'Issue 1013 - The password provided when connecting to a database is not valid.',
        }
      : {
          message: 'Connection failed, please check your connection settings',
          error_type: 'GENERIC_DB_ENGINE_ERROR',
          code: 1002,
          issue: 'Issue 1002 - The database returned an unexpected error.',
        };
    return HttpResponse.json(
      {
        errors: [
          {
            message: error.message,
            error_type: error.error_type,
            level: 'error',
            extra: { engine_name: 'PostgreSQL', issue_codes: [{ code: error.code, message: error.issue }] },
          },
        ],
      },
      { status: options.testFailureStatus ?? 400 },
    );
  }

  model.handlers = [
    http.all(`${baseUrl}/*`, async ({ request }) => {
      const url = new URL(request.url);
      const method = request.method.toUpperCase();
      const fault = faults.find((f) => f.times > 0 && f.path.test(url.pathname));
      let response: Response;
      if (fault) {
        fault.times--;
        response = HttpResponse.json(
          { message: fault.status === 429 ? 'Too Many Requests' : 'Internal Server Error' },
          { status: fault.status, headers: fault.status === 429 ? { 'retry-after': '1' } : {} },
        );
      } else {
        response = await route(request, method, url.pathname);
      }
      requests.push({ method, path: url.pathname, status: response.status });
      return response;
    }),
  ];

  /** A real Postgres login with the URI's credentials, as SQLAlchemy's engine would make. */
  async function logsIn(uri: URL) {
    if (model.databaseUnreachable)
      return { ok: false as const, rejected: false, message: 'could not connect to server: Connection timed out' };
    return pgLogin(uri);
  }

  return model;
}

export type SupersetModel = ReturnType<typeof createSupersetModel>;

function csrfError(reason: string): Response {
  return HttpResponse.json(
    { errors: [{ message: `400 Bad Request: ${reason}`, error_type: 'GENERIC_BACKEND_ERROR', level: 'error', extra: {} }] },
    { status: 400 },
  );
}

function pgLogin(uri: URL) {
  const pgUrl = new URL(uri.toString());
  pgUrl.protocol = 'postgresql:';
  return tryLogin({ ...connectionConfig(new Secret(pgUrl.toString())), connectionTimeoutMillis: 3000 });
}

/** The request schemas' fields (superset.json: DatabaseRestApi.put, DatabaseTestConnectionSchema). */
const TEST_FIELDS = [
  'configuration_method',
  'database_name',
  'driver',
  'engine',
  'extra',
  'impersonate_user',
  'masked_encrypted_extra',
  'parameters',
  'server_cert',
  'sqlalchemy_uri',
  'ssh_tunnel',
];
const PUT_FIELDS = [
  ...TEST_FIELDS,
  'allow_ctas',
  'allow_cvas',
  'allow_dml',
  'allow_file_upload',
  'allow_run_async',
  'cache_timeout',
  'expose_in_sqllab',
  'external_url',
  'force_ctas_schema',
  'is_managed_externally',
  'uuid',
];

/** Marshmallow's answer to a field the schema does not declare. */
function unknownFields(body: object, fields: string[]): Response | undefined {
  const extra = Object.keys(body).filter((k) => !fields.includes(k));
  return extra.length
    ? HttpResponse.json({ message: Object.fromEntries(extra.map((k) => [k, ['Unknown field.']])) }, { status: 400 })
    : undefined;
}

function parseUri(value: unknown): URL | undefined {
  if (typeof value !== 'string') return undefined;
  try {
    const url = new URL(value);
    return /^postgres(ql)?(\+\w+)?:$/.test(url.protocol) && url.hostname ? url : undefined;
  } catch {
    return undefined;
  }
}

/** A connection as the API shows it: the password masked. */
function show(entry: SupersetDatabaseSpec) {
  const uri = parseUri(entry.sqlalchemy_uri)!;
  if (uri.password) uri.password = MASK;
  return { id: entry.id, database_name: entry.database_name, backend: 'postgresql', sqlalchemy_uri: uri.toString() };
}
