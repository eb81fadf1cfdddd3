import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { setupServer } from 'msw/node';
import { n8nCredential } from '../src/consumers/n8n-credential.js';
import { describeError } from '../src/engine/errors.js';
import { Secret } from '../src/secret/secret.js';
import { targetSpec, testContext, testRuntime, type TestRuntime } from './helpers/runtime.js';
import { createN8nModel } from './models/n8n.js';

const API_KEY = 'n8n_api_5b0f4e1c9a7d2e8f';
const NEW = new Secret('new-password-Zq81.xk2_M4pd7sR');
const PATH = 'credentials.superset_ro.consumers[0].n8n-credential';
const server = setupServer();
beforeAll(() => server.listen({ onUnhandledFrame: 'error' }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

function setup(options: Record<string, unknown> = {}) {
  const model = createN8nModel({
    apiKey: API_KEY,
    credentials: [{ id: 'pg7Xk2', name: 'Odoo read-only', type: 'postgres', data: { host: 'db', database: 'odoo', user: 'superset_ro', password: 'old-one', port: 25060 } }],
  });
  server.use(...model.handlers);
  const runtime = testRuntime();
  const consumer = n8nCredential(targetSpec('n8n-credential', { url: model.baseUrl, api_key: API_KEY, credential_id: 'pg7Xk2', ...options }, PATH), testContext(runtime));
  return { model, runtime, consumer };
}

function expectNoSecrets(runtime: TestRuntime, ...texts: string[]) {
  const all = [...runtime.reporter.lines, ...texts].join('\n');
  expect(all).not.toContain(NEW.reveal());
  expect(all).not.toContain(API_KEY);
}

describe('n8n-credential consumer', () => {
  it('checks the key and the id, then merges only the password into the credential', async () => {
    const { model, runtime, consumer } = setup();
    await consumer.check();
    const detail = await consumer.refresh(NEW);
    expect(model.credentialData('pg7Xk2')).toEqual({ host: 'db', database: 'odoo', user: 'superset_ro', password: NEW.reveal(), port: 25060 });
    expect(model.requests.map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual(['GET /api/v1/credentials/pg7Xk2 200', 'PATCH /api/v1/credentials/pg7Xk2 200']);
    expectNoSecrets(runtime, detail, JSON.stringify(consumer));
  });

  it('sends the data mapping as written, {password} filled in, and keeps the fields it does not name', async () => {
    const { model, consumer } = setup({ data: { password: '{password}', host: 'db.internal', port: 5432 } });
    await consumer.refresh(NEW);
    expect(model.credentialData('pg7Xk2')).toEqual({ host: 'db.internal', database: 'odoo', user: 'superset_ro', password: NEW.reveal(), port: 5432 });
  });

  it('refuses a data mapping that never uses {password}', () => {
    expect(() => setup({ data: { user: 'superset_ro' } })).toThrow(`${PATH}.data: no value contains {password}`);
  });

  it('reports a bad API key (401) and an unknown credential (404) at check, before any change', async () => {
    const bad = setup({ api_key: 'n8n_api_wrong' });
    const e401 = await bad.consumer.check().catch((e: unknown) => e);
    expect(describeError(e401)).toMatch(/HTTP 401 \(unauthorized\).*n8n refused the API key \(credentials\.superset_ro\.consumers\[0\]\.n8n-credential\.api_key\)/);
    const missing = setup({ credential_id: 'nope' });
    const e404 = await missing.consumer.check().catch((e: unknown) => e);
    expect(describeError(e404)).toMatch(/HTTP 404 \(Credential not found\).*copy the id from the credential's URL/);
    expect(missing.model.credentialData('pg7Xk2')?.password).toBe('old-one');
    expectNoSecrets(bad.runtime, describeError(e401));
  });

  it('explains a 405 on PATCH: this n8n lacks partial credential update', async () => {
    const { model, runtime, consumer } = setup();
    model.patchMissing = true;
    const error = await consumer.refresh(NEW).catch((e: unknown) => e);
    expect(describeError(error)).toMatch(/update refused with HTTP 405.*PR #23431.*upgrade n8n.*2\.39\.5.*#38746/);
    expect(model.credentialData('pg7Xk2')?.password).toBe('old-one');
    expectNoSecrets(runtime, describeError(error));
  });

  it('falls back to the workflows list to prove the key where one credential cannot be read', async () => {
    const { model, runtime, consumer } = setup();
    model.getMissing = true;
    await consumer.check();
    expect(model.requests.map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual(['GET /api/v1/credentials/pg7Xk2 405', 'GET /api/v1/workflows?limit=1 200']);
    expect(runtime.reporter.lines.join('\n')).toContain('its id is checked only by the update');
  });

  it('retries a 503 and a 429 on PATCH, and rejects data keys the type does not have (400)', async () => {
    const { model, runtime, consumer } = setup();
    model.failNextPatch.push(503, 429);
    await consumer.refresh(NEW);
    expect(model.requests.map((r) => r.status)).toEqual([503, 429, 200]);
    expect(runtime.sleeps[1]).toBe(1000);
    const wrong = setup({ data: { passwd: '{password}' } });
    const error = await wrong.consumer.refresh(NEW).catch((e: unknown) => e);
    expect(describeError(error)).toMatch(/HTTP 400 .*additional property "passwd".*credentials\/schema/);
  });
});
