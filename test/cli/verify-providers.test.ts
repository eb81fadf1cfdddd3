// `verify` for the provider methods: digitalocean-reset (DigitalOcean model + a real embedded
// Postgres) and the Supabase API keys (Supabase model). Each passes right after a rotation,
// catches a stored value that no longer works, names the credential, changes nothing at the
// providers and leaks no value.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { setupServer } from 'msw/node';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LocalPostgres } from '../../src/demo/local-postgres.js';
import { rotateCredential } from '../../src/engine/rotate.js';
import { parsePolicy } from '../../src/registry/load-policy.js';
import { tryLogin } from '../../src/postgres/connect.js';
import { verifyCredential, verifyProblems, verifyTable, type VerifyRow } from '../../src/cli/verify.js';
import { ALL_SCOPES, createDigitalOceanModel } from '../models/digitalocean.js';
import { createSupabaseModel } from '../models/supabase.js';
import { createGitHubModel } from '../models/github.js';
import { GITHUB_TEST_TOKEN, testRuntime, type TestRuntime } from '../helpers/runtime.js';
import { leakHaystack } from '../helpers/postgres.js';
import { clusterOn, doadminPolicy, resetPassword, startDoadminPostgres } from '../helpers/digitalocean.js';
import { SERVICE_AND_WEB_KEYS, supabaseSystemYaml } from '../helpers/supabase.js';

const server = setupServer();
const trigger = { event: 'workflow_dispatch', actor: 'ops' };
const WRITES = /^(POST|PUT|PATCH|DELETE)$/;
/** The policy without the `current:` lines whose variable is not given (verify then reads the stores). */
const withCurrent = (policy: string, env: Record<string, string | undefined>) =>
  policy.replace(/^ {4}current: \$\{(\w+)\}\n/gm, (line, name: string) => (env[name] ? line : ''));
const dotenv = (runtime: TestRuntime, file: string, key: string) =>
  new RegExp(`^${key}=(.*)$`, 'm').exec(readFileSync(join(runtime.workspace, file), 'utf8'))?.[1];

let pgServer: LocalPostgres;
beforeAll(async () => {
  pgServer = await startDoadminPostgres('doadmin_like');
  server.listen({ onUnhandledFrame: 'error' });
});
afterEach(() => server.resetHandlers());
afterAll(async () => {
  server.close();
  await pgServer?.stop();
});

describe('verify with digitalocean-reset', () => {
  const TOKEN = 'dop_v1_verify_token_0123456789abcdef0123456789abcdef';
  const CLUSTER = '0d4f1c5e-8b61-4a43-9a55-3f7f2f0e9a10';
  const ROLE = 'doadmin_like';
  const POLICY = doadminPolicy(ROLE, { cluster: CLUSTER });
  const login = (password: string) =>
    tryLogin({ host: '127.0.0.1', port: pgServer.port, database: 'defaultdb', user: ROLE, password, ssl: false });

  /** A role the tool has just rotated through the DigitalOcean model. */
  async function rotated() {
    const initial = await resetPassword(pgServer, ROLE);
    const dom = createDigitalOceanModel({
      tokens: { [TOKEN]: ALL_SCOPES },
      clusters: [clusterOn(pgServer, { [ROLE]: initial.reveal() }, { id: CLUSTER })],
    });
    const gh = createGitHubModel({ token: GITHUB_TEST_TOKEN, repos: [{ full_name: 'acme/ops' }] });
    server.resetHandlers(...dom.handlers, ...gh.handlers);
    const runtime = testRuntime();
    const policy = (current?: string) => {
      const env = { DIGITALOCEAN_TOKEN: TOKEN, DOADMIN_PASSWORD: current };
      return parsePolicy(withCurrent(POLICY, env), '.github/rotation.yaml', env);
    };
    const result = await rotateCredential(
      policy(initial.reveal()),
      { credential: 'doadmin', reason: 'scheduled', dryRun: false, trigger },
      runtime,
    );
    expect(result.status).toBe('rotated');
    const fresh = dotenv(runtime, '.secrets/do.env', 'DOADMIN_PASSWORD')!;
    return { dom, gh, runtime, policy, fresh, initial: initial.reveal(), mark: { do: dom.requests.length, gh: gh.requests.length } };
  }

  it('passes right after a rotation, from current or from the file store, and changes nothing', async () => {
    const { dom, gh, runtime, policy, fresh, initial, mark } = await rotated();
    const fromCurrent = await verifyCredential(policy(fresh), 'doadmin', runtime);
    expect(fromCurrent).toMatchObject({
      ok: true,
      works: true,
      source: 'current',
      target: `digitalocean-reset (DigitalOcean cluster ${CLUSTER} user ${ROLE})`,
    });
    expect(fromCurrent.stores).toEqual([
      { target: 'file .secrets/do.env DOADMIN_PASSWORD', outcome: 'agrees' },
      { target: 'github acme/ops DOADMIN_PASSWORD', outcome: 'write-only' },
    ]);
    // Without current, the file store's value is the one proven.
    const fromFile = await verifyCredential(policy(), 'doadmin', runtime);
    expect(fromFile).toMatchObject({ ok: true, works: true, source: 'file .secrets/do.env DOADMIN_PASSWORD' });
    expect(verifyProblems([fromCurrent, fromFile])).toEqual([]);
    expect(verifyTable([fromFile])).toMatch(/doadmin\s+ok\s+file \.secrets\/do\.env DOADMIN_PASSWORD\s+1 agrees, 1 write-only/);

    // Reads only: DigitalOcean was asked about the cluster and the user, GitHub not at all.
    const reads = dom.requests.slice(mark.do);
    expect(reads.length).toBeGreaterThan(0);
    expect(reads.filter((r) => WRITES.test(r.method))).toEqual([]);
    expect(gh.requests.slice(mark.gh)).toEqual([]);
    expect(await login(fresh)).toEqual({ ok: true });
    expect(
      leakHaystack(runtime.reporter.lines, JSON.stringify([fromCurrent, fromFile]), JSON.stringify(dom.requests), pgServer.log),
    ).not.toMatch(new RegExp([fresh, initial, TOKEN].map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')));
  });

  it('catches a password reset behind the tool’s back, names the credential, and changes nothing', async () => {
    const { dom, gh, runtime, policy, fresh, initial, mark } = await rotated();
    // Someone pressed "Reset password" in DigitalOcean's control panel.
    const reset = await fetch(`${dom.baseUrl}/v2/databases/${CLUSTER}/users/${ROLE}/reset_auth`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: '{}',
    });
    const behind = ((await reset.json()) as { user: { password: string } }).user.password;
    expect(await login(fresh)).toMatchObject({ ok: false, rejected: true });
    const resets = dom.count({ method: 'POST' });
    const logStart = pgServer.log.length;

    for (const current of [fresh, undefined]) {
      const row = await verifyCredential(policy(current), 'doadmin', runtime);
      expect(row).toMatchObject({ ok: false, works: false });
      const source = current ? 'current' : 'file .secrets/do.env DOADMIN_PASSWORD';
      expect(verifyProblems([row])).toEqual([
        `doadmin: the value from ${source} no longer works at digitalocean-reset (DigitalOcean cluster ${CLUSTER} user ${ROLE})`,
      ]);
      expect(verifyTable([row])).toMatch(/^doadmin\s+FAILED/m);
      expect(leakHaystack(runtime.reporter.lines, JSON.stringify(row), verifyTable([row]), verifyProblems([row]))).not.toMatch(
        new RegExp([fresh, behind, initial, TOKEN].map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')),
      );
    }

    // Nothing changed: no further reset, no GitHub write, the password set behind its back still works.
    expect(dom.count({ method: 'POST' })).toBe(resets);
    expect(dom.requests.slice(mark.do).filter((r) => WRITES.test(r.method))).toHaveLength(1); // the one made above
    expect(gh.requests.slice(mark.gh)).toEqual([]);
    expect(await login(behind)).toEqual({ ok: true });
    expect(dotenv(runtime, '.secrets/do.env', 'DOADMIN_PASSWORD')).toBe(fresh);
    // The rotation lock's ALTER ROLE … SET is rolled back; no password changes, nothing commits.
    expect(pgServer.log.slice(logStart).join('\n')).not.toMatch(/ALTER ROLE \S+ PASSWORD|COMMIT/);
    for (const secret of [fresh, behind]) expect(pgServer.log.join('\n')).not.toContain(secret);
  });
});

describe('verify with supabase-secret-key and supabase-publishable-key', () => {
  const REF = 'vrfyqwertyuiopasdfgh';
  const PAT = 'sbp_verify0123456789abcdef0123456789abcdef01';
  const POLICY = `
version: 1
systems:
${supabaseSystemYaml(REF)}credentials:
  service_key:
    system: supabase-ssot
    method: supabase-secret-key
    key_name: service_key
    cadence: quarterly
    current: \${SECRET_KEY}
    store:
      - file: { path: .secrets/supabase.env, key: SUPABASE_SECRET_KEY }
  web_key:
    system: supabase-ssot
    method: supabase-publishable-key
    key_name: web_key
    cadence: annually
    current: \${PUBLISHABLE_KEY}
    store:
      - file: { path: .secrets/supabase.env, key: NEXT_PUBLIC_SUPABASE_PUBLISHABLE_KEY }
`;
  const CASES = [
    { id: 'service_key', type: 'secret', key: 'SUPABASE_SECRET_KEY' },
    { id: 'web_key', type: 'publishable', key: 'NEXT_PUBLIC_SUPABASE_PUBLISHABLE_KEY' },
  ] as const;

  /** Both keys rotated once by the tool; `policy` carries the values as current (or none). */
  async function rotated() {
    const runtime = testRuntime();
    const sb = createSupabaseModel({ token: PAT, now: runtime.now, projects: [{ ref: REF, keys: SERVICE_AND_WEB_KEYS }] });
    server.resetHandlers(...sb.handlers);
    const old = { service_key: sb.key(REF, 'service_key')!.api_key, web_key: sb.key(REF, 'web_key')!.api_key };
    const policy = (values: Partial<Record<'service_key' | 'web_key', string>> = {}) => {
      const env = { SUPABASE_ACCESS_TOKEN: PAT, SECRET_KEY: values.service_key, PUBLISHABLE_KEY: values.web_key };
      return parsePolicy(withCurrent(POLICY, env), '.github/rotation.yaml', env);
    };
    for (const { id } of CASES) {
      const result = await rotateCredential(policy(old), { credential: id, reason: 'scheduled', dryRun: false, trigger }, runtime);
      expect(result.status).toBe('rotated');
    }
    const fresh = {
      service_key: dotenv(runtime, '.secrets/supabase.env', 'SUPABASE_SECRET_KEY')!,
      web_key: dotenv(runtime, '.secrets/supabase.env', 'NEXT_PUBLIC_SUPABASE_PUBLISHABLE_KEY')!,
    };
    expect(fresh.service_key).toMatch(/^sb_secret_/);
    expect(fresh.web_key).toMatch(/^sb_publishable_/);
    return { sb, runtime, policy, old, fresh, mark: sb.requests.length };
  }

  /** No key value (nor its tail) and not the access token, anywhere a person or a log could see. */
  function expectNoLeak(text: string, values: string[]) {
    for (const v of [...values, PAT]) {
      expect(text.includes(v), 'a key value leaked').toBe(false);
      expect(text.includes(v.slice(-20)), 'the tail of a key value leaked').toBe(false);
    }
  }

  it('passes right after a rotation, for both key types, and changes nothing', async () => {
    const { sb, runtime, policy, old, fresh, mark } = await rotated();
    const rows: VerifyRow[] = [];
    for (const { id, type, key } of CASES) {
      for (const p of [policy(fresh), policy()]) {
        const row = await verifyCredential(p, id, runtime);
        expect(row).toMatchObject({
          ok: true,
          works: true,
          target: expect.stringContaining(`supabase-${type}-key (Supabase project ${REF} ${type} key ${id})`),
        });
        expect(row.stores).toEqual([{ target: `file .secrets/supabase.env ${key}`, outcome: 'agrees' }]);
        rows.push(row);
      }
    }
    expect(rows.map((r) => r.source)).toEqual([
      'current',
      'file .secrets/supabase.env SUPABASE_SECRET_KEY',
      'current',
      'file .secrets/supabase.env NEXT_PUBLIC_SUPABASE_PUBLISHABLE_KEY',
    ]);
    expect(verifyProblems(rows)).toEqual([]);

    // Reads only: the key list and the project API; no key created, deleted or changed.
    const during = sb.requests.slice(mark);
    expect(during.some((r) => r.host === 'project')).toBe(true);
    expect(during.filter((r) => WRITES.test(r.method))).toEqual([]);
    expect(
      sb
        .project(REF)
        .keys.map((k) => k.name)
        .sort(),
    ).toEqual(['anon', 'other_tool', 'service_key_202603010300', 'service_role', 'web_key_202603010300']);
    expectNoLeak(leakHaystack(runtime.reporter.lines, JSON.stringify(rows), verifyTable(rows), JSON.stringify(sb.requests)), [
      ...Object.values(fresh),
      ...Object.values(old),
    ]);
  });

  for (const { id, type, key } of CASES) {
    it(`catches a deleted ${type} key, names the credential, and changes nothing`, async () => {
      const { sb, runtime, policy, old, fresh, mark } = await rotated();
      // Someone deleted the key in the dashboard.
      const project = sb.project(REF);
      project.keys = project.keys.filter((k) => k.api_key !== fresh[id]);
      const before = project.keys.map((k) => k.id);

      for (const [current, source] of [
        [fresh, 'current'],
        [{}, `file .secrets/supabase.env ${key}`],
      ] as const) {
        const row = await verifyCredential(policy(current), id, runtime);
        expect(row).toMatchObject({ ok: false, works: false, source });
        expect(verifyProblems([row])).toEqual([
          `${id}: the value from ${source} no longer works at supabase-${type}-key (Supabase project ${REF} ${type} key ${id})`,
        ]);
        expect(verifyTable([row])).toMatch(new RegExp(`^${id}\\s+FAILED`, 'm'));
        expectNoLeak(
          leakHaystack(runtime.reporter.lines, JSON.stringify(row), verifyTable([row]), verifyProblems([row]), JSON.stringify(sb.requests)),
          [...Object.values(fresh), ...Object.values(old)],
        );
      }
      // The other credential still verifies: only the deleted key is reported.
      const other = CASES.find((c) => c.id !== id)!.id;
      expect(await verifyCredential(policy(fresh), other, runtime)).toMatchObject({ ok: true });

      // Nothing changed: no key created or deleted, the project API was asked and refused the value.
      expect(sb.requests.slice(mark).filter((r) => WRITES.test(r.method))).toEqual([]);
      expect(sb.requests.slice(mark).filter((r) => r.host === 'project' && r.status === 401).length).toBeGreaterThan(0);
      expect(project.keys.map((k) => k.id)).toEqual(before);
      expect(dotenv(runtime, '.secrets/supabase.env', key)).toBe(fresh[id]);
    });
  }
});
