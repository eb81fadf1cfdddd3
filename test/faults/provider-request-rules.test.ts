import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import { describeError, type RotationError } from '../../src/errors/errors.js';
import { boundedRuntime } from '../../src/runtime/deadline.js';
import { Secret } from '../../src/secret/secret.js';
import { digitalOceanClient } from '../../src/digitalocean/client.js';
import { digitalOceanSystemSettings } from '../../src/digitalocean/settings.js';
import { supabaseClient, supabaseSystem } from '../../src/supabase/client.js';
import type { ProviderSystem, SystemPolicy } from '../../src/policy/types.js';
import { createDigitalOceanModel } from '../models/digitalocean.js';
import { createSupabaseModel } from '../models/supabase.js';
import { testRuntime } from '../helpers/runtime.js';

/**
 * DigitalOcean's and Supabase's calls follow the rules of every HTTP call of a run (src/http/):
 * a rate limit is waited out on the run's clock and never past its deadline, a redirect is not
 * followed, and a server that echoes the request in its error (the token, the password sent)
 * leaves no secret in the error or the log.
 */
const server = setupServer();
beforeAll(() => server.listen({ onUnhandledFrame: 'error' }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

const START = new Date('2026-03-01T03:00:00Z');
const DO_TOKEN = 'dop_v1_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef';
const SB_TOKEN = 'sbp_0123456789abcdef0123456789abcdef01234567';
const REF = 'abcdefghijklmnopqrst';
const CLUSTER = '9cc10173-e9ea-4176-9dbc-a4cee4c4ff30';
const NEW_PASSWORD = 'n3w-Pa55word-for-postgres-7f3a9c';

function runtimeWithDeadline(deadlineAfterMs?: number) {
  const test = testRuntime({ startAt: START, ...(deadlineAfterMs ? { deadline: START.getTime() + deadlineAfterMs } : {}) });
  return { test, runtime: boundedRuntime(test) };
}

function digitalOcean(deadlineAfterMs?: number) {
  const model = createDigitalOceanModel({
    tokens: { [DO_TOKEN]: ['database:read', 'database:update', 'database:view_credentials'] },
    clusters: [{ id: CLUSTER, name: 'db-main', host: 'db.example.com', port: 25060, users: { odoo_app: 'x' }, superuserUrl: '' }],
  });
  server.use(...model.handlers);
  const { test, runtime } = runtimeWithDeadline(deadlineAfterMs);
  const system: ProviderSystem = { id: 'do', type: 'digitalocean', settings: { cluster_id: CLUSTER, token: DO_TOKEN } } as ProviderSystem;
  const settings = digitalOceanSystemSettings(system, runtime);
  return { model, test, client: digitalOceanClient(settings.token, settings.apiUrl, runtime) };
}

function supabase(deadlineAfterMs?: number) {
  const model = createSupabaseModel({ token: SB_TOKEN, projects: [{ ref: REF }], now: () => START });
  server.use(...model.handlers);
  const { test, runtime } = runtimeWithDeadline(deadlineAfterMs);
  const system = { id: 'sb', type: 'supabase', settings: { project_ref: REF, access_token: SB_TOKEN } } as unknown as SystemPolicy;
  return { model, test, client: supabaseClient(runtime, supabaseSystem(system, runtime)) };
}

/** What a server that echoes the request says: its headers and its body, as some gateways do. */
async function echo(request: Request): Promise<string> {
  const headers: string[] = [];
  request.headers.forEach((v, k) => headers.push(`${k}: ${v}`));
  return `upstream failed for ${request.method} ${request.url} (${headers.join('; ')}) body=${await request.text()}`;
}

describe('DigitalOcean calls: the run’s deadline, redirects and echoed requests', () => {
  it('a 429 with Retry-After is retried on the run’s clock and stops at its deadline', async () => {
    const { model, test, client } = digitalOcean(150_000);
    model.failNext({ method: 'GET' }, { status: 429, headers: { 'retry-after': '60' } }, 10);
    const error = await client.getCluster(CLUSTER, {}).catch((e: unknown) => e);
    expect((error as RotationError).code).toBe('DEADLINE');
    expect(describeError(error)).toMatch(/the run's deadline \(2026-03-01T03:02:30\.000Z\) passed at a wait of 60 s/);
    expect(test.sleeps).toEqual([60_000, 60_000]);
    expect(model.requests.filter((r) => r.method === 'GET')).toHaveLength(3);
    expect(test.reporter.lines.filter((l) => /warning: DigitalOcean: read database cluster .*retry \d in 60s/.test(l))).toHaveLength(3);
  });

  it('a 429 that clears is waited out and the call succeeds', async () => {
    const { model, test, client } = digitalOcean();
    model.failNext({ method: 'GET' }, { status: 429, headers: { 'retry-after': '2' } }, 1);
    const cluster = await client.getCluster(CLUSTER, {});
    expect(cluster.name).toBe('db-main');
    expect(test.sleeps).toEqual([2_000]);
  });

  it('does not follow a redirect to another host: the call fails and that host sees no request', async () => {
    const { test, client } = digitalOcean();
    const elsewhere: Request[] = [];
    server.use(
      http.get(`https://api.digitalocean.com/v2/databases/${CLUSTER}`, () =>
        HttpResponse.text('', { status: 302, headers: { location: 'https://collector.example.net/x' } }),
      ),
      http.all('https://collector.example.net/*', ({ request }) => {
        elsewhere.push(request);
        return HttpResponse.json({});
      }),
    );
    const error = await client.getCluster(CLUSTER, {}).catch((e: unknown) => e);
    expect(describeError(error)).toMatch(/DigitalOcean: read database cluster .*: HTTP 302/);
    expect(elsewhere).toEqual([]);
    expect(test.sleeps).toEqual([]);
  });

  it('a server that echoes the request (token, body) in its error leaves no secret in the error or the log', async () => {
    const { test, client } = digitalOcean();
    server.use(
      http.post(`https://api.digitalocean.com/v2/databases/${CLUSTER}/users/odoo_app/reset_auth`, async ({ request }) =>
        HttpResponse.json({ id: 'server_error', message: await echo(request) }, { status: 500 }),
      ),
    );
    const error = await client.resetAuth(CLUSTER, 'odoo_app', {}).catch((e: unknown) => e);
    const said = `${describeError(error)}\n${test.reporter.lines.join('\n')}`;
    expect(said).toMatch(/DigitalOcean: reset the password of user odoo_app .*HTTP 500 \(upstream failed/);
    expect(said).not.toContain(DO_TOKEN);
    expect(said).not.toContain(DO_TOKEN.slice(0, 24));
  });
});

describe('Supabase calls: the run’s deadline, redirects and echoed requests', () => {
  it('a 429 with Retry-After is retried on the run’s clock and stops at its deadline', async () => {
    const { model, test, client } = supabase(150_000);
    model.failNext({ method: 'GET', host: 'management' }, { status: 429, headers: { 'retry-after': '60' } }, 10);
    const error = await client.getProject().catch((e: unknown) => e);
    expect((error as RotationError).code).toBe('DEADLINE');
    expect(describeError(error)).toMatch(/the run's deadline \(2026-03-01T03:02:30\.000Z\) passed at a wait of 60 s/);
    expect(test.sleeps).toEqual([60_000, 60_000]);
    expect(model.count({ method: 'GET', host: 'management' })).toBe(3);
    expect(test.reporter.lines.filter((l) => /warning: Supabase: read project .*retry \d in 60s/.test(l))).toHaveLength(3);
  });

  it('creating a key is not sent twice blindly: after a 503 the retry looks for the key first, and one key exists', async () => {
    const { model, test, client } = supabase();
    model.failNext({ method: 'POST', host: 'management' }, { status: 503, applied: true }, 1);
    const key = await client.createKey('secret', 'rotation_key_1');
    expect(key.name).toBe('rotation_key_1');
    expect(model.count({ method: 'POST', host: 'management' })).toBe(1);
    expect(model.project(REF).keys.filter((k) => k.name === 'rotation_key_1')).toHaveLength(1);
    expect(test.sleeps).toHaveLength(1);
  });

  it('does not follow a redirect to another host: the call fails and that host sees no request', async () => {
    const { client } = supabase();
    const elsewhere: Request[] = [];
    server.use(
      http.get(`https://api.supabase.com/v1/projects/${REF}`, () =>
        HttpResponse.text('', { status: 307, headers: { location: 'https://collector.example.net/x' } }),
      ),
      http.all('https://collector.example.net/*', ({ request }) => {
        elsewhere.push(request);
        return HttpResponse.json({});
      }),
    );
    const error = await client.getProject().catch((e: unknown) => e);
    expect(describeError(error)).toMatch(/Supabase: read project .*: HTTP 307/);
    expect(elsewhere).toEqual([]);
  });

  it('a server that echoes the request (token, the new database password) in its error leaves no secret in the error or the log', async () => {
    const { test, client } = supabase();
    const password = new Secret(NEW_PASSWORD);
    test.reporter.mask(password);
    server.use(
      http.patch(`https://api.supabase.com/v1/projects/${REF}/database/password`, async ({ request }) =>
        HttpResponse.json({ message: await echo(request) }, { status: 500 }),
      ),
    );
    const error = await client.setDatabasePassword(password).catch((e: unknown) => e);
    const said = `${describeError(error)}\n${test.reporter.lines.join('\n')}`;
    expect(said).toMatch(/Supabase: set the database password of project .*HTTP 500 \(upstream failed/);
    for (const secret of [SB_TOKEN, NEW_PASSWORD]) {
      expect(said).not.toContain(secret);
      expect(said).not.toContain(secret.slice(0, 20));
    }
  });
});
