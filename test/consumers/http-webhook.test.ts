import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { setupServer } from 'msw/node';
import { httpWebhook } from '../../src/consumers/http-webhook.js';
import { describeError } from '../../src/errors/errors.js';
import { parsePolicy } from '../../src/registry/load-policy.js';
import { Secret } from '../../src/secret/secret.js';
import { targetSpec, testContext, testRuntime, type TestRuntime } from '../helpers/runtime.js';
import { createWebhookModel } from '../models/webhook.js';

const KEY = 'whsec_shared_hmac_key_6f1d2c';
const NEW = new Secret('new-password-Zq81.xk2_M4pd7sR');
const server = setupServer();
beforeAll(() => server.listen({ onUnhandledFrame: 'error' }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

function setup(options: Record<string, unknown> = {}, modelKey = KEY) {
  const model = createWebhookModel({ key: modelKey, header: options.header as string | undefined });
  server.use(...model.handlers);
  const runtime = testRuntime();
  const spec = targetSpec('http', { url: model.url, secret: KEY, ...options }, 'credentials.superset_ro.consumers[1].http');
  const consumer = httpWebhook(spec, testContext(runtime, { id: 'superset_ro', role: 'superset_ro' }));
  return { model, runtime, consumer };
}

function expectNoSecrets(runtime: TestRuntime, ...texts: string[]) {
  const all = [...runtime.reporter.lines, ...texts].join('\n');
  for (const secret of [NEW.reveal(), KEY]) expect(all).not.toContain(secret);
}

describe('http webhook consumer', () => {
  it('sends a signed ping on check and a signed rotated event without the value on refresh', async () => {
    const { model, runtime, consumer } = setup();
    await consumer.check();
    const detail = await consumer.refresh(NEW);
    expect(model.deliveries.map((d) => d.status)).toEqual([204, 204]);
    expect(model.events[0]).toEqual({ event: 'ping', credential: 'superset_ro', system: 'odoo-sor' });
    expect(model.events[1]).toMatchObject({
      event: 'rotated',
      credential: 'superset_ro',
      system: 'odoo-sor',
      rotated_at: '2026-03-01T03:00:00.000Z',
    });
    expect(model.events[1]).not.toHaveProperty('value');
    expect(model.deliveries[1].signature).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(model.deliveries.map((d) => d.body).join('')).not.toContain(NEW.reveal());
    expect(detail).toContain('no value');
    expectNoSecrets(runtime, detail, JSON.stringify(consumer));
  });

  it('in a dry run sends no ping (a delivery the receiver would record) and says so', async () => {
    const { model, consumer } = setup();
    expect(await consumer.check(true)).toMatch(/the signed ping is not sent in a dry run/);
    expect(model.deliveries).toEqual([]);
  });

  it('carries the value only when include_value is true, under a custom header', async () => {
    const { model, consumer } = setup({ include_value: true, header: 'X-Hub-Signature-256' });
    await consumer.refresh(NEW);
    expect(model.events[0].value).toBe(NEW.reveal());
    expect(model.deliveries[0].status).toBe(204);
  });

  it('fails with an actionable message when the receiver rejects the signature', async () => {
    const { model, runtime, consumer } = setup({}, 'another-key-the-receiver-holds');
    const error = await consumer.refresh(NEW).catch((e: unknown) => e);
    expect(describeError(error)).toMatch(
      /HTTP 401 \(signature mismatch\).*X-Rotation-Signature.*credentials\.superset_ro\.consumers\[1\]\.http\.secret/,
    );
    expect(model.deliveries).toHaveLength(1);
    expectNoSecrets(runtime, describeError(error));
  });

  it('retries 5xx and 429 and succeeds; a 400 fails at once', async () => {
    const { model, runtime, consumer } = setup();
    model.respondWith.push(500, 429);
    await consumer.refresh(NEW);
    expect(model.deliveries.map((d) => d.status)).toEqual([500, 429, 204]);
    // Two waits on the run's clock; the second honours the receiver's Retry-After: 2.
    expect(runtime.sleeps).toHaveLength(2);
    expect(runtime.sleeps[1]).toBe(2000);
    // Each retry is said in the log, as GitHub's, DigitalOcean's and Supabase's calls say theirs.
    expect(runtime.reporter.lines.filter((l) => /warning: .*HTTP (500|429).*; retry \d in \d+s/.test(l))).toHaveLength(2);
    model.respondWith.push(400, 500);
    const error = await consumer.refresh(NEW).catch((e: unknown) => e);
    expect(describeError(error)).toContain('HTTP 400 (bad event)');
    expect(model.deliveries.map((d) => d.status)).toEqual([500, 429, 204, 400]);
  });
});

describe('policy entries for the webhook and n8n consumers', () => {
  const text = (webhook: string) => `version: 1
systems:
  odoo-sor: { type: postgres, admin_url: "postgresql://a:b@db:5432/odoo" }
credentials:
  superset_ro:
    system: odoo-sor
    method: alter-role
    cadence: quarterly
    store: [{ file: { path: .secrets/superset.env, key: SUPERSET_RO_PASSWORD } }]
    consumers:
      - n8n-credential: { url: https://n8n.example.com, api_key: "\${N8N_API_KEY}", credential_id: pg7Xk2 }
      - http: { url: https://hooks.example.com/rotation, secret: "\${HOOK_KEY}"${webhook} }
`;
  const env = { N8N_API_KEY: 'n8n_api_5b0f4e1c9a7d2e8f', HOOK_KEY: KEY };

  it('validates them and fills in the defaults', () => {
    const [n8n, hook] = parsePolicy(text(''), 'rotation.yaml', env).credentials.superset_ro.consumers;
    expect(n8n.options.data).toEqual({ password: '{password}' });
    expect(hook.options).toMatchObject({ include_value: false, header: 'X-Rotation-Signature' });
  });

  it('names the key path of a wrong value, without quoting secrets', () => {
    let message = '';
    try {
      parsePolicy(text(', include_value: "yes"'), 'rotation.yaml', env);
    } catch (error) {
      message = String((error as Error).message);
    }
    expect(message).toContain('credentials.superset_ro.consumers[1].http.include_value: expected a boolean');
    expect(message).not.toContain(KEY);
  });
});
