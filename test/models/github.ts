import { http, HttpResponse } from 'msw';
import sodium from 'libsodium-wrappers';
import { guarded, loadDescription, OpenApiChecker } from './openapi/validator.js';
import { createWorkflowModel, type WorkflowSpec, type WorkflowModel } from './github-actions.js';
import { createSecretScanningModel, type SecretScanningModel } from './github-secret-scanning.js';

/**
 * An msw model of the GitHub REST API parts the rotation uses: Actions secrets (repository,
 * environment, organization) and workflow dispatch/runs. It behaves like GitHub: token checks
 * (401), visibility (404), fine-grained permissions (403 "Resource not accessible by
 * integration"), validation (422), 201/204 on create/update, and a real libsodium key pair per
 * secret scope whose private key opens every sealed value it receives, so a test reads what
 * GitHub "stored". Faults (429 with Retry-After, 5xx, network errors) are injected per request.
 * Secret-scanning alerts are in github-secret-scanning.ts.
 */

export type Permission = 'none' | 'read' | 'write';
export interface TokenPermissions {
  metadata?: Permission;
  secrets?: Permission;
  environments?: Permission;
  organization_secrets?: Permission;
  actions?: Permission;
  /** "Secret scanning alerts" (read: list, write: resolve); GITHUB_TOKEN has none. */
  secret_scanning_alerts?: Permission;
}
export interface RepoSpec {
  /** owner/name */
  full_name: string;
  id?: number;
  environments?: string[];
  /** Refs a workflow may be dispatched on (default ['main']). */
  branches?: string[];
  workflows?: WorkflowSpec[];
}
export interface GitHubModelOptions {
  baseUrl?: string;
  /** The one token GitHub accepts; any other gets 401 Bad credentials. */
  token: string;
  repos?: RepoSpec[];
  orgs?: string[];
  /** What the token may do (default: write on everything). */
  permissions?: TokenPermissions;
  /** GitHub's clock, for created_at of runs and secrets (default: the real clock). */
  now?: () => Date;
  /**
   * How the dispatch API treats `return_run_details: true`: true answers 200 with the run id
   * (github.com); false ignores it and answers 204; 'rejects-key' refuses it with 422 like a
   * server that predates it and validates keys.
   */
  dispatchReturnsRunDetails?: boolean | 'rejects-key';
}
export interface SecretRef {
  repository?: string;
  environment?: string;
  organization?: string;
  name: string;
}
export interface StoredSecret {
  value: string;
  created_at: string;
  updated_at: string;
  visibility?: string;
  selected_repository_ids?: number[];
}
export interface LoggedRequest {
  method: string;
  /** Path and query, as sent (no body, no headers). */
  path: string;
  status: number;
}
export type RequestMatcher = { method?: string; path?: string | RegExp } | ((req: { method: string; path: string }) => boolean);
export type Fault = { status: number; headers?: Record<string, string>; message?: string } | 'network';

export interface Repo {
  id: number;
  full_name: string;
  owner: string;
  name: string;
  environments: string[];
  branches: string[];
}

const DOCS = 'https://docs.github.com/rest';
const PERMISSION_ORDER: Permission[] = ['none', 'read', 'write'];

export function errorResponse(status: number, message: string, headers?: Record<string, string>): Response {
  return HttpResponse.json({ message, documentation_url: DOCS, status: String(status) }, { status, headers });
}

export function createGitHubModel(options: GitHubModelOptions) {
  const baseUrl = (options.baseUrl ?? 'https://api.github.com').replace(/\/+$/, '');
  const basePath = new URL(baseUrl).pathname.replace(/\/+$/, '');
  const now = options.now ?? (() => new Date());
  let nextRepoId = 1000;
  const repos = new Map<string, Repo>();
  for (const spec of options.repos ?? []) {
    const [owner, name] = spec.full_name.split('/');
    repos.set(spec.full_name.toLowerCase(), {
      id: spec.id ?? nextRepoId++,
      full_name: spec.full_name,
      owner,
      name,
      environments: spec.environments ?? [],
      branches: spec.branches ?? ['main'],
    });
  }
  const orgs = new Set((options.orgs ?? []).map((o) => o.toLowerCase()));
  const keys = new Map<string, { key_id: string; publicKey: Uint8Array; privateKey: Uint8Array }>();
  const secrets = new Map<string, Map<string, StoredSecret>>();
  const requests: LoggedRequest[] = [];
  const faults: { matcher: RequestMatcher; fault: Fault; times: number }[] = [];

  // GitHub's description declares only the success answers of most operations; its REST docs
  // ("Troubleshooting the REST API", "Rate limits") say every endpoint may answer these errors.
  const openapi = new OpenApiChecker('github', loadDescription('github.json'), {
    generic: {
      400: 'Problems parsing JSON',
      401: 'Bad credentials',
      403: 'forbidden / secondary rate limit',
      404: 'Not Found',
      409: 'Conflict',
      422: 'Validation failed',
      429: 'rate limit',
      500: 'server error',
      502: 'bad gateway',
      503: 'unavailable',
    },
    errorSchema: '#/components/schemas/basic-error',
  });
  const model = {
    baseUrl,
    openapi,
    permissions: {
      metadata: 'read',
      secrets: 'write',
      environments: 'write',
      organization_secrets: 'write',
      actions: 'write',
      secret_scanning_alerts: 'write',
      ...options.permissions,
    } as Required<TokenPermissions>,
    requests,
    /** Makes the next `times` requests that match fail with the given fault. */
    failNext(matcher: RequestMatcher, fault: Fault, times = 1): void {
      faults.push({ matcher, fault, times });
    },
    /** The outage is over: pending faults are dropped. */
    clearFaults(): void {
      faults.length = 0;
    },
    /** The decrypted value GitHub holds for a secret, or undefined. */
    secretValue(ref: SecretRef): string | undefined {
      return model.secret(ref)?.value;
    },
    secret(ref: SecretRef): StoredSecret | undefined {
      return secrets.get(scopeOf(ref))?.get(ref.name.toUpperCase());
    },
    /** How many requests matched. */
    count(matcher: RequestMatcher): number {
      return requests.filter((r) => matches(matcher, r)).length;
    },
    /** Replaces a scope's key pair, as GitHub does from time to time. */
    rotateKey(ref: Omit<SecretRef, 'name'>): void {
      keys.delete(scopeOf({ ...ref, name: '' }));
    },
    repo(fullName: string): Repo | undefined {
      return repos.get(fullName.toLowerCase());
    },
    workflows: undefined as unknown as WorkflowModel,
    secretScanning: undefined as unknown as SecretScanningModel,
    handlers: [] as ReturnType<typeof http.all>[],
  };
  const workflows = createWorkflowModel({
    baseUrl,
    now,
    openapi,
    specs: options.repos ?? [],
    dispatchReturnsRunDetails: options.dispatchReturnsRunDetails ?? true,
    allowed,
    repo: (o, r) => repos.get(`${o}/${r}`.toLowerCase()),
  });
  model.workflows = workflows;
  const secretScanning = createSecretScanningModel({ baseUrl, now, openapi, allowed, repos: () => [...repos.values()] });
  model.secretScanning = secretScanning;

  function allowed(area: keyof TokenPermissions, need: Permission): Response | undefined {
    const has = model.permissions[area] ?? 'none';
    return PERMISSION_ORDER.indexOf(has) >= PERMISSION_ORDER.indexOf(need)
      ? undefined
      : errorResponse(403, 'Resource not accessible by integration');
  }

  const publicKey = (pair: { key_id: string; publicKey: Uint8Array }) => ({
    key_id: pair.key_id,
    key: sodium.to_base64(pair.publicKey, sodium.base64_variants.ORIGINAL),
  });

  async function keyFor(scope: string) {
    await sodium.ready;
    let pair = keys.get(scope);
    if (!pair) {
      const { publicKey, privateKey } = sodium.crypto_box_keypair();
      const key_id = String(Math.floor(1e17 + Math.random() * 9e17));
      keys.set(scope, (pair = { key_id, publicKey, privateKey }));
    }
    return pair;
  }

  async function putSecret(request: Request, scope: string, name: string, org?: string): Promise<Response> {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) || /^GITHUB_/i.test(name)) {
      return errorResponse(
        422,
        'Secret names can only contain alphanumeric characters ([a-z], [A-Z], [0-9]) or underscores (_), must not start with a number or GITHUB_',
      );
    }
    let body: { encrypted_value?: unknown; key_id?: unknown; visibility?: unknown; selected_repository_ids?: unknown };
    try {
      body = (await request.json()) as typeof body;
    } catch {
      return errorResponse(400, 'Problems parsing JSON');
    }
    if (typeof body.encrypted_value !== 'string' || typeof body.key_id !== 'string')
      return errorResponse(422, 'Invalid request. "encrypted_value" and "key_id" are required.');
    if (org && !['all', 'private', 'selected'].includes(body.visibility as string))
      return errorResponse(422, 'Invalid request. "visibility" must be one of all, private, selected.');
    const pair = await keyFor(scope);
    if (body.key_id !== pair.key_id) return errorResponse(422, 'Bad request - key_id does not match the current public key');
    let value: string;
    try {
      const sealed = sodium.from_base64(body.encrypted_value, sodium.base64_variants.ORIGINAL);
      value = sodium.to_string(sodium.crypto_box_seal_open(sealed, pair.publicKey, pair.privateKey));
    } catch {
      return errorResponse(422, 'Bad request - encrypted_value could not be decrypted with the key');
    }
    let ids: number[] | undefined;
    if (org && body.visibility === 'selected') {
      const orgIds = [...repos.values()].filter((r) => r.owner.toLowerCase() === org).map((r) => r.id);
      if (!Array.isArray(body.selected_repository_ids) || !body.selected_repository_ids.every((id) => orgIds.includes(id as number))) {
        return errorResponse(422, 'Invalid request. "selected_repository_ids" must be ids of repositories in the organization.');
      }
      ids = body.selected_repository_ids as number[];
    }
    let scoped = secrets.get(scope);
    if (!scoped) secrets.set(scope, (scoped = new Map()));
    const upper = name.toUpperCase();
    const existing = scoped.get(upper);
    const stamp = now()
      .toISOString()
      .replace(/\.\d+Z$/, 'Z');
    scoped.set(upper, {
      value,
      created_at: existing?.created_at ?? stamp,
      updated_at: stamp,
      ...(org ? { visibility: body.visibility as string, selected_repository_ids: ids } : {}),
    });
    // 201 carries an empty JSON object (`empty-object` in the description), 204 nothing.
    return existing ? new HttpResponse(null, { status: 204 }) : HttpResponse.json({}, { status: 201 });
  }

  /**
   * GET …/secrets/{name}: the secret's metadata, never its value (actions-secret in GitHub's REST
   * description: name, created_at, updated_at; an organization secret adds visibility and
   * selected_repositories_url).
   */
  function secretMetadata(scope: string, name: string, org?: string): Response {
    const held = secrets.get(scope)?.get(name.toUpperCase());
    if (!held) return errorResponse(404, 'Not Found');
    const meta = { name: name.toUpperCase(), created_at: held.created_at, updated_at: held.updated_at };
    if (!org) return HttpResponse.json(meta);
    return HttpResponse.json({
      ...meta,
      visibility: held.visibility,
      ...(held.visibility === 'selected'
        ? { selected_repositories_url: `${baseUrl}/orgs/${org}/actions/secrets/${name.toUpperCase()}/repositories` }
        : {}),
    });
  }

  async function route(request: Request, method: string, path: string): Promise<Response> {
    const auth = request.headers.get('authorization') ?? '';
    if (auth.replace(/^(token|bearer)\s+/i, '') !== options.token) return errorResponse(401, 'Bad credentials');
    const seg = path
      .split('/')
      .slice(1)
      .map((s) => decodeURIComponent(s));
    if (seg[0] === 'orgs' && seg[2] === 'actions' && seg[3] === 'secrets' && seg.length === 5) {
      const org = seg[1].toLowerCase();
      if (!orgs.has(org)) return errorResponse(404, 'Not Found');
      const scope = scopeOf({ organization: org, name: '' });
      if (seg[4] === 'public-key' && method === 'GET') {
        const denied = allowed('organization_secrets', 'read');
        if (denied) return denied;
        const pair = await keyFor(scope);
        return HttpResponse.json(publicKey(pair));
      }
      if (method === 'PUT') return allowed('organization_secrets', 'write') ?? putSecret(request, scope, seg[4], org);
      if (method === 'GET') return allowed('organization_secrets', 'read') ?? secretMetadata(scope, seg[4], org);
    }
    if (seg[0] === 'orgs' && seg[2] === 'secret-scanning' && seg[3] === 'alerts' && seg.length === 4) {
      return orgs.has(seg[1].toLowerCase())
        ? secretScanning.routeOrg(method, seg[1], new URL(request.url).searchParams)
        : errorResponse(404, 'Not Found');
    }
    if (seg[0] !== 'repos' || seg.length < 3) return errorResponse(404, 'Not Found');
    const repo = repos.get(`${seg[1]}/${seg[2]}`.toLowerCase());
    if (!repo) return errorResponse(404, 'Not Found');
    const rest = seg.slice(3);
    if (rest.length === 0 && method === 'GET') {
      return (
        allowed('metadata', 'read') ??
        HttpResponse.json(
          openapi.complete('repos/get', 200, {
            id: repo.id,
            name: repo.name,
            full_name: repo.full_name,
            owner: { login: repo.owner },
            private: true,
          }),
        )
      );
    }
    if (rest[0] === 'actions' && rest[1] === 'secrets' && rest.length === 3) {
      const scope = scopeOf({ repository: repo.full_name, name: '' });
      if (rest[2] === 'public-key' && method === 'GET') {
        const denied = allowed('secrets', 'read');
        if (denied) return denied;
        const pair = await keyFor(scope);
        return HttpResponse.json(publicKey(pair));
      }
      if (method === 'PUT') return allowed('secrets', 'write') ?? putSecret(request, scope, rest[2]);
      if (method === 'GET') return allowed('secrets', 'read') ?? secretMetadata(scope, rest[2]);
    }
    if (rest[0] === 'environments' && rest[2] === 'secrets' && rest.length === 4) {
      if (!repo.environments.includes(rest[1])) return errorResponse(404, 'Not Found');
      const scope = scopeOf({ repository: repo.full_name, environment: rest[1], name: '' });
      if (rest[3] === 'public-key' && method === 'GET') {
        const denied = allowed('environments', 'read') ?? allowed('secrets', 'read');
        if (denied) return denied;
        const pair = await keyFor(scope);
        return HttpResponse.json(publicKey(pair));
      }
      if (method === 'PUT') return allowed('environments', 'write') ?? allowed('secrets', 'write') ?? putSecret(request, scope, rest[3]);
      if (method === 'GET') return allowed('environments', 'read') ?? allowed('secrets', 'read') ?? secretMetadata(scope, rest[3]);
    }
    if (rest[0] === 'secret-scanning') {
      const handled = await secretScanning.route(request, method, repo, rest, new URL(request.url).searchParams);
      if (handled) return handled;
    }
    if (rest[0] === 'actions') {
      const handled = await workflows.route(request, method, repo, rest.slice(1), new URL(request.url).searchParams);
      if (handled) return handled;
    }
    return errorResponse(404, 'Not Found');
  }

  /** An answer: an injected fault, or the route. */
  async function answer(request: Request, method: string, fullPath: string, entry: { method: string; path: string }): Promise<Response> {
    const fault = faults.find((f) => f.times > 0 && matches(f.matcher, entry));
    if (fault) {
      fault.times--;
      if (fault.fault === 'network') return HttpResponse.error();
      return errorResponse(fault.fault.status, fault.fault.message ?? defaultMessage(fault.fault.status), fault.fault.headers);
    }
    return route(request, method, fullPath);
  }

  model.handlers = [
    http.all(`${baseUrl}/*`, async ({ request }) => {
      const url = new URL(request.url);
      const method = request.method.toUpperCase();
      const fullPath = url.pathname.slice(basePath.length) || '/';
      const entry = { method, path: fullPath + url.search };
      // GitHub answers 422 "Invalid request." to a body or parameter its schema refuses, 404 to an unknown route.
      const response = await guarded(
        openapi,
        request,
        fullPath,
        () => answer(request, method, fullPath, entry),
        (status, message) => errorResponse(status, status === 404 ? 'Not Found' : `Invalid request.\n\n${message}`),
      );
      requests.push({ ...entry, status: response.type === 'error' ? 0 : response.status });
      return response;
    }),
  ];
  return model;
}

export type GitHubModel = ReturnType<typeof createGitHubModel>;

function scopeOf(ref: SecretRef): string {
  if (ref.organization) return `org ${ref.organization.toLowerCase()}`;
  if (!ref.repository) throw new Error('a secret ref needs repository or organization');
  const repo = ref.repository.toLowerCase();
  return ref.environment ? `env ${repo} ${ref.environment}` : `repo ${repo}`;
}

function matches(matcher: RequestMatcher, req: { method: string; path: string }): boolean {
  if (typeof matcher === 'function') return matcher(req);
  if (matcher.method && matcher.method.toUpperCase() !== req.method) return false;
  if (matcher.path === undefined) return true;
  const path = req.path.split('?')[0];
  return typeof matcher.path === 'string' ? path === matcher.path : matcher.path.test(path);
}

function defaultMessage(status: number): string {
  if (status === 429) return 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.';
  if (status >= 500) return 'Server Error';
  return 'Error';
}
