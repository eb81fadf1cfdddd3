// Supabase API keys rotate end to end through the real engine: policy parsed from YAML, the
// Management API and the project API modelled with msw, the new key written to a file and a
// GitHub secret, Edge Function secrets refreshed, the old key deleted and proven refused (401).
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setupServer } from 'msw/node';
import { parsePolicy } from '../../src/registry/load-policy.js';
import { rotateCredential, type RotationResult } from '../../src/engine/rotate.js';
import type { Reason } from '../../src/evidence/record.js';
import { createSupabaseModel, type SupabaseModel } from '../models/supabase.js';
import { createGitHubModel, type GitHubModel } from '../models/github.js';
import { GITHUB_TEST_TOKEN, testRuntime, type TestRuntime } from '../helpers/runtime.js';
import { keyStatus, REF, SERVICE_AND_WEB_KEYS, supabaseSystemYaml } from '../helpers/supabase.js';

const PROJECT = `https://${REF}.supabase.co`;
const PAT = 'sbp_0123456789abcdef0123456789abcdef01234567';
const server = setupServer();
beforeAll(() => server.listen({ onUnhandledFrame: 'error' }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

const POLICY = `
version: 1
systems:
${supabaseSystemYaml(REF)}credentials:
  service_key:
    system: supabase-ssot
    method: supabase-secret-key
    key_name: \${SERVICE_KEY_NAME}
    description: service key for Edge Functions and n8n
    cadence: quarterly
    current: \${SUPABASE_SECRET_KEY}
    store:
      - file: { path: .secrets/supabase.env, key: SUPABASE_SECRET_KEY }
      - github: { repository: acme/ops, secret: SUPABASE_SECRET_KEY }
    consumers:
      - supabase-function-secrets: { names: [SERVICE_KEY, N8N_BRIDGE_KEY] }
    health:
      - supabase-api: {}
  web_key:
    system: supabase-ssot
    method: supabase-publishable-key
    key_name: web_key
    cadence: annually
    current: \${SUPABASE_PUBLISHABLE_KEY}
    store:
      - file: { path: .secrets/supabase.env, key: NEXT_PUBLIC_SUPABASE_PUBLISHABLE_KEY }
    health:
      - supabase-api: {}
`;

interface World {
  sb: SupabaseModel;
  gh: GitHubModel;
  runtime: TestRuntime;
  env: Record<string, string>;
  oldSecret: string;
  oldPublishable: string;
}

function world(): World {
  const runtime = testRuntime();
  const sb = createSupabaseModel({ token: PAT, now: runtime.now, projects: [{ ref: REF, keys: SERVICE_AND_WEB_KEYS }] });
  const gh = createGitHubModel({ token: GITHUB_TEST_TOKEN, repos: [{ full_name: 'acme/ops' }], now: runtime.now });
  server.use(...sb.handlers, ...gh.handlers);
  const oldSecret = sb.key(REF, 'service_key')!.api_key;
  const oldPublishable = sb.key(REF, 'web_key')!.api_key;
  const env = {
    SUPABASE_ACCESS_TOKEN: PAT,
    SERVICE_KEY_NAME: 'service_key',
    SUPABASE_SECRET_KEY: oldSecret,
    SUPABASE_PUBLISHABLE_KEY: oldPublishable,
  };
  return { sb, gh, runtime, env, oldSecret, oldPublishable };
}

async function rotate(w: World, credential: string, reason: Reason = 'manual', env: Record<string, string> = {}): Promise<RotationResult> {
  const policy = parsePolicy(POLICY, '.github/rotation.yaml', { ...w.env, ...env });
  return rotateCredential(
    policy,
    { credential, reason, dryRun: false, trigger: { event: 'workflow_dispatch', actor: 'octocat' } },
    w.runtime,
  );
}

/** What the project API answers to a key, as a user would check it with curl. */
const projectStatus = (key: string) => keyStatus(PROJECT, key);

function dotenv(w: World): Record<string, string> {
  const text = readFileSync(join(w.runtime.workspace, '.secrets/supabase.env'), 'utf8');
  return Object.fromEntries(
    text
      .trim()
      .split('\n')
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

/** Every output a secret could leak to: log, evidence files, the result, both request logs. */
function haystack(w: World, result: RotationResult): string {
  const dir = join(w.runtime.workspace, 'docs/evidence');
  // A run stopped in preflight may leave no evidence; every file there is searched.
  const files = (existsSync(dir) ? readdirSync(dir, { recursive: true, withFileTypes: true }) : [])
    .filter((e) => e.isFile())
    .map((e) => readFileSync(join(e.parentPath, e.name), 'utf8'));
  return [...w.runtime.reporter.lines, ...files, JSON.stringify(result), JSON.stringify(w.sb.requests), JSON.stringify(w.gh.requests)].join(
    '\n',
  );
}

function expectNoLeak(text: string, ...values: (string | undefined)[]): void {
  for (const v of values) {
    if (!v) continue;
    expect(text.includes(v), 'a key value leaked').toBe(false);
    expect(text.includes(v.slice(-20)), 'the tail of a key value leaked').toBe(false);
  }
}

describe('supabase-secret-key', () => {
  it('creates a new secret key, stores it, sets the Edge Function secrets, deletes the old key and proves it refused', async () => {
    const w = world();
    const result = await rotate(w, 'service_key', 'scheduled');
    expect(result.summary).toMatch(/^rotated/);
    expect(result.status).toBe('rotated');

    // The new key is named <base>_<yyyymmddhhmm> from the run's clock (2026-03-01T03:00Z).
    const created = w.sb.key(REF, 'service_key_202603010300');
    expect(created?.type).toBe('secret');
    const fresh = created!.api_key;
    expect(fresh).toMatch(/^sb_secret_/);
    expect(dotenv(w).SUPABASE_SECRET_KEY).toBe(fresh);
    expect(w.gh.secretValue({ repository: 'acme/ops', name: 'SUPABASE_SECRET_KEY' })).toBe(fresh);
    expect(w.sb.secretValue(REF, 'SERVICE_KEY')).toBe(fresh);
    expect(w.sb.secretValue(REF, 'N8N_BRIDGE_KEY')).toBe(fresh);

    expect(await projectStatus(fresh)).toBe(200);
    expect(await projectStatus(w.oldSecret)).toBe(401);
    expect(w.sb.key(REF, 'service_key')).toBeUndefined();
    expect(w.sb.project(REF).deleted).toEqual([expect.objectContaining({ name: 'service_key', was_compromised: false })]);
    // Keys this credential does not own are left alone.
    expect(await projectStatus(w.sb.key(REF, 'other_tool')!.api_key)).toBe(200);
    expect(await projectStatus(w.oldPublishable)).toBe(200);

    const record = result.record;
    expect(record.consumers).toEqual([
      expect.objectContaining({ target: expect.stringContaining('SERVICE_KEY, N8N_BRIDGE_KEY'), outcome: 'ok' }),
    ]);
    expect(record.health).toEqual([expect.objectContaining({ outcome: 'ok', detail: `HTTP 200 with the new key at ${PROJECT}/rest/v1/` })]);
    expect(record.old_credential).toMatchObject({ tried: true, rejected: true });
    expect(record.old_credential.detail).toContain('refused with HTTP 401');
    const evidence = JSON.parse(
      readFileSync(join(w.runtime.workspace, 'docs/evidence/20260301-0300/db-rotation/service_key.json'), 'utf8'),
    );
    expect(evidence).toMatchObject({
      status: 'rotated',
      method: 'supabase-secret-key',
      consumers: [{ outcome: 'ok' }],
      health: [{ outcome: 'ok' }],
      old_credential: { rejected: true },
    });
    expectNoLeak(haystack(w, result), fresh, w.oldSecret, PAT);
  });

  it('on exposure, deletes the old key flagged as compromised with the reason', async () => {
    const w = world();
    const result = await rotate(w, 'service_key', 'exposure');
    expect(result.status).toBe('rotated');
    const [deleted] = w.sb.project(REF).deleted;
    expect(deleted).toMatchObject({ name: 'service_key', was_compromised: true });
    expect(deleted.reason).toMatch(/suspected exposure/);
    expect(result.record.old_credential.detail).toContain('flagged as compromised');
    expect(await projectStatus(w.oldSecret)).toBe(401);
  });

  it('retries a 429 with X-RateLimit headers and a 503, and creates exactly one key', async () => {
    const w = world();
    w.sb.failNext({ method: 'GET', path: `/v1/projects/${REF}/api-keys` }, { status: 429 });
    w.sb.failNext({ method: 'POST', path: `/v1/projects/${REF}/api-keys` }, { status: 503 });
    const result = await rotate(w, 'service_key');
    expect(result.status).toBe('rotated');
    expect(w.sb.project(REF).keys.filter((k) => k.name.startsWith('service_key_'))).toHaveLength(1);
    expect(w.runtime.reporter.lines.some((l) => /HTTP 429.*retry 1/.test(l))).toBe(true);
  });
});

describe('supabase-publishable-key', () => {
  it('rotates the publishable key the same way', async () => {
    const w = world();
    const result = await rotate(w, 'web_key', 'exposure');
    expect(result.status).toBe('rotated');
    const fresh = w.sb.key(REF, 'web_key_202603010300')!.api_key;
    expect(fresh).toMatch(/^sb_publishable_/);
    expect(dotenv(w).NEXT_PUBLIC_SUPABASE_PUBLISHABLE_KEY).toBe(fresh);
    expect(await projectStatus(fresh)).toBe(200);
    expect(await projectStatus(w.oldPublishable)).toBe(401);
    expect(w.sb.project(REF).deleted).toEqual([expect.objectContaining({ name: 'web_key', was_compromised: true })]);
    // The secret key was not touched.
    expect(await projectStatus(w.oldSecret)).toBe(200);
    expectNoLeak(haystack(w, result), fresh, w.oldPublishable, PAT);
  });
});

describe('publishable keys are proven where Supabase serves them (since 2026-03-11)', () => {
  it('the /rest/v1/ root refuses publishable and anon keys with 403, so the method probes /auth/v1/settings', async () => {
    const w = world();
    // The gateway as it is today: the Data API's OpenAPI root takes only secret keys.
    const root = await fetch(`${PROJECT}/rest/v1/`, { headers: { apikey: w.oldPublishable } });
    expect(root.status).toBe(403);
    expect(await root.json()).toEqual({
      message: 'Access to schema is forbidden',
      hint: 'Accessing the schema via the Data API is only allowed using a secret API key.',
    });
    expect((await fetch(`${PROJECT}/rest/v1/`, { headers: { apikey: w.sb.key(REF, 'anon')!.api_key } })).status).toBe(403);
    expect((await fetch(`${PROJECT}/rest/v1/`, { headers: { apikey: w.oldSecret } })).status).toBe(200);
    expect((await fetch(`${PROJECT}/auth/v1/settings`, { headers: { apikey: w.oldPublishable } })).status).toBe(200);
    expect((await fetch(`${PROJECT}/auth/v1/settings`, { headers: { apikey: 'sb_publishable_neverissued' } })).status).toBe(401);

    const before = w.sb.requests.length;
    const result = await rotate(w, 'web_key', 'scheduled');
    expect(result.status).toBe('rotated');
    const probes = w.sb.requests.slice(before).filter((r) => r.host === 'project');
    expect(probes.length).toBeGreaterThanOrEqual(4); // preflight, verify, health, revoke
    expect(new Set(probes.map((r) => r.path))).toEqual(new Set(['/auth/v1/settings']));
    const record = result.record;
    expect(record.steps.find((s) => s.step === 'verify')?.detail).toContain(`HTTP 200 at ${PROJECT}/auth/v1/settings`);
    expect(record.health).toEqual([
      expect.objectContaining({ outcome: 'ok', detail: `HTTP 200 with the new key at ${PROJECT}/auth/v1/settings` }),
    ]);
    expect(record.old_credential.detail).toContain(`refused with HTTP 401 at ${PROJECT}/auth/v1/settings`);
  });

  it('a 403 from the gateway says what it means, not that project_url is wrong, and nothing changes', async () => {
    const w = world();
    w.sb.failNext({ host: 'project' }, { status: 403, message: 'Access to schema is forbidden' });
    const result = await rotate(w, 'service_key');
    expect(result.status).toBe('failed');
    expect(result.summary).toContain(
      `cannot test the current key: HTTP 403 at ${PROJECT}/rest/v1/ (Access to schema is forbidden): the key is live, but Supabase does not allow this kind of key on that endpoint`,
    );
    expect(result.summary).not.toContain('project_url');
    expect(w.sb.count({ host: 'management', method: 'POST' })).toBe(0);
    expect(await projectStatus(w.oldSecret)).toBe(200);
  });

  it('refuses a key name that would make new names longer than Supabase takes (64), before any change', async () => {
    const w = world();
    const long = `k${'x'.repeat(49)}`;
    await expect(rotate(w, 'service_key', 'manual', { SERVICE_KEY_NAME: long })).rejects.toThrow(
      `credentials.service_key.key_name: '${long}' is 50 characters; new keys are named ${long}_<yyyymmddhhmm[ss]> and Supabase takes at most 64, so use at most 49`,
    );
    expect(w.sb.requests).toEqual([]);
  });
});

describe('refusals and failures', () => {
  it('refuses a legacy JWT key before any change, saying how to move to the new keys', async () => {
    const w = world();
    const legacy = w.sb.key(REF, 'service_role')!.api_key;
    const result = await rotate(w, 'service_key', 'manual', { SUPABASE_SECRET_KEY: legacy, SERVICE_KEY_NAME: 'service_role' });
    expect(result.status).toBe('failed');
    expect(result.summary).toContain('legacy JWT key');
    expect(result.summary).toContain('create a publishable key');
    expect(result.summary).toContain(`PUT /v1/projects/${REF}/api-keys/legacy?enabled=false`);
    expect(w.sb.count({ method: 'POST' }) + w.sb.count({ method: 'DELETE' }) + w.sb.count({ method: 'PUT' })).toBe(0);
    expect(w.gh.count({ method: 'PUT' })).toBe(0);
    expect(await projectStatus(legacy)).toBe(200);
    expectNoLeak(haystack(w, result), legacy, PAT);
  });

  it('refuses a key found by name to be legacy (key_name: anon)', async () => {
    const w = world();
    const result = await rotate(w, 'web_key', 'manual', { SUPABASE_PUBLISHABLE_KEY: 'sb_publishable_unknownvalue' });
    expect(result.status).toBe('rotated'); // control: a stale current is found by name
    const w2 = world();
    const policy = parsePolicy(POLICY.replace('key_name: web_key', 'key_name: anon'), 'p.yaml', w2.env);
    const refused = await rotateCredential(
      policy,
      { credential: 'web_key', reason: 'manual', dryRun: false, trigger: { event: 'cli', actor: 'me' } },
      w2.runtime,
    );
    expect(refused.status).toBe('failed');
    expect(refused.summary).toMatch(/'anon' is a legacy JWT key.*Move to the new keys/);
    expect(w2.sb.count({ method: 'POST' })).toBe(0);
  });

  it('a bad access token fails in preflight with what to do, nothing changed', async () => {
    const w = world();
    const result = await rotate(w, 'service_key', 'manual', { SUPABASE_ACCESS_TOKEN: 'sbp_revoked' });
    expect(result.status).toBe('failed');
    expect(result.summary).toMatch(/HTTP 401.*personal access token/);
    expect(result.record.steps.find((s) => s.step === 'preflight')?.outcome).toBe('failed');
    expect(w.sb.project(REF).keys.map((k) => k.name)).toEqual(['anon', 'service_role', 'service_key', 'web_key', 'other_tool']);
  });

  it('a consumer failure fails the run with an actionable message and no lockout; a rerun finishes and deletes both older keys', async () => {
    const w = world();
    w.sb.failNext({ method: 'POST', path: `/v1/projects/${REF}/secrets` }, { status: 503 }, 10);
    const result = await rotate(w, 'service_key');
    expect(result.status).toBe('failed');
    expect(result.summary).toMatch(
      /refreshing supabase-function-secrets .* failed: Supabase: set Edge Function secrets SERVICE_KEY, N8N_BRIDGE_KEY .*HTTP 503/,
    );
    expect(result.summary).toContain('fix the consumer and rerun');
    // No lockout: the old key was not revoked and still works; the new one is live and stored.
    const fresh = w.sb.key(REF, 'service_key_202603010300')!.api_key;
    expect(await projectStatus(w.oldSecret)).toBe(200);
    expect(await projectStatus(fresh)).toBe(200);
    expect(dotenv(w).SUPABASE_SECRET_KEY).toBe(fresh);
    expect(w.sb.project(REF).deleted).toEqual([]);
    expectNoLeak(haystack(w, result), fresh, w.oldSecret, PAT);

    // Once the outage is over, the rerun reads `current` from the store, as the workflow would
    // from the GitHub secret.
    w.sb.clearFaults();
    w.runtime.advance(5 * 60_000);
    const rerun = await rotate(w, 'service_key', 'manual', { SUPABASE_SECRET_KEY: dotenv(w).SUPABASE_SECRET_KEY });
    expect(rerun.record.notes.join(' ')).toContain('service_key were left live by an earlier run');
    expect(rerun.status).toBe('rotated');
    const newest = w.sb.key(REF, 'service_key_202603010305')!.api_key;
    expect(w.sb.secretValue(REF, 'SERVICE_KEY')).toBe(newest);
    expect(await projectStatus(fresh)).toBe(401);
    expect(await projectStatus(w.oldSecret)).toBe(401);
    expect(
      w.sb
        .project(REF)
        .deleted.map((k) => k.name)
        .sort(),
    ).toEqual(['service_key', 'service_key_202603010300']);
  });

  it('a store failure before the commit deletes the unused new key and restores the stores', async () => {
    const w = world();
    w.gh.failNext({ method: 'PUT', path: '/repos/acme/ops/actions/secrets/SUPABASE_SECRET_KEY' }, { status: 422, message: 'Bad request' });
    // The file holds the key in use, as it does in production: the back-out puts back what each target held.
    mkdirSync(join(w.runtime.workspace, '.secrets'), { recursive: true });
    writeFileSync(join(w.runtime.workspace, '.secrets/supabase.env'), `SUPABASE_SECRET_KEY=${w.oldSecret}\n`);
    const result = await rotate(w, 'service_key');
    expect(result.status).toBe('failed');
    expect(w.sb.project(REF).keys.some((k) => k.name.startsWith('service_key_'))).toBe(false);
    expect(dotenv(w).SUPABASE_SECRET_KEY).toBe(w.oldSecret);
    expect(await projectStatus(w.oldSecret)).toBe(200);
    expect(result.record.notes).toContain('change aborted: the old credential is still the live one');
  });

  it('rejects Edge Function secret names starting with SUPABASE_ and a missing key_name, naming the key path', () => {
    const w = world();
    expect(() =>
      parsePolicy(POLICY.replace('names: [SERVICE_KEY, N8N_BRIDGE_KEY]', 'names: [SUPABASE_SERVICE_ROLE_KEY]'), 'p.yaml', w.env),
    ).toThrow(/credentials\.service_key\.consumers\[0\]\.supabase-function-secrets\.names\[0\]: expected an Edge Function secret name/);
    expect(() => parsePolicy(POLICY.replace('    key_name: web_key\n', ''), 'p.yaml', w.env)).toThrow(
      /credentials\.web_key: missing required key 'key_name'/,
    );
  });
});
