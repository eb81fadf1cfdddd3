// The world of `exposures` (issue 17): a real PostgreSQL 16 role, a Supabase project and the GitHub
// model holding secret-scanning alerts, with a policy whose `exposure:` key names the repositories.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RequestHandler } from 'msw';
import type { SetupServer } from 'msw/node';
import { serveHandlers } from '../models/serve.js';
import { cli, type CliRun } from './cli-child.js';
import { parsePolicy } from '../../src/registry/load-policy.js';
import { rotateCredential } from '../../src/engine/rotate.js';
import { runExposures, type ExposureReport } from '../../src/exposure/run.js';
import type { Policy } from '../../src/policy/types.js';
import { createGitHubModel, type GitHubModel, type TokenPermissions } from '../models/github.js';
import { createSupabaseModel, type SupabaseModel } from '../models/supabase.js';
import { GITHUB_TEST_TOKEN, testRuntime, type TestRuntime } from './runtime.js';
import { leakHaystack, login, type PostgresFixture } from './postgres.js';
import { keyStatus, REF, SERVICE_AND_WEB_KEYS, supabaseSystemYaml } from './supabase.js';

export const OPS = 'acme/ops';
export const ODOO = 'acme/odoo';
export const PROJECT = `https://${REF}.supabase.co`;
export const PAT = 'sbp_exposure_0123456789abcdef0123456789abcdef';
export const TRIGGER = {
  event: 'schedule',
  actor: 'github-actions',
  repository: OPS,
  run_url: 'https://github.com/acme/ops/actions/runs/4242',
};

/** A connection string as GitHub's postgres_connection_string pattern finds it in a commit. */
export const connectionString = (user: string, password: string) =>
  `postgresql://${user}:${encodeURIComponent(password)}@db-postgresql-sgp1-1234.b.db.ondigitalocean.com:25060/odoo?sslmode=require`;

/** alter-role credentials on the fixture's server (file and GitHub stores) and Supabase's service key, with `exposure:`. */
export function exposurePolicyYaml(roles: string[], exposure = `  repositories: [${OPS}, ${ODOO}]\n`, projectUrl?: string): string {
  const creds = roles.map(
    (role) => `  ${role}:
    system: odoo-sor
    method: alter-role
    cadence: quarterly
    current: \${CURRENT_${role.toUpperCase()}}
    store:
      - file: { path: .secrets/${role}.env, key: DB_PASSWORD }
      - github: { repository: ${OPS}, secret: ${role.toUpperCase()}_PASSWORD }
`,
  );
  return `version: 1
systems:
  odoo-sor:
    type: postgres
    admin_url: \${ROTATION_ADMIN_URL}
${supabaseSystemYaml(REF, projectUrl)}credentials:
${creds.join('')}  service_key:
    system: supabase-ssot
    method: supabase-secret-key
    key_name: service_key
    cadence: quarterly
    current: \${SUPABASE_SECRET_KEY}
    store:
      - file: { path: .secrets/supabase.env, key: SUPABASE_SECRET_KEY }
      - github: { repository: ${OPS}, secret: SUPABASE_SECRET_KEY }
    health:
      - supabase-api: {}
exposure:
${exposure}`;
}

export interface ExposureWorld {
  runtime: TestRuntime;
  gh: GitHubModel;
  sb: SupabaseModel;
  env: Record<string, string>;
  /** Every secret the world knows, to search the sinks for. */
  secrets: Set<string>;
  reports: ExposureReport[];
  rotations: string[];
}

/** The models and values of a run; `server` (in-process msw) gets the handlers, else serve them (servedWorld). */
export function exposureWorld(
  fx: () => PostgresFixture,
  server: SetupServer | undefined,
  passwords: Record<string, string>,
  o: { permissions?: TokenPermissions } = {},
): ExposureWorld {
  const runtime = testRuntime();
  const gh = createGitHubModel({
    token: GITHUB_TEST_TOKEN,
    now: runtime.now,
    repos: [{ full_name: OPS }, { full_name: ODOO }],
    orgs: ['acme'],
    permissions: o.permissions,
  });
  const sb = createSupabaseModel({ token: PAT, now: runtime.now, projects: [{ ref: REF, keys: SERVICE_AND_WEB_KEYS }] });
  server?.resetHandlers(...gh.handlers, ...sb.handlers);
  const key = sb.key(REF, 'service_key')!.api_key;
  const env: Record<string, string> = { ROTATION_ADMIN_URL: fx().platform.adminUrl, SUPABASE_ACCESS_TOKEN: PAT, SUPABASE_SECRET_KEY: key };
  for (const [role, password] of Object.entries(passwords)) env[`CURRENT_${role.toUpperCase()}`] = password;
  const secrets = new Set([PAT, GITHUB_TEST_TOKEN, key, new URL(fx().platform.adminUrl).password, ...Object.values(passwords)]);
  return { runtime, gh, sb, env, secrets, reports: [], rotations: [] };
}

/** One `exposures` run in process (the CLI's own entry point), counting the rotations it starts. */
export async function exposures(
  w: ExposureWorld,
  text: string,
  apply: boolean,
  policy: Policy = parsePolicy(text, '.github/rotation.yaml', w.env, { optionalCurrent: true }),
): Promise<ExposureReport> {
  const report = await runExposures(
    policy,
    {
      apply,
      trigger: TRIGGER,
      rotate: (p, request, runtime) => {
        w.rotations.push(request.credential);
        return rotateCredential(p, request, runtime);
      },
    },
    w.runtime,
  );
  w.reports.push(report);
  return report;
}

/** What a file store target holds. */
export function fileValue(w: ExposureWorld, file: string, key: string): string | undefined {
  const path = join(w.runtime.workspace, file);
  return existsSync(path) ? readFileSync(path, 'utf8').match(new RegExp(`^${key}=(.*)$`, 'm'))?.[1] : undefined;
}

/** Every file under the workspace's evidence folder, by path. */
export function evidenceFiles(w: ExposureWorld): Record<string, string> {
  const dir = join(w.runtime.workspace, 'docs/evidence');
  if (!existsSync(dir)) return {};
  const out: Record<string, string> = {};
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true }))
    if (e.isFile())
      out[join(e.parentPath, e.name).slice(w.runtime.workspace.length + 1)] = readFileSync(join(e.parentPath, e.name), 'utf8');
  return out;
}

/** Whether a value works: a Postgres login as `role`, or the project API for a key. */
export async function works(fx: () => PostgresFixture, roleOrKey: string, value: string): Promise<'works' | 'refused' | string> {
  if (roleOrKey === 'key') {
    const status = await keyStatus(PROJECT, value);
    return status === 200 ? 'works' : status === 401 ? 'refused' : `HTTP ${status}`;
  }
  const r = await login(fx(), roleOrKey, value);
  return r.ok ? 'works' : r.code === '28P01' ? 'refused' : r.message;
}

/** Log, reports, evidence, the models' request logs and Postgres' log: no secret anywhere. */
export function leakSinks(w: ExposureWorld, fx: () => PostgresFixture): string {
  return leakHaystack(
    w.runtime.reporter.lines,
    JSON.stringify(w.reports),
    Object.values(evidenceFiles(w)),
    JSON.stringify(w.gh.requests),
    JSON.stringify(w.sb.requests),
    fx().server.log,
  );
}

export interface ServedWorld extends ExposureWorld {
  workspace: string;
  /** Models refusing one call by echoing the request (test/helpers/echo.ts) go first. */
  gates: RequestHandler[];
  /** `node dist/cli.js exposures <args>` in the workspace, with the runner's environment. */
  cli(args: string[]): Promise<CliRun & { summary: string }>;
  close(): Promise<void>;
}

/**
 * The same world for the bundled CLI run as a child process: GitHub, Supabase's Management API and
 * the project API served over loopback, the policy written to the workspace's .github/rotation.yaml.
 */
export async function servedWorld(
  fx: () => PostgresFixture,
  passwords: Record<string, string>,
  o: { permissions?: TokenPermissions; policy?: (projectUrl: string) => string } = {},
): Promise<ServedWorld> {
  const w = exposureWorld(fx, undefined, passwords, o);
  const gates: RequestHandler[] = [];
  const handlers = () => [...gates, ...w.gh.handlers, ...w.sb.handlers];
  const [gh, sb, project] = await Promise.all([
    serveHandlers(handlers, { rewriteTo: w.gh.baseUrl }),
    serveHandlers(handlers, { rewriteTo: w.sb.apiUrl }),
    serveHandlers(handlers, { rewriteTo: PROJECT }),
  ]);
  const workspace = w.runtime.workspace;
  mkdirSync(join(workspace, '.github'), { recursive: true });
  writeFileSync(
    join(workspace, '.github/rotation.yaml'),
    (o.policy ?? ((url) => exposurePolicyYaml(Object.keys(passwords), undefined, url)))(project.url),
  );
  let runs = 0;
  return Object.assign(w, {
    workspace,
    gates,
    async cli(args: string[]) {
      const summaryFile = join(workspace, `.summary-${++runs}`);
      writeFileSync(summaryFile, '');
      const env = {
        ...w.env,
        GITHUB_TOKEN: GITHUB_TEST_TOKEN,
        GITHUB_API_URL: gh.url,
        SUPABASE_API_URL: sb.url,
        GITHUB_STEP_SUMMARY: summaryFile,
        GITHUB_RUN_ID: '4242',
        GITHUB_REPOSITORY: OPS,
        GITHUB_SERVER_URL: 'https://github.com',
        GITHUB_EVENT_NAME: 'schedule',
        GITHUB_ACTOR: 'github-actions',
      };
      const run = await cli(['exposures', ...args], env, workspace);
      return { ...run, summary: readFileSync(summaryFile, 'utf8') };
    },
    close: async () => {
      await Promise.all([gh.close(), sb.close(), project.close()]);
    },
  });
}
