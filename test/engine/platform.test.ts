// The example policy of the whole platform (examples/platform/rotation.yaml), loaded as shipped
// and rotated credential by credential through the real engine: a real Postgres for every
// password, msw models for GitHub, DigitalOcean, Supabase, Superset, n8n and Odoo's health page.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { setupServer } from 'msw/node';
import { connect, connectionConfig } from '../../src/postgres/connect.js';
import { scramVerifier } from '../../src/postgres/scram.js';
import { provisionCredential } from '../../src/provision/run.js';
import { parsePolicy } from '../../src/policy/load.js';
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
import { GITHUB_TEST_TOKEN, testRuntime, type TestRuntime } from '../helpers/runtime.js';
import { login, usePostgres } from '../helpers/postgres.js';
import { APP, CLUSTER, clusterOn, createDoadminLike } from '../helpers/digitalocean.js';
import { keyStatus, REF } from '../helpers/supabase.js';

const FILE = join(import.meta.dirname, '../../examples/platform/rotation.yaml');
const TEXT = readFileSync(FILE, 'utf8');
const REPO = 'insightpulseai/ops';
const PROJECT = `https://${REF}.supabase.co`;
// Non-default API bases: the example must reach them through DIGITALOCEAN_API_URL / SUPABASE_API_URL.
const DO_API = 'https://do-api.test';
const SB_API = 'https://supabase-api.test';
const URLS = { ODOO_URL: 'https://erp.test', SUPERSET_URL: 'https://superset.test', N8N_URL: 'https://n8n.test' };
const TOKENS = {
  DIGITALOCEAN_TOKEN: 'dop_v1_platform_0123456789abcdef0123456789abcdef0123',
  SUPABASE_ACCESS_TOKEN: 'sbp_platform_0123456789abcdef0123456789abcdef0123',
  SUPERSET_PASSWORD: 'superset-rotation-bot-pw-Q7x2',
  N8N_API_KEY: 'n8n_api_platform_5b0f4e1c9a7d2e8f',
};
const PG_CREDS = { doadmin: 'doadmin', odoo_app: 'odoo_app', superset_ro: 'superset_ro' } as const;
/** The roles a value may log in as: alternating-roles credentials have two logins. */
const LOGINS: Record<keyof typeof PG_CREDS, string[]> = { doadmin: ['doadmin'], odoo_app: ['odoo_app_a', 'odoo_app_b'], superset_ro: ['superset_ro_a', 'superset_ro_b'] };
type Id = 'doadmin' | 'odoo_app' | 'superset_ro' | 'service_role' | 'anon';
/** The GitHub secret each credential's `current` is read from, as the workflow passes it. */
const SECRET: Record<Id, string> = {
  doadmin: 'DO_DB_ADMIN_PASSWORD', odoo_app: 'ODOO_DB_PASSWORD', superset_ro: 'SUPERSET_RO_PASSWORD',
  service_role: 'SUPABASE_SERVICE_ROLE_KEY', anon: 'NEXT_PUBLIC_SUPABASE_ANON_KEY',
};

const fx = usePostgres();
const server = setupServer();
/** The live Postgres passwords; the server outlives each test's models. */
const live: Record<keyof typeof PG_CREDS, string> = { doadmin: '', odoo_app: '', superset_ro: '' };

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
      await provisionCredential(policy, id, { apply: true });
      await su.query(`ALTER ROLE ${id} NOLOGIN`);
      await su.query(`ALTER ROLE ${id}_a PASSWORD ${su.escapeLiteral(scramVerifier(new Secret(live[id])))}`);
    }
  } finally {
    await su.end();
  }
}
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

interface World {
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

const supersetUri = (password: string) => `postgresql+psycopg2://superset_ro_a:${password}@127.0.0.1:${fx().server.port}/odoo?sslmode=disable`;

function world(o: { workflow?: Partial<WorkflowSpec>; app?: AppSpec['outcome'] } = {}): World {
  const runtime = testRuntime();
  const gh = createGitHubModel({ token: GITHUB_TEST_TOKEN, now: runtime.now, repos: [{ full_name: REPO, environments: ['production'], workflows: [{ file: 'deploy-odoo.yml', ...o.workflow }] }] });
  const dox = createDigitalOceanModel({
    baseUrl: DO_API, tokens: { [TOKENS.DIGITALOCEAN_TOKEN]: ALL_SCOPES },
    clusters: [clusterOn(fx().server, { doadmin: live.doadmin }, { name: 'odoo-db-sgp1', database: 'odoo' })],
    apps: [{ id: APP, name: 'odoo', outcome: o.app }],
  });
  const sb = createSupabaseModel({ apiUrl: SB_API, token: TOKENS.SUPABASE_ACCESS_TOKEN, now: runtime.now, projects: [{ ref: REF, keys: [{ name: 'service_key', type: 'secret' }, { name: 'public_key', type: 'publishable' }] }] });
  const serviceKey = sb.key(REF, 'service_key')!.api_key;
  const superset = createSupersetModel({ baseUrl: URLS.SUPERSET_URL, users: { rotation: TOKENS.SUPERSET_PASSWORD }, databases: [{ id: 1, database_name: 'odoo', sqlalchemy_uri: supersetUri(live.superset_ro) }] });
  const n8n = createN8nModel({ baseUrl: URLS.N8N_URL, apiKey: TOKENS.N8N_API_KEY, credentials: [{ id: 'sbBridge1', name: 'Supabase SSOT', type: 'supabaseApi', data: { host: PROJECT, serviceRole: serviceKey } }] });
  server.resetHandlers(...gh.handlers, ...dox.handlers, ...sb.handlers, ...superset.handlers, ...n8n.handlers, ...createOdooModel({ baseUrl: URLS.ODOO_URL }).handlers);
  const env: Record<string, string> = {
    ...URLS, ...TOKENS,
    ROTATION_ADMIN_URL: fx().platform.adminUrl, SUPABASE_DB_URL: fx().platform.adminUrl, OPS_REPOSITORY: REPO, DO_DATABASE_CLUSTER_ID: CLUSTER, DO_ODOO_APP_ID: APP,
    DIGITALOCEAN_API_URL: DO_API, SUPABASE_API_URL: SB_API, SUPERSET_USERNAME: 'rotation',
    ODOO_DB_HOST: '127.0.0.1', ODOO_DB_PORT: String(fx().server.port), ODOO_DB_SSLMODE: 'disable', N8N_SUPABASE_CREDENTIAL_ID: 'sbBridge1',
    DO_DB_ADMIN_PASSWORD: live.doadmin, ODOO_DB_PASSWORD: live.odoo_app, SUPERSET_RO_PASSWORD: live.superset_ro,
    SUPABASE_SERVICE_ROLE_KEY: serviceKey, NEXT_PUBLIC_SUPABASE_ANON_KEY: sb.key(REF, 'public_key')!.api_key,
  };
  runtime.env = env;
  const secrets = new Set([...Object.values(TOKENS), GITHUB_TEST_TOKEN, new URL(env.ROTATION_ADMIN_URL).password, ...Object.values(live), serviceKey, env.NEXT_PUBLIC_SUPABASE_ANON_KEY]);
  return { runtime, gh, dox, sb, superset, n8n, env, results: [], secrets };
}

/** One run, as the workflow does it: `current` comes from the GitHub secret (or the seed). */
async function rotate(w: World, id: Id, reason: Reason = 'scheduled', text = TEXT, dryRun = false): Promise<RotationResult> {
  const current = w.gh.secretValue({ repository: REPO, name: SECRET[id] });
  if (current) w.env[SECRET[id]] = current;
  const policy = parsePolicy(text, '.github/rotation.yaml', w.env);
  const result = await rotateCredential(policy, { credential: id, reason, dryRun, trigger: { event: 'workflow_dispatch', actor: 'ops' } }, w.runtime);
  w.results.push(result);
  for (const value of values(w, id)) if (value) w.secrets.add(value);
  if (result.status === 'rotated' && id in PG_CREDS) live[id as keyof typeof PG_CREDS] = values(w, id)[0]!;
  return result;
}

/** What every store target and consumer of a credential holds now. */
function values(w: World, id: Id): (string | undefined)[] {
  const github = w.gh.secretValue({ repository: REPO, name: SECRET[id] });
  switch (id) {
    case 'odoo_app': return [github, w.gh.secretValue({ repository: REPO, environment: 'production', name: SECRET[id] })];
    case 'superset_ro': return [github, decodeURIComponent(new URL(w.superset.storedUri(1)!).password)];
    case 'service_role': return [github, w.sb.secretValue(REF, 'SERVICE_ROLE_KEY'), w.n8n.credentialData('sbBridge1')?.serviceRole as string];
    default: return [github];
  }
}

/** Whether a value works where it is used: a Postgres login, or the project's API. */
async function check(id: Id, value: string): Promise<'works' | 'refused' | string> {
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

const evidence = (w: World, r: RotationResult) => JSON.parse(readFileSync(join(w.runtime.workspace, r.evidencePath!), 'utf8')) as typeof r.record;

/** Log, evidence, results, every model's request log and Postgres' server log: no secret anywhere. */
function expectNoLeak(w: World): void {
  const dir = join(w.runtime.workspace, 'docs/evidence');
  const files = existsSync(dir) ? readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => readFileSync(join(e.parentPath, e.name), 'utf8')) : [];
  const haystack = [
    ...w.runtime.reporter.lines, ...files, JSON.stringify(w.results),
    ...[w.gh, w.dox, w.sb, w.superset, w.n8n].map((m) => JSON.stringify(m.requests)), fx().server.log.join('\n'),
  ].join('\n');
  for (const secret of w.secrets) expect(haystack.includes(secret), `a secret (${secret.length} chars) leaked`).toBe(false);
}

describe('examples/platform/rotation.yaml', () => {
  it('is valid against the schema as shipped, and names the schema for editors', () => {
    expect(TEXT.split('\n')[0]).toBe('# yaml-language-server: $schema=../../schema/rotation.schema.json');
    expect(existsSync(join(import.meta.dirname, '../../schema/rotation.schema.json'))).toBe(true);
    const policy = parsePolicy(TEXT, FILE, {}, { withoutSecrets: true });
    expect(Object.keys(policy.credentials)).toEqual(['doadmin', 'odoo_app', 'superset_ro', 'service_role', 'anon']);
    // A broken copy is refused: the test fails if validation stops working.
    expect(() => parsePolicy(TEXT.replace('cadence: quarterly', 'cadence: weekly'), FILE, {}, { withoutSecrets: true })).toThrow(/cadence: expected monthly \| quarterly/);
  });

  it('a dry run of every credential passes preflight and changes nothing (anon included: its key is probed at /auth/v1/settings)', async () => {
    const w = world();
    for (const id of ['doadmin', 'odoo_app', 'superset_ro', 'service_role', 'anon'] as Id[]) {
      const before = w.env[SECRET[id]];
      const result = await rotate(w, id, 'scheduled', TEXT, true);
      expect(result.summary, id).toMatch(/dry run: preflight passed/);
      expect(result.status).toBe('skipped');
      expect(await check(id, before), `${id}: the value in use still works`).toBe('works');
    }
    expect(w.gh.count({ method: 'PUT' })).toBe(0);
    expect(w.dox.count({ method: 'POST' })).toBe(0);
    expect(w.sb.count({ host: 'management', method: 'POST' }) + w.sb.count({ host: 'management', method: 'DELETE' })).toBe(0);
    // The publishable key never went to the Data API's OpenAPI root, which answers it 403.
    expect(w.sb.requests.filter((r) => r.host === 'project' && r.status === 403)).toEqual([]);
    expectNoLeak(w);
  });

  it('rotates every credential end to end: stored everywhere, consumers refreshed, probes passed, old value refused', async () => {
    const w = world();
    const expected: Record<Id, { consumers: number; health: number }> = {
      doadmin: { consumers: 0, health: 1 }, odoo_app: { consumers: 1, health: 1 }, superset_ro: { consumers: 1, health: 1 },
      service_role: { consumers: 2, health: 1 }, anon: { consumers: 0, health: 1 },
    };
    for (const id of Object.keys(expected) as Id[]) {
      const old = w.env[SECRET[id]];
      expect(await check(id, old), `${id}: the seed value works`).toBe('works');
      const result = await rotate(w, id);
      expect(result.summary).toMatch(/^rotated/);
      expect(result.status).toBe('rotated');

      const held = values(w, id);
      const fresh = held[0]!;
      expect(fresh).not.toBe(old);
      expect(held, `${id}: every target holds the same new value`).toEqual(held.map(() => fresh));
      expect(await check(id, fresh)).toBe('works');
      expect(await check(id, old)).toBe('refused');

      const record = evidence(w, result);
      expect(record.status).toBe('rotated');
      expect(record.stores.length).toBeGreaterThan(0);
      expect(record.stores.every((s) => s.outcome === 'ok')).toBe(true);
      expect(record.consumers.map((c) => c.outcome), `${id} consumers`).toEqual(Array(expected[id].consumers).fill('ok'));
      expect(record.health.map((h) => h.outcome), `${id} health`).toEqual(Array(expected[id].health).fill('ok'));
      expect(record.old_credential).toMatchObject({ tried: true, rejected: true });
      expect(record.old_credential.detail).toMatch(id in PG_CREDS ? /28P01/ : /401/);
    }
    // What each consumer and probe reported, as a person reads the evidence.
    const byId = Object.fromEntries(w.results.map((r) => [r.record.credential, r.record]));
    expect(byId.doadmin.health[0].target).toBe('no-stale-sessions of role doadmin');
    expect(byId.odoo_app.consumers[0].detail).toMatch(/^deploy-odoo\.yml run \d+ concluded success/);
    expect(byId.odoo_app.health[0].detail).toBe('HTTP 200 with {"status":"pass"}');
    expect(byId.superset_ro.consumers[0].detail).toContain("Superset's connection test passed");
    expect(byId.superset_ro.health[0].detail).toBe('HTTP 200 with body "OK"');
    expect(byId.service_role.consumers.map((c) => c.target)).toEqual([`supabase-function-secrets ${REF} SERVICE_ROLE_KEY`, `n8n-credential ${URLS.N8N_URL} sbBridge1`]);
    expect(w.superset.connectionTests.at(-1)).toEqual({ database_name: 'odoo', ok: true });
    expect(w.gh.workflows.dispatches.map((d) => d.workflow)).toEqual(['deploy-odoo.yml']);
    // The n8n credential kept its other fields; DigitalOcean and Supabase were reached through the env's base URLs.
    expect(w.n8n.credentialData('sbBridge1')?.host).toBe(PROJECT);
    expect(w.dox.count({ method: 'POST', path: /reset_auth$/ })).toBe(1);
    expect(w.sb.count({ host: 'management', method: 'DELETE' })).toBe(2);
    expectNoLeak(w);
  });
});

describe('a consumer failure gives a failed run a person can act on, and no lockout', () => {
  it('Superset refuses the login: stopped in preflight, nothing changed', async () => {
    const w = world();
    w.env.SUPERSET_PASSWORD = 'not-the-superset-password';
    w.secrets.add(w.env.SUPERSET_PASSWORD);
    const before = live.superset_ro;
    const result = await rotate(w, 'superset_ro');
    expect(result.status).toBe('failed');
    expect(result.summary).toMatch(/HTTP 401 \(Not authorized\)\. Superset refused user 'rotation': check username and password/);
    expect(result.record.steps.find((s) => s.step === 'preflight')?.outcome).toBe('failed');
    expect(await check('superset_ro', before)).toBe('works');
    expect(w.gh.count({ method: 'PUT' })).toBe(0);
    expect(w.superset.storedUri(1)).toBe(supersetUri(before));
    expectNoLeak(w);
  });

  it('Superset refuses the CSRF session: caught at the preflight (its connection test is a write), nothing changes, and a rerun rotates', async () => {
    const w = world();
    const before = live.superset_ro;
    w.superset.loseSessions = true;
    const first = await rotate(w, 'superset_ro');
    expect(first.status).toBe('failed');
    // Before, this was found only after the password was changed, leaving Superset on a dead one.
    expect(first.summary).toMatch(/test the connection of 'odoo': HTTP 400 \(400 Bad Request: The CSRF session token is missing\.\)\. .*session cookie/);
    expect(first.record.steps.find((s) => s.step === 'preflight')?.outcome).toBe('failed');
    expect(await check('superset_ro', before)).toBe('works');
    expect(w.superset.storedUri(1)).toBe(supersetUri(before));
    const stored = before;

    w.superset.loseSessions = false;
    const rerun = await rotate(w, 'superset_ro', 'manual');
    expect(rerun.status).toBe('rotated');
    const [github, inSuperset] = values(w, 'superset_ro');
    expect(inSuperset).toBe(github);
    expect(await check('superset_ro', github!)).toBe('works');
    expect(await check('superset_ro', stored)).toBe('refused');
    expect(w.superset.connectionTests.at(-1)).toEqual({ database_name: 'odoo', ok: true });
    expectNoLeak(w);
  });

  it('a DigitalOcean App Platform deployment ends in ERROR: the reset value is stored and works; a rerun finishes', async () => {
    // The transitional consumer the example carries commented out (an app still on doadmin).
    const text = TEXT.replace(/ {4}# consumers:\n {4}# {3}- (digitalocean-app: .*)\n/, '    consumers:\n      - $1\n');
    expect(text).not.toBe(TEXT);
    const w = world({ app: 'ERROR' });
    const old = live.doadmin;
    const first = await rotate(w, 'doadmin', 'scheduled', text);
    expect(first.status).toBe('failed');
    expect(first.summary).toMatch(new RegExp(`^refreshing digitalocean-app ${APP} \\(deploy\\) failed: app odoo \\(${APP}\\) deployment \\S+ ended in phase ERROR\\. read its logs \\(doctl apps logs ${APP}`));
    const stored = w.gh.secretValue({ repository: REPO, name: SECRET.doadmin })!;
    expect(await check('doadmin', stored)).toBe('works');
    expect(await check('doadmin', old)).toBe('refused');
    live.doadmin = stored;

    w.dox.app(APP)!.outcome = 'ACTIVE';
    const rerun = await rotate(w, 'doadmin', 'manual', text);
    expect(rerun.status).toBe('rotated');
    expect(rerun.record.consumers[0].detail).toMatch(/app odoo .* is ACTIVE after a deploy/);
    const final = w.gh.secretValue({ repository: REPO, name: SECRET.doadmin })!;
    expect(await check('doadmin', final)).toBe('works');
    expect(await check('doadmin', stored)).toBe('refused');
    expectNoLeak(w);
  });

  it("no-stale-sessions on odoo_app refuses to pass blind when the admin cannot see other roles' sessions", async () => {
    // A variant a reader may try: confirm the Odoo container was recreated. rotation_admin holds
    // ADMIN OPTION without INHERIT, so pg_stat_activity hides the start of odoo_app's sessions.
    const text = TEXT.replace('expect_json: { status: pass } }\n', 'expect_json: { status: pass } }\n      - no-stale-sessions: { grace_seconds: 10 }\n');
    expect(text).not.toBe(TEXT);
    const w = world();
    const inUse = (await Promise.all(LOGINS.odoo_app.map(async (u) => ((await login(fx(), u, live.odoo_app)).ok ? u : '')))).find(Boolean)!;
    const stale = await connect({ ...connectionConfig(new Secret(fx().platform.adminUrl), { user: inUse, password: new Secret(live.odoo_app) }), application_name: 'odoo-web' }, 'odoo-web');
    try {
      const result = await rotate(w, 'odoo_app', 'scheduled', text);
      expect(result.status).toBe('failed');
      expect(result.summary).toMatch(/no-stale-sessions of role odoo_app: the connection as rotation_admin cannot see when sessions of odoo_app started\. grant it .*GRANT pg_read_all_stats TO rotation_admin/);
      const [stored] = values(w, 'odoo_app');
      expect(await check('odoo_app', stored!)).toBe('works');
      live.odoo_app = stored!;
      expectNoLeak(w);
    } finally {
      await stale.end();
    }
  });

  it('deploy-odoo.yml never completes: timed out with the run named, the stored value works, a rerun finishes', async () => {
    const w = world({ workflow: { pollsToComplete: Infinity } });
    const old = live.odoo_app;
    const first = await rotate(w, 'odoo_app');
    expect(first.status).toBe('failed');
    expect(first.summary).toMatch(/^refreshing github-workflow insightpulseai\/ops deploy-odoo\.yml@main failed: .*run \d+ did not complete within 20 min, last status 'in_progress' \(https:\/\/github\.com\/insightpulseai\/ops\/actions\/runs\/\d+\)/);
    const stored = values(w, 'odoo_app');
    expect(stored[1]).toBe(stored[0]);
    expect(await check('odoo_app', stored[0]!)).toBe('works');
    // alternating-roles: the login Odoo still runs on is revoked only after consumers and health.
    expect(await check('odoo_app', old)).toBe('works');
    live.odoo_app = stored[0]!;

    w.gh.workflows.workflows[0].pollsToComplete = 2;
    const rerun = await rotate(w, 'odoo_app', 'manual');
    expect(rerun.status).toBe('rotated');
    const [repo, environment] = values(w, 'odoo_app');
    expect(environment).toBe(repo);
    expect(await check('odoo_app', repo!)).toBe('works');
    expect(await check('odoo_app', stored[0]!)).toBe('refused');
    expectNoLeak(w);
  });
});
