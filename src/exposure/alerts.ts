import type { Octokit } from '@octokit/rest';
import { describeError } from '../errors/errors.js';
import { githubCall } from '../github/errors.js';
import { HttpError, statusOf } from '../http/http-error.js';
import { RateWindow } from '../http/rate-window.js';
import type { Runtime } from '../runtime/runtime.js';
import type { ExposurePolicy } from '../policy/types.js';
import { Secret } from '../secret/secret.js';

/** An open secret-scanning alert as the run keeps it: the secret masked the moment it was read. */
export interface Alert {
  /** owner/name */
  repository: string;
  number: number;
  /** The alert's page on GitHub (html_url). */
  url: string;
  secretType: string;
  /** Undefined when GitHub showed none (hidden, or the token may not see it). */
  secret?: Secret;
}

/** A repository or organization whose alerts could not be read. */
export interface SourceProblem {
  source: string;
  message: string;
  /**
   * `permission`: the token cannot read it (403, 404, 401): no rotation may start. `disabled`: its
   * secret scanning is off (named; the others go on). `error`: it failed otherwise (5xx, network).
   */
  kind: 'permission' | 'disabled' | 'error';
}

const PERMISSION =
  'the token needs the permission "Secret scanning alerts: read and write" (a GitHub App installation token or a fine-grained token; the workflow\'s GITHUB_TOKEN cannot have it)';
/** GitHub caps per_page at 100: fewer requests for a flood of alerts. */
const PER_PAGE = 100;
/**
 * Alert updates a minute, at most: GitHub allows 80 content-creating requests a minute, and the
 * rotations between them write secrets too.
 */
export const UPDATES_PER_MINUTE = 60;
/** The pace of a run's alert updates (one per run, shared by every credential's response). */
export const updatePace = (runtime: Runtime) =>
  new RateWindow(UPDATES_PER_MINUTE, 60_000, { now: () => runtime.now().getTime(), sleep: runtime.sleep });
/** A bound on pages per source (10 000 alerts): a server that never stops paging cannot hold the run. */
const MAX_PAGES = 100;

/**
 * Every open alert of the policy's repositories and organizations, page by page, asking for the
 * secret types explicitly (GitHub returns non-provider types such as postgres_connection_string
 * only when asked). One request at a time, each through the shared retry (githubCall): 429 and a
 * rate-limited 403 wait what Retry-After or x-ratelimit-reset asks. An alert seen through both its
 * repository and its organization is kept once.
 */
export async function readOpenAlerts(
  exposure: ExposurePolicy,
  octokit: Octokit,
  runtime: Runtime,
): Promise<{ alerts: Alert[]; problems: SourceProblem[] }> {
  const alerts = new Map<string, Alert>();
  const problems: SourceProblem[] = [];
  for (const source of alertSources(exposure, octokit)) {
    const { found, problem } = await readPages(runtime, source);
    // The pages read before a failure are handled all the same; the next run reads the rest.
    for (const alert of found) alerts.set(`${alert.repository.toLowerCase()}#${alert.number}`, alert);
    if (problem) problems.push(problem);
  }
  return { alerts: [...alerts.values()], problems };
}

/** One list of alerts: a repository's or an organization's. */
interface AlertSource {
  /** How a problem names it: `owner/name` or `organization <org>`. */
  name: string;
  what: string;
  hints: Record<number, string>;
  /** The repository every alert of the list belongs to (an organization's alerts say their own). */
  repository?: string;
  list: (page: number) => Promise<{ data: RawAlert[]; headers: { link?: string } }>;
}

/** The policy's repositories, then its organizations, asking for the policy's secret types explicitly. */
function alertSources(exposure: ExposurePolicy, octokit: Octokit): AlertSource[] {
  const query = { state: 'open' as const, secret_type: exposure.secretTypes.join(','), per_page: PER_PAGE };
  const repositories = exposure.repositories.map((full): AlertSource => {
    const [owner, repo] = full.split('/');
    return {
      name: full,
      what: `GitHub: list secret-scanning alerts of ${full}`,
      hints: { 403: `${PERMISSION} on ${full}`, 404: `${full} does not exist or the token cannot see it; ${PERMISSION} on ${full}` },
      repository: full,
      list: (page) => octokit.rest.secretScanning.listAlertsForRepo({ owner, repo, ...query, page }),
    };
  });
  const organizations = exposure.organizations.map((org): AlertSource => ({
    name: `organization ${org}`,
    what: `GitHub: list secret-scanning alerts of organization ${org}`,
    hints: {
      403: `${PERMISSION} on the organization's repositories (a user token also needs to be an organization owner or security manager)`,
      404: `organization ${org} does not exist or the token cannot see it; ${PERMISSION}`,
    },
    list: (page) => octokit.rest.secretScanning.listAlertsForOrg({ org, ...query, page }),
  }));
  return [...repositories, ...organizations];
}

interface RawAlert {
  number?: number;
  html_url?: string;
  secret_type?: string;
  secret?: string;
  repository?: { full_name?: string };
}

/**
 * Follows the pages of one list until GitHub's Link header has no rel="next". A failure ends the
 * list: what was read before it is returned with the problem.
 */
async function readPages(runtime: Runtime, source: AlertSource): Promise<{ found: Alert[]; problem?: SourceProblem }> {
  const found: Alert[] = [];
  try {
    for (let page = 1; page <= MAX_PAGES; page++) {
      const response = await githubCall(runtime, `${source.what} (page ${page})`, () => source.list(page), source.hints);
      for (const raw of response.data) found.push(toAlert(raw, source.repository, runtime));
      if (!/rel="next"/.test(response.headers.link ?? '')) return { found };
    }
    runtime.reporter.warning(`${source.what}: more than ${MAX_PAGES} pages of ${PER_PAGE}; the rest is read by the next run`);
    return { found };
  } catch (error) {
    return { found, problem: sourceProblem(source.name, error) };
  }
}

/** The alert without GitHub's copy of the secret: the value becomes a masked Secret here, at once. */
function toAlert(raw: RawAlert, repository: string | undefined, runtime: Runtime): Alert {
  const secret = typeof raw.secret === 'string' && raw.secret !== '' ? new Secret(raw.secret) : undefined;
  if (secret) runtime.reporter.mask(secret);
  delete raw.secret;
  return {
    repository: repository ?? raw.repository?.full_name ?? 'unknown',
    number: Number(raw.number),
    url: raw.html_url ?? '',
    secretType: raw.secret_type ?? 'unknown',
    secret,
  };
}

function sourceProblem(source: string, error: unknown): SourceProblem {
  const status = statusOf(error);
  // "Secret scanning is disabled on this repository." (404): that repository only; others go on.
  if (status === 404 && /secret scanning is disabled/i.test((error as HttpError).serverMessage ?? '')) {
    return {
      source,
      message: `${source}: secret scanning is disabled on this repository, so its leaks are not seen (enable it under Settings → Advanced Security)`,
      kind: 'disabled',
    };
  }
  return { source, message: describeError(error), kind: status === 401 || status === 403 || status === 404 ? 'permission' : 'error' };
}

/**
 * Resolves an alert as revoked, with a comment naming the evidence and the run. GitHub keeps the
 * comment for good (it cannot be edited), so it holds only paths and a URL, never a value.
 */
export async function resolveAlert(octokit: Octokit, runtime: Runtime, alert: Alert, comment: string, updates: RateWindow): Promise<void> {
  const [owner, repo] = alert.repository.split('/');
  await updates.take();
  await githubCall(
    runtime,
    `GitHub: resolve secret-scanning alert ${alert.repository}#${alert.number}`,
    () =>
      octokit.rest.secretScanning.updateAlert({
        owner,
        repo,
        alert_number: alert.number,
        state: 'resolved',
        resolution: 'revoked',
        resolution_comment: comment,
      }),
    {
      403: `${PERMISSION} (write) on ${alert.repository}`,
      404: `alert ${alert.number} of ${alert.repository} is gone or the token cannot see it`,
    },
  );
}
