// The example policy of the whole platform (examples/platform/rotation.yaml), loaded as shipped
// and rotated credential by credential through the real engine: a real Postgres for every
// password, msw models for GitHub, DigitalOcean, Supabase, Superset, n8n and Odoo's health page.
import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { connect, connectionConfig } from '../../src/postgres/connect.js';
import { parsePolicy } from '../../src/registry/load-policy.js';
import { Secret } from '../../src/secret/secret.js';
import { APP } from '../helpers/digitalocean.js';
import { login } from '../helpers/postgres.js';
import { REF } from '../helpers/supabase.js';
import {
  check,
  evidence,
  expectNoLeak,
  FILE,
  fx,
  live,
  LOGINS,
  PG_CREDS,
  PROJECT,
  REPO,
  rotate,
  SECRET,
  supersetUri,
  TEXT,
  URLS,
  values,
  world,
  type Id,
} from '../helpers/platform.js';

describe('examples/platform/rotation.yaml', () => {
  it('is valid against the schema as shipped, and names the schema for editors', () => {
    expect(TEXT.split('\n')[0]).toBe('# yaml-language-server: $schema=../../schema/rotation.schema.json');
    expect(existsSync(join(import.meta.dirname, '../../schema/rotation.schema.json'))).toBe(true);
    const policy = parsePolicy(TEXT, FILE, {}, { withoutSecrets: true });
    expect(Object.keys(policy.credentials)).toEqual(['doadmin', 'odoo_app', 'superset_ro', 'service_role', 'anon']);
    // A broken copy is refused: the test fails if validation stops working.
    expect(() => parsePolicy(TEXT.replace('cadence: quarterly', 'cadence: weekly'), FILE, {}, { withoutSecrets: true })).toThrow(
      /cadence: expected monthly \| quarterly/,
    );
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
      doadmin: { consumers: 0, health: 1 },
      odoo_app: { consumers: 1, health: 1 },
      superset_ro: { consumers: 1, health: 1 },
      service_role: { consumers: 2, health: 1 },
      anon: { consumers: 0, health: 1 },
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
      expect(
        record.consumers.map((c) => c.outcome),
        `${id} consumers`,
      ).toEqual(Array(expected[id].consumers).fill('ok'));
      expect(
        record.health.map((h) => h.outcome),
        `${id} health`,
      ).toEqual(Array(expected[id].health).fill('ok'));
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
    expect(byId.service_role.consumers.map((c) => c.target)).toEqual([
      `supabase-function-secrets ${REF} SERVICE_ROLE_KEY`,
      `n8n-credential ${URLS.N8N_URL} sbBridge1`,
    ]);
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
    expect(first.summary).toMatch(
      /test the connection of 'odoo': HTTP 400 \(400 Bad Request: The CSRF session token is missing\.\)\. .*session cookie/,
    );
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
    expect(first.summary).toMatch(
      new RegExp(
        `^refreshing digitalocean-app ${APP} \\(deploy\\) failed: app odoo \\(${APP}\\) deployment \\S+ ended in phase ERROR\\. read its logs \\(doctl apps logs ${APP}`,
      ),
    );
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
    const text = TEXT.replace(
      'expect_json: { status: pass } }\n',
      'expect_json: { status: pass } }\n      - no-stale-sessions: { grace_seconds: 10 }\n',
    );
    expect(text).not.toBe(TEXT);
    const w = world();
    const inUse = (await Promise.all(LOGINS.odoo_app.map(async (u) => ((await login(fx(), u, live.odoo_app)).ok ? u : '')))).find(Boolean)!;
    const stale = await connect(
      {
        ...connectionConfig(new Secret(fx().platform.adminUrl), { user: inUse, password: new Secret(live.odoo_app) }),
        application_name: 'odoo-web',
      },
      'odoo-web',
    );
    try {
      const result = await rotate(w, 'odoo_app', 'scheduled', text);
      expect(result.status).toBe('failed');
      expect(result.summary).toMatch(
        /no-stale-sessions of role odoo_app: the connection as rotation_admin cannot see when sessions of odoo_app started\. grant it .*GRANT pg_read_all_stats TO rotation_admin/,
      );
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
    expect(first.summary).toMatch(
      /^refreshing github-workflow insightpulseai\/ops deploy-odoo\.yml@main failed: .*run \d+ did not complete within 20 min, last status 'in_progress' \(https:\/\/github\.com\/insightpulseai\/ops\/actions\/runs\/\d+\)/,
    );
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
