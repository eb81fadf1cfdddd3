import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { setupServer } from 'msw/node';
import { httpProbe } from '../../src/health/http.js';
import { describeError } from '../../src/errors/errors.js';
import { parsePolicy } from '../../src/registry/load-policy.js';
import { Secret } from '../../src/secret/secret.js';
import { targetSpec, testContext, testRuntime } from '../helpers/runtime.js';
import { createOdooModel } from '../models/odoo.js';
import { createSupersetModel } from '../models/superset.js';

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledFrame: 'error' }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

const VALUE = new Secret('unused-by-http-probes-0123456789');
const ODOO_HEALTH = 'https://erp.example.com/web/health?db_server_status=1';
const SUPERSET_HEALTH = 'https://superset.example.com/health';

function probe(options: Record<string, unknown>, runtime = testRuntime()) {
  return {
    runtime,
    probe: httpProbe(targetSpec('http', { timeout_seconds: 6, ...options }, 'credentials.odoo_app.health[0].http'), testContext(runtime)),
  };
}

async function failure(p: { probe: (v: Secret) => Promise<string> }): Promise<string> {
  return p.probe(VALUE).then(
    () => 'passed',
    (error: unknown) => describeError(error),
  );
}

describe('http health probe against Odoo /web/health', () => {
  const odoo = { url: ODOO_HEALTH, expect_status: 200, expect_json: { status: 'pass' } };

  it('passes on {"status": "pass"}', async () => {
    server.use(...createOdooModel().handlers);
    expect(await probe(odoo).probe.probe(VALUE)).toBe('HTTP 200 with {"status":"pass"}');
  });

  it('fails on HTTP 500 {"status": "fail"} when Odoo cannot reach Postgres, after retrying', async () => {
    const model = createOdooModel();
    model.databaseUp = false;
    server.use(...model.handlers);
    const { runtime, probe: p } = probe(odoo);
    expect(await failure(p)).toBe(
      `${ODOO_HEALTH}: HTTP 500, expected 200 (body: {"status":"fail","db_server_status":false}) (after 4 tries over 6s)`,
    );
    expect(model.requests).toBe(4);
    expect(runtime.sleeps).toEqual([2000, 2000, 2000]);
  });

  it('fails on a 200 whose JSON says {"status": "fail"} (a proxy rewriting the status)', async () => {
    const model = createOdooModel();
    model.answer = { status: 200, body: '{"status": "fail"}' };
    server.use(...model.handlers);
    expect(await failure(probe(odoo).probe)).toMatch(/JSON status is "fail", expected "pass" \(after \d+ tries over 6s\)$/);
  });

  it('passes once Odoo comes back within the timeout', async () => {
    const model = createOdooModel();
    model.answer = { status: 502, body: '<html><body><h1>502 Bad Gateway</h1></body></html>', contentType: 'text/html' };
    server.use(...model.handlers);
    const runtime = testRuntime();
    const wait = runtime.sleep;
    // The proxy recovers while the probe waits between tries.
    runtime.sleep = async (ms) => {
      model.answer = undefined;
      await wait(ms);
    };
    expect(await probe(odoo, runtime).probe.probe(VALUE)).toBe('HTTP 200 with {"status":"pass"}');
    expect(model.requests).toBe(2);
    expect(runtime.sleeps).toEqual([2000]);
  });
});

describe('http health probe against Superset /health', () => {
  const superset = { url: SUPERSET_HEALTH, expect_text: 'OK' };
  const model = () => {
    const m = createSupersetModel({ users: {} });
    server.use(...m.handlers);
    return m;
  };

  it('passes on OK', async () => {
    model();
    expect(await probe(superset).probe.probe(VALUE)).toBe('HTTP 200 with body "OK"');
  });

  it('fails on NOT OK, which expect_body: OK would accept', async () => {
    const m = model();
    m.health = { status: 200, body: 'NOT OK' };
    expect(await failure(probe(superset).probe)).toMatch(/: body is not exactly "OK" \(body: NOT OK\) \(after \d+ tries over 6s\)$/);
    expect(await failure(probe({ url: SUPERSET_HEALTH, expect_body: 'OK' }).probe)).toBe('passed');
  });

  it('fails on HTTP 500', async () => {
    const m = model();
    m.health = { status: 500, body: 'Internal Server Error' };
    expect(await failure(probe(superset).probe)).toMatch(/: HTTP 500, expected 200 \(body: Internal Server Error\)/);
  });
});

describe('the documented policy entries validate', () => {
  it('accepts the Odoo and Superset health examples', () => {
    const policy = parsePolicy(
      `version: 1
systems:
  odoo-sor: { type: postgres, admin_url: "postgresql://a:b@db:5432/odoo" }
credentials:
  odoo_app:
    system: odoo-sor
    method: alter-role
    cadence: quarterly
    store: [{ file: { path: .secrets/odoo.env, key: ODOO_DB_PASSWORD } }]
    health:
      - http: { url: "${ODOO_HEALTH}", expect_status: 200, expect_json: { status: pass }, timeout_seconds: 120 }
      - http: { url: "${SUPERSET_HEALTH}", expect_text: OK }
`,
      'rotation.yaml',
      {},
    );
    expect(policy.credentials.odoo_app.health.map((h) => h.options.url)).toEqual([ODOO_HEALTH, SUPERSET_HEALTH]);
  });
});
