import { http, HttpResponse } from 'msw';

/**
 * An msw model of the n8n public API's credential calls (header X-N8N-API-KEY): GET one
 * credential's metadata (never its data), PATCH /api/v1/credentials/{id} with isPartialData
 * merging into the stored data (n8n PR #23431) or replacing it, 401 for a wrong key, 404 for an
 * unknown id, 400 for a data key the credential type does not have, and modes for older or broken
 * versions: `patchMissing` (405 "PATCH method not allowed", as before PR #23431 and on 2.39.5,
 * issue #38746) and `getMissing` (no GET of one credential: 405).
 */

export interface N8nCredentialSpec {
  id: string;
  name: string;
  type: string;
  data: Record<string, unknown>;
}
export interface N8nModelOptions {
  baseUrl?: string;
  apiKey: string;
  credentials?: N8nCredentialSpec[];
  /** Fields each credential type has (default: postgres and supabaseApi). */
  types?: Record<string, string[]>;
}

const TYPES: Record<string, string[]> = {
  postgres: ['host', 'database', 'user', 'password', 'port', 'ssl', 'allowUnauthorizedCerts'],
  supabaseApi: ['host', 'serviceRole'],
};

export function createN8nModel(options: N8nModelOptions) {
  const baseUrl = (options.baseUrl ?? 'https://n8n.example.com').replace(/\/+$/, '');
  const types = options.types ?? TYPES;
  const credentials = new Map((options.credentials ?? []).map((c) => [c.id, { ...c, data: { ...c.data }, updatedAt: '2026-01-01T00:00:00.000Z' }]));
  const model = {
    baseUrl,
    requests: [] as { method: string; path: string; status: number }[],
    patchMissing: false,
    getMissing: false,
    /** Answers the next PATCH with this status (5xx, 429). */
    failNextPatch: [] as number[],
    credentialData(id: string): Record<string, unknown> | undefined {
      return credentials.get(id)?.data;
    },
    handlers: [] as ReturnType<typeof http.all>[],
  };

  async function route(request: Request, method: string, path: string): Promise<Response> {
    if (!path.startsWith('/api/v1/')) return HttpResponse.json({ message: 'not found' }, { status: 404 });
    const key = request.headers.get('x-n8n-api-key');
    if (!key) return HttpResponse.json({ message: "'X-N8N-API-KEY' header required" }, { status: 401 });
    if (key !== options.apiKey) return HttpResponse.json({ message: 'unauthorized' }, { status: 401 });
    if (path === '/api/v1/workflows' && method === 'GET') return HttpResponse.json({ data: [], nextCursor: null });
    const match = /^\/api\/v1\/credentials\/([^/]+)$/.exec(path);
    if (!match) return HttpResponse.json({ message: 'not found' }, { status: 404 });
    if ((method === 'PATCH' && model.patchMissing) || (method === 'GET' && model.getMissing)) {
      return HttpResponse.json({ message: `${method} method not allowed` }, { status: 405 });
    }
    const credential = credentials.get(decodeURIComponent(match[1]));
    if (method === 'GET' || method === 'PATCH') {
      if (!credential) return HttpResponse.json({ message: 'Credential not found' }, { status: 404 });
      const meta = () => ({ id: credential.id, name: credential.name, type: credential.type, createdAt: '2026-01-01T00:00:00.000Z', updatedAt: credential.updatedAt });
      if (method === 'GET') return HttpResponse.json(meta());
      const status = model.failNextPatch.shift();
      if (status) return HttpResponse.json({ message: status === 429 ? 'Too Many Requests' : 'Internal Server Error' }, { status, headers: status === 429 ? { 'retry-after': '1' } : {} });
      const body = (await request.json().catch(() => undefined)) as { data?: unknown; isPartialData?: unknown } | undefined;
      if (!body || typeof body.data !== 'object' || body.data === null) return HttpResponse.json({ message: 'request/body/data must be object' }, { status: 400 });
      const allowed = types[credential.type] ?? [];
      const unknown = Object.keys(body.data).filter((k) => !allowed.includes(k));
      if (unknown.length) return HttpResponse.json({ message: `request.body.data is not allowed to have the additional property "${unknown[0]}"` }, { status: 400 });
      credential.data = body.isPartialData === true ? { ...credential.data, ...(body.data as object) } : { ...(body.data as object) };
      credential.updatedAt = new Date().toISOString();
      return HttpResponse.json(meta());
    }
    return HttpResponse.json({ message: `${method} method not allowed` }, { status: 405 });
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

export type N8nModel = ReturnType<typeof createN8nModel>;
