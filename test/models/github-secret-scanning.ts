import { HttpResponse } from 'msw';
import type { OpenApiChecker } from './openapi/validator.js';
import { errorResponse, type Permission, type Repo, type TokenPermissions } from './github.js';

/**
 * The secret-scanning part of the GitHub model: alerts of a repository and of an organization
 * (listed with GitHub's filters and pagination), one alert, and PATCH to resolve it. As GitHub
 * documents and answers it:
 *  - non-provider ("generic") types such as postgres_connection_string are listed only when asked
 *    for by `secret_type` (changelog 2024-08-06); `secret_type` is a comma-separated list;
 *  - `secret` holds the plaintext unless `hide_secret=true`;
 *  - a repository whose secret scanning is off answers 404 "Secret scanning is disabled on this
 *    repository."; a token without "Secret scanning alerts" permission 403 "Resource not accessible
 *    by integration" (GITHUB_TOKEN has no such permission);
 *  - `per_page` at most 100, a `Link` header with rel="next" and rel="last" while pages remain;
 *  - PATCH `state: resolved` needs a `resolution`; a comment on reopening is refused (422).
 */

/** Types GitHub lists only when asked for (its "non-provider patterns"). */
export const GENERIC_SECRET_TYPES = new Set([
  'postgres_connection_string',
  'mysql_connection_string',
  'mongodb_connection_string',
  'http_basic_authentication_header',
  'http_bearer_authentication_header',
  'rsa_private_key',
  'ec_private_key',
  'openssh_private_key',
  'pgp_private_key',
  'generic_private_key',
]);

export interface AlertSpec {
  secret_type: string;
  /** The plaintext GitHub found. Absent: GitHub shows none (the token may not see it). */
  secret?: string;
  state?: 'open' | 'resolved';
  resolution?: string | null;
}

export interface ModelAlert {
  number: number;
  repository: string;
  secret_type: string;
  secret?: string;
  state: 'open' | 'resolved';
  resolution: string | null;
  resolution_comment: string | null;
  resolved_at: string | null;
  created_at: string;
  updated_at: string | null;
}

const MAX_PER_PAGE = 100;

export function createSecretScanningModel(o: {
  baseUrl: string;
  now: () => Date;
  openapi: OpenApiChecker;
  allowed: (area: keyof TokenPermissions, need: Permission) => Response | undefined;
  repos: () => Repo[];
}) {
  const alerts = new Map<string, ModelAlert[]>();
  /** Repositories (lower-cased full names) whose secret scanning is off. */
  const disabled = new Set<string>();
  const stamp = () =>
    o
      .now()
      .toISOString()
      .replace(/\.\d+Z$/, 'Z');

  const model = {
    /** An alert GitHub raised in a repository; returns its number. */
    addAlert(repository: string, spec: AlertSpec): number {
      const key = repository.toLowerCase();
      const list = alerts.get(key) ?? [];
      alerts.set(key, list);
      const alert: ModelAlert = {
        number: list.length + 1,
        repository,
        secret_type: spec.secret_type,
        secret: spec.secret,
        state: spec.state ?? 'open',
        resolution: spec.resolution ?? null,
        resolution_comment: null,
        resolved_at: null,
        created_at: stamp(),
        updated_at: null,
      };
      list.push(alert);
      return alert.number;
    },
    alert(repository: string, number: number): ModelAlert | undefined {
      return alerts.get(repository.toLowerCase())?.find((a) => a.number === number);
    },
    alerts(repository: string): ModelAlert[] {
      return alerts.get(repository.toLowerCase()) ?? [];
    },
    /** Turns a repository's secret scanning off (or on again). */
    setEnabled(repository: string, enabled: boolean): void {
      if (enabled) disabled.delete(repository.toLowerCase());
      else disabled.add(repository.toLowerCase());
    },
    route,
    routeOrg,
  };

  const urlOf = (a: ModelAlert) => `${o.baseUrl}/repos/${a.repository}/secret-scanning/alerts/${a.number}`;
  const htmlUrlOf = (a: ModelAlert) => `https://github.com/${a.repository}/security/secret-scanning/${a.number}`;

  function view(a: ModelAlert, hide: boolean) {
    return {
      number: a.number,
      created_at: a.created_at,
      updated_at: a.updated_at,
      url: urlOf(a),
      html_url: htmlUrlOf(a),
      locations_url: `${urlOf(a)}/locations`,
      state: a.state,
      resolution: a.resolution,
      resolved_at: a.resolved_at,
      resolution_comment: a.resolution_comment,
      resolved_by: a.state === 'resolved' ? { login: 'credential-rotation[bot]', id: 1, type: 'Bot' } : null,
      secret_type: a.secret_type,
      secret_type_display_name: a.secret_type,
      validity: 'unknown' as const,
      ...(hide || a.secret === undefined ? {} : { secret: a.secret }),
    };
  }

  /** GitHub's list semantics: state, secret_type (generic types only when named), sort, direction, pages. */
  function list(all: ModelAlert[], query: URLSearchParams, pageUrl: string): { page: ModelAlert[]; link?: string } {
    const types = query
      .get('secret_type')
      ?.split(',')
      .map((t) => t.trim())
      .filter(Boolean);
    const state = query.get('state');
    let selected = all.filter(
      (a) => (types ? types.includes(a.secret_type) : !GENERIC_SECRET_TYPES.has(a.secret_type)) && (!state || a.state === state),
    );
    const byUpdated = query.get('sort') === 'updated';
    selected = [...selected].sort((a, b) => {
      const [x, y] = byUpdated ? [a.updated_at ?? a.created_at, b.updated_at ?? b.created_at] : [a.created_at, b.created_at];
      return x === y ? a.number - b.number : x.localeCompare(y);
    });
    if (query.get('direction') !== 'asc') selected.reverse();
    const perPage = Math.min(MAX_PER_PAGE, Number(query.get('per_page') ?? 30) || 30);
    const page = Math.max(1, Number(query.get('page') ?? 1) || 1);
    const last = Math.max(1, Math.ceil(selected.length / perPage));
    const at = (n: number) => {
      const q = new URLSearchParams(query);
      q.set('page', String(n));
      return `<${pageUrl}?${q.toString()}>`;
    };
    const link = page < last ? `${at(page + 1)}; rel="next", ${at(last)}; rel="last"` : undefined;
    return { page: selected.slice((page - 1) * perPage, page * perPage), link };
  }

  /** `GET|PATCH /repos/{owner}/{repo}/secret-scanning/alerts[/{number}]`; `rest` starts at "secret-scanning". */
  async function route(
    request: Request,
    method: string,
    repo: Repo,
    rest: string[],
    query: URLSearchParams,
  ): Promise<Response | undefined> {
    if (rest[1] !== 'alerts') return undefined;
    const denied = o.allowed('secret_scanning_alerts', method === 'PATCH' ? 'write' : 'read');
    if (denied) return denied;
    if (disabled.has(repo.full_name.toLowerCase())) return errorResponse(404, 'Secret scanning is disabled on this repository.');
    const mine = model.alerts(repo.full_name);
    const hide = query.get('hide_secret') === 'true';
    if (rest.length === 2 && method === 'GET') {
      const { page, link } = list(mine, query, `${o.baseUrl}/repos/${repo.full_name}/secret-scanning/alerts`);
      const body = o.openapi.complete(
        'secret-scanning/list-alerts-for-repo',
        200,
        page.map((a) => view(a, hide)),
      );
      return HttpResponse.json(body, { headers: link ? { link } : {} });
    }
    const alert = rest.length === 3 ? mine.find((a) => String(a.number) === rest[2]) : undefined;
    if (!alert) return errorResponse(404, 'Not Found');
    if (method === 'GET') return HttpResponse.json(o.openapi.complete('secret-scanning/get-alert', 200, view(alert, hide)));
    if (method !== 'PATCH') return undefined;
    let body: { state?: string; resolution?: string | null; resolution_comment?: string | null };
    try {
      body = (await request.json()) as typeof body;
    } catch {
      return errorResponse(400, 'Problems parsing JSON');
    }
    if (body.state === 'resolved' && !body.resolution) return errorResponse(422, 'A resolution is required when resolving an alert');
    if (body.state === 'open' && body.resolution_comment)
      return errorResponse(422, 'A resolution comment can only be given when resolving an alert');
    if (body.state === 'resolved') {
      Object.assign(alert, {
        state: 'resolved',
        resolution: body.resolution,
        resolution_comment: body.resolution_comment ?? null,
        resolved_at: stamp(),
      });
    } else if (body.state === 'open') {
      Object.assign(alert, { state: 'open', resolution: null, resolution_comment: null, resolved_at: null });
    }
    alert.updated_at = stamp();
    return HttpResponse.json(o.openapi.complete('secret-scanning/update-alert', 200, view(alert, false)));
  }

  /** `GET /orgs/{org}/secret-scanning/alerts`: the alerts of the organization's repositories where scanning is on. */
  function routeOrg(method: string, org: string, query: URLSearchParams): Response {
    if (method !== 'GET') return errorResponse(404, 'Not Found');
    const denied = o.allowed('secret_scanning_alerts', 'read');
    if (denied) return denied;
    const repos = o.repos().filter((r) => r.owner.toLowerCase() === org.toLowerCase() && !disabled.has(r.full_name.toLowerCase()));
    const all = repos.flatMap((r) => model.alerts(r.full_name));
    const { page, link } = list(all, query, `${o.baseUrl}/orgs/${org}/secret-scanning/alerts`);
    const hide = query.get('hide_secret') === 'true';
    const rows = page.map((a) => {
      const repo = repos.find((r) => r.full_name.toLowerCase() === a.repository.toLowerCase())!;
      return { ...view(a, hide), repository: { id: repo.id, name: repo.name, full_name: repo.full_name, owner: { login: repo.owner } } };
    });
    return HttpResponse.json(o.openapi.complete('secret-scanning/list-alerts-for-org', 200, rows), { headers: link ? { link } : {} });
  }

  return model;
}

export type SecretScanningModel = ReturnType<typeof createSecretScanningModel>;
