// The world of the example policy (examples/platform/rotation.yaml): a real Postgres for every
// password and msw models for GitHub, DigitalOcean, Supabase, Superset, n8n and Odoo's health page,
// shared by test/platform.test.ts and the leak suite (test/leaks).
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { setupServer } from 'msw/node';
import { scramVerifier } from '../../src/postgres/scram.js';
import { provisionCredential } from '../../src/provision/run.js';
import { parsePolicy } from '../../src/registry/load-policy.js';
import { rotateCredential, type RotationResult } from '../../src/engine/rotate.js';
import type { Reason } from '../../src/evidence/record.js';
import { generatePassword } from '../../src/secret/generate.js';
import { Secret } from '../../src/secret/secret.js';
import { createGitHubModel, type GitHubModel } from '../models/github.js';
import type { WorkflowSpec } from '../models/github-actions.js';
import { ALL_SCOPES, createDigitalOceanModel, type AppSpec, type DigitalOceanModel } from '../models/digitalocean.js';
import { createSupabaseModel, type SupabaseModel } from '../models/supabase.js';
import { createSupersetModel, type SupersetModel } from '../models/superset.js';
import { createN8nModel, type N8nModel } from '../models/n8n.js';
import { createOdooModel } from '../models/odoo.js';
import { GITHUB_TEST_TOKEN, testRuntime, type TestRuntime } from './runtime.js';
import { login, usePostgres } from './postgres.js';
import { APP, CLUSTER, clusterOn, createDoadminLike } from './digitalocean.js';
import { keyStatus, REF } from './supabase.js';

export const FILE = join(import.meta.dirname, '../../examples/platform/rotation.yaml');
export const TEXT = readFileSync(FILE, 'utf8');
export const REPO = 'insightpulseai/ops';
export const PROJECT = `https://${REF}.supabase.co`;
// Non-default API bases: the example must reach them through DIGITALOCEAN_API_URL / SUPABASE_API_URL.
export const DO_API = 'https://do-api.test';
export const SB_API = 'https://supabase-api.test';
export const URLS = { ODOO_URL: 'https://erp.test', SUPERSET_URL: 'https://superset.test', N8N_URL: 'https://n8n.test' };
export const TOKENS = {
  DIGITALOCEAN_TOKEN: 'dop_v1_platform_0123456789abcdef0123456789abcdef0123',
  SUPABASE_ACCESS_TOKEN: 'sbp_platform_0123456789abcdef0123456789abcdef0123',
  SUPERSET_PASSWORD: 'superset-rotation-bot-pw-Q7x2',
  N8N_API_KEY: 'n8n_api_platform_5b0f4e1c9a7d2e8f',
};
export const PG_CREDS = { doadmin: 'doadmin', odoo_app: 'odoo_app', superset_ro: 'superset_ro' } as const;
/** The roles a value may log in as: alternating-roles credentials have two logins. */
export const LOGINS: Record<keyof typeof PG_CREDS, string[]> = {
  doadmin: ['doadmin'],
  odoo_app: ['odoo_app_a', 'odoo_app_b'],
  superset_ro: ['superset_ro_a', 'superset_ro_b'],
};
export type Id = 'doadmin' | 'odoo_app' | 'superset_ro' | 'service_role' | 'anon';
/** The GitHub secret each credential's `current` is read from, as the workflow passes it. */
export const SECRET: Record<Id, string> = {
  doadmin: 'DO_DB_ADMIN_PASSWORD',
  odoo_app: 'ODOO_DB_PASSWORD',
  superset_ro: 'SUPERSET_RO_PASSWORD',
  service_role: 'SUPABASE_SERVICE_ROLE_KEY',
  anon: 'NEXT_PUBLIC_SUPABASE_ANON_KEY',
};

export const fx = usePostgres();
export const server = setupServer();
/** The live Postgres passwords; the server outlives each test's models. */
export const live: Record<keyof typeof PG_CREDS, string> = { doadmin: '', odoo_app: '', superset_ro: '' };

beforeAll(async () => {
  server.listen({ onUnhandledFrame: 'error' });
  live.doadmin = generatePassword().reveal();
  live.odoo_app = fx().platform.passwords.odoo_app.reveal();
  live.superset_ro = fx().platform.passwords.superset_ro.reveal();
  await createDoadminLike(fx().server, 'doadmin', new Secret(live.doadmin));
  await moveToAlternating();
});

/**
 * The example rotates odoo_app and superset_ro with alternating-roles: the platform's two login
 * roles are moved as docs/alternating-roles.md says (the database owner lets odoo_app create in
 * public, `provision --apply`, the group stops logging in), and the seed passwords are the
 * `_a` logins' (the logins in use).
 */
async function moveToAlternating(): Promise<void> {
  const su = await fx().server.client('odoo');
  try {
    await su.query('GRANT USAGE, CREATE ON SCHEMA public TO odoo_app');
    const policy = parsePolicy(TEXT, FILE, { ROTATION_ADMIN_URL: fx().platform.adminUrl }, { withoutSecrets: true });
    for (const id of ['odoo_app', 'superset_ro'] as const) {
      await provisionCredential(policy, id, { runtime: testRuntime(), apply: true });
      await su.query(`ALTER ROLE ${id} NOLOGIN`);
      await su.query(`ALTER ROLE ${id}_a PASSWORD ${su.escapeLiteral(scramVerifier(new Secret(live[id])))}`);
    }
  } finally {
    await su.end();
  }
}
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

export interface World {
  runtime: TestRuntime;
  gh: GitHubModel;
  dox: DigitalOceanModel;
  sb: SupabaseModel;
  superset: SupersetModel;
  n8n: N8nModel;
  env: Record<string, string>;
  results: RotationResult[];
  /** Every secret value the world has seen, to search the outputs for. */
  secrets: Set<string>;
}

export const supersetUri = (password: string) =>
  `postgresql+psycopg2://superset_ro_a:${password}@127.0.0.1:${fx().server.port}/odoo?sslmode=disable`;

export function world(o: { workflow?: Partial<WorkflowSpec>; app?: AppSpec['outcome'] } = {}): World {
  const runtime = testRuntime();
  const gh = createGitHubModel({
    token: GITHUB_TEST_TOKEN,
    now: runtime.now,
    repos: [{ full_name: REPO, environments: ['production'], workflows: [{ file: 'deploy-odoo.yml', ...o.workflow }] }],
  });
  const dox = createDigitalOceanModel({
    baseUrl: DO_API,
    tokens: { [TOKENS.DIGITALOCEAN_TOKEN]: ALL_SCOPES },
    clusters: [clusterOn(fx().server, { doadmin: live.doadmin }, { name: 'odoo-db-sgp1', database: 'odoo' })],
    apps: [{ id: APP, name: 'odoo', outcome: o.app }],
  });
  const sb = createSupabaseModel({
    apiUrl: SB_API,
    token: TOKENS.SUPABASE_ACCESS_TOKEN,
    now: runtime.now,
    projects: [
      {
        ref: REF,
        keys: [
          { name: 'service_key', type: 'secret' },
          { name: 'public_key', type: 'publishable' },
        ],
      },
    ],
  });
  const serviceKey = sb.key(REF, 'service_key')!.api_key;
  const superset = createSupersetModel({
    baseUrl: URLS.SUPERSET_URL,
    users: { rotation: TOKENS.SUPERSET_PASSWORD },
    databases: [{ id: 1, database_name: 'odoo', sqlalchemy_uri: supersetUri(live.superset_ro) }],
  });
  const n8n = createN8nModel({
    baseUrl: URLS.N8N_URL,
    apiKey: TOKENS.N8N_API_KEY,
    credentials: [{ id: 'sbBridge1', name: 'Supabase SSOT', type: 'supabaseApi', data: { host: PROJECT, serviceRole: serviceKey } }],
  });
  server.resetHandlers(
    ...gh.handlers,
    ...dox.handlers,
    ...sb.handlers,
    ...superset.handlers,
    ...n8n.handlers,
    ...createOdooModel({ baseUrl: URLS.ODOO_URL }).handlers,
  );
  const env: Record<string, string> = {
    ...URLS,
    ...TOKENS,
    ROTATION_ADMIN_URL: fx().platform.adminUrl,
    SUPABASE_DB_URL: fx().platform.adminUrl,
    OPS_REPOSITORY: REPO,
    DO_DATABASE_CLUSTER_ID: CLUSTER,
    DO_ODOO_APP_ID: APP,
    DIGITALOCEAN_API_URL: DO_API,
    SUPABASE_API_URL: SB_API,
    SUPERSET_USERNAME: 'rotation',
    ODOO_DB_HOST: '127.0.0.1',
    ODOO_DB_PORT: String(fx().server.port),
    ODOO_DB_SSLMODE: 'disable',
    N8N_SUPABASE_CREDENTIAL_ID: 'sbBridge1',
    DO_DB_ADMIN_PASSWORD: live.doadmin,
    ODOO_DB_PASSWORD: live.odoo_app,
    SUPERSET_RO_PASSWORD: live.superset_ro,
    SUPABASE_SERVICE_ROLE_KEY: serviceKey,
    NEXT_PUBLIC_SUPABASE_ANON_KEY: sb.key(REF, 'public_key')!.api_key,
  };
  runtime.env = env;
  const secrets = new Set([
    ...Object.values(TOKENS),
    GITHUB_TEST_TOKEN,
    new URL(env.ROTATION_ADMIN_URL).password,
    ...Object.values(live),
    serviceKey,
    env.NEXT_PUBLIC_SUPABASE_ANON_KEY,
  ]);
  return { runtime, gh, dox, sb, superset, n8n, env, results: [], secrets };
}

/** One run, as the workflow does it: `current` comes from the GitHub secret (or the seed). */
export async function rotate(w: World, id: Id, reason: Reason = 'scheduled', text = TEXT, dryRun = false): Promise<RotationResult> {
  const current = w.gh.secretValue({ repository: REPO, name: SECRET[id] });
  if (current) w.env[SECRET[id]] = current;
  const policy = parsePolicy(text, '.github/rotation.yaml', w.env);
  const result = await rotateCredential(
    policy,
    { credential: id, reason, dryRun, trigger: { event: 'workflow_dispatch', actor: 'ops' } },
    w.runtime,
  );
  w.results.push(result);
  for (const value of values(w, id)) if (value) w.secrets.add(value);
  if (result.status === 'rotated' && id in PG_CREDS) live[id as keyof typeof PG_CREDS] = values(w, id)[0]!;
  return result;
}

/** What every store target and consumer of a credential holds now. */
export function values(w: World, id: Id): (string | undefined)[] {
  const github = w.gh.secretValue({ repository: REPO, name: SECRET[id] });
  switch (id) {
    case 'odoo_app':
      return [github, w.gh.secretValue({ repository: REPO, environment: 'production', name: SECRET[id] })];
    case 'superset_ro':
      return [github, decodeURIComponent(new URL(w.superset.storedUri(1)!).password)];
    case 'service_role':
      return [github, w.sb.secretValue(REF, 'SERVICE_ROLE_KEY'), w.n8n.credentialData('sbBridge1')?.serviceRole as string];
    default:
      return [github];
  }
}

/** Whether a value works where it is used: a Postgres login, or the project's API. */
export async function check(id: Id, value: string): Promise<'works' | 'refused' | string> {
  if (id in PG_CREDS) {
    // Works when it logs in as one of the credential's logins; refused when every one refuses it.
    let last = '';
    for (const user of LOGINS[id as keyof typeof PG_CREDS]) {
      const r = await login(fx(), user, value);
      if (r.ok) return 'works';
      if (r.code !== '28P01') return r.message;
      last = 'refused';
    }
    return last;
  }
  const status = await keyStatus(PROJECT, value);
  return status === 200 ? 'works' : status === 401 ? 'refused' : `HTTP ${status}`;
}

export const evidence = (w: World, r: RotationResult) =>
  JSON.parse(readFileSync(join(w.runtime.workspace, r.evidencePath!), 'utf8')) as typeof r.record;

/** Log, evidence, results, every model's request log and Postgres' server log: no secret anywhere. */
export function expectNoLeak(w: World): void {
  const dir = join(w.runtime.workspace, 'docs/evidence');
  const files = existsSync(dir)
    ? readdirSync(dir, { recursive: true, withFileTypes: true })
        .filter((e) => e.isFile())
        .map((e) => readFileSync(join(e.parentPath, e.name), 'utf8'))
    : [];
  const haystack = [
    ...w.runtime.reporter.lines,
    ...files,
    JSON.stringify(w.results),
    ...[w.gh, w.dox, w.sb, w.superset, w.n8n].map((m) => JSON.stringify(m.requests)),
    fx().server.log.join('\n'),
  ].join('\n');
  for (const secret of w.secrets) expect(haystack.includes(secret), `a secret (${secret.length} chars) leaked`).toBe(false);
}
