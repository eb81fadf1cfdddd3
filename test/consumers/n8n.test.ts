import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { setupServer } from 'msw/node';
import { n8nCredential } from '../../src/consumers/n8n-credential.js';
import { describeError } from '../../src/errors/errors.js';
import { Secret } from '../../src/secret/secret.js';
import { targetSpec, testContext, testRuntime, type TestRuntime } from '../helpers/runtime.js';
import { createN8nModel, type N8nVersion } from '../models/n8n.js';

const API_KEY = 'n8n_api_5b0f4e1c9a7d2e8f';
const NEW = new Secret('new-password-Zq81.xk2_M4pd7sR');
const PATH = 'credentials.superset_ro.consumers[0].n8n-credential';
const server = setupServer();
beforeAll(() => server.listen({ onUnhandledFrame: 'error' }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

function setup(options: Record<string, unknown> = {}, version: N8nVersion = 'current') {
  const model = createN8nModel({
    apiKey: API_KEY,
    version,
    credentials: [
      {
        id: 'pg7Xk2',
        name: 'Odoo read-only',
        type: 'postgres',
        data: { host: 'db', database: 'odoo', user: 'superset_ro', password: 'old-one', port: 25060 },
      },
    ],
  });
  server.use(...model.handlers);
  const runtime = testRuntime();
  const consumer = n8nCredential(
    targetSpec('n8n-credential', { url: model.baseUrl, api_key: API_KEY, credential_id: 'pg7Xk2', ...options }, PATH),
    testContext(runtime),
  );
  return { model, runtime, consumer };
}

function expectNoSecrets(runtime: TestRuntime, ...texts: string[]) {
  const all = [...runtime.reporter.lines, ...texts].join('\n');
  expect(all).not.toContain(NEW.reveal());
  expect(all).not.toContain(API_KEY);
}

describe('n8n-credential consumer', () => {
  it('in a dry run reads the credential and its type but sends no PATCH: updatedAt does not move', async () => {
    const { model, consumer } = setup();
    const before = model.updatedAt('pg7Xk2');
    const left = await consumer.check(true);
    expect(left).toMatch(
      /^the no-op partial update is not sent in a dry run .*the API key, its read access, the credential id and the data's fields were checked; whether this release takes a partial update .* is proven by a real run's preflight/,
    );
    expect(model.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'GET /api/v1/credentials/pg7Xk2',
      'GET /api/v1/credentials/schema/postgres',
    ]);
    expect(model.updatedAt('pg7Xk2')).toBe(before);
    // A real preflight sends it, and n8n records it: why a dry run must not.
    await consumer.check();
    expect(model.updatedAt('pg7Xk2')).not.toBe(before);
  });

  it('checks the key and the id, then merges only the password into the credential', async () => {
    const { model, runtime, consumer } = setup();
    await consumer.check();
    const detail = await consumer.refresh(NEW);
    expect(model.credentialData('pg7Xk2')).toEqual({
      host: 'db',
      database: 'odoo',
      user: 'superset_ro',
      password: NEW.reveal(),
      port: 25060,
    });
    // The preflight's no-op partial update, then the update itself.
    expect(model.requests.map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual([
      'GET /api/v1/credentials/pg7Xk2 200',
      'GET /api/v1/credentials/schema/postgres 200',
      'PATCH /api/v1/credentials/pg7Xk2 200',
      'PATCH /api/v1/credentials/pg7Xk2 200',
    ]);
    expectNoSecrets(runtime, detail, JSON.stringify(consumer));
  });

  it('sends the data mapping as written, {password} filled in, and keeps the fields it does not name', async () => {
    const { model, consumer } = setup({ data: { password: '{password}', host: 'db.internal', port: 5432 } });
    await consumer.refresh(NEW);
    expect(model.credentialData('pg7Xk2')).toEqual({
      host: 'db.internal',
      database: 'odoo',
      user: 'superset_ro',
      password: NEW.reveal(),
      port: 5432,
    });
  });

  it('refuses a data mapping that never uses {password}', () => {
    expect(() => setup({ data: { user: 'superset_ro' } })).toThrow(`${PATH}.data: no value contains {password}`);
  });

  it('reports a bad API key (401) and an unknown credential (404) at check, before any change', async () => {
    const bad = setup({ api_key: 'n8n_api_wrong' });
    const e401 = await bad.consumer.check().catch((e: unknown) => e);
    expect(describeError(e401)).toMatch(
      /HTTP 401 \(unauthorized\).*n8n refused the API key \(credentials\.superset_ro\.consumers\[0\]\.n8n-credential\.api_key\)/,
    );
    const missing = setup({ credential_id: 'nope' });
    const e404 = await missing.consumer.check().catch((e: unknown) => e);
    expect(describeError(e404)).toMatch(/HTTP 404 \(Credential not found\).*copy the id from the credential's URL/);
    expect(missing.model.credentialData('pg7Xk2')?.password).toBe('old-one');
    expectNoSecrets(bad.runtime, describeError(e401));
  });

  it('explains a 405 on PATCH (n8n 2.39.5, issue #38746) at the preflight, before any change', async () => {
    const { model, runtime, consumer } = setup({}, '2.39.5');
    const error = await consumer.check().catch((e: unknown) => e);
    expect(describeError(error)).toMatch(
      /no-op partial update \(preflight\) was refused with HTTP 405\. .*2\.39\.5 .*#38746.*Nothing was changed in n8n/,
    );
    expect(model.credentialData('pg7Xk2')?.password).toBe('old-one');
    const late = await consumer.refresh(NEW).catch((e: unknown) => e);
    expect(describeError(late)).toMatch(/the update was refused with HTTP 405\. .*#38746/);
    expectNoSecrets(runtime, describeError(error), describeError(late));
  });

  it('an n8n before the partial update (PR #23431) is refused at the preflight: reading the credential answers 405', async () => {
    const { model, runtime, consumer } = setup({}, 'before-partial-update');
    const error = await consumer.check().catch((e: unknown) => e);
    expect(describeError(error)).toMatch(
      /reading the credential answered HTTP 405\. this n8n predates PATCH .*PR #23431.*2\.3\.0.*upgrade n8n/,
    );
    expect(model.requests.map((r) => `${r.method} ${r.status}`)).toEqual(['GET 405']);
    expect(runtime.reporter.lines.join('\n')).not.toMatch(/warning/i);
  });

  it('an n8n that validates partial data against the whole schema (before PR #35680) is refused at the preflight with the right cause', async () => {
    const { model, consumer } = setup({}, 'strict-partial');
    const error = await consumer.check().catch((e: unknown) => e);
    expect(describeError(error)).toMatch(
      /refused with HTTP 400 \(request\.body\.data requires property "ssl"\)\. this n8n validates partial credential data against the credential type's whole schema.*PR #35680/,
    );
    expect(describeError(error)).not.toMatch(/keys must be fields|lists the fields/);
    expect(model.credentialData('pg7Xk2')?.password).toBe('old-one');
  });

  it('an API key without the credential:update scope is refused by the no-op at the preflight (403), before any change', async () => {
    const model = createN8nModel({
      apiKey: API_KEY,
      scopes: ['credential:read'],
      credentials: [{ id: 'pg7Xk2', name: 'Odoo', type: 'postgres', data: { password: 'old-one' } }],
    });
    server.use(...model.handlers);
    const consumer = n8nCredential(
      targetSpec('n8n-credential', { url: model.baseUrl, api_key: API_KEY, credential_id: 'pg7Xk2' }, PATH),
      testContext(testRuntime()),
    );
    const error = await consumer.check().catch((e: unknown) => e);
    expect(describeError(error)).toMatch(
      /no-op partial update \(preflight\): HTTP 403 \(Forbidden\)\. the API key lacks a scope this needs \(credential:read and credential:update/,
    );
    expect(model.credentialData('pg7Xk2')?.password).toBe('old-one');
  });

  it('refuses at the preflight a data key the type does not have, or a template where the type takes a number', async () => {
    const typo = setup({ data: { passwd: '{password}' } });
    const e1 = await typo.consumer.check().catch((e: unknown) => e);
    expect(describeError(e1)).toMatch(
      /n8n-credential\.data: 'passwd' is not a field of n8n credential type postgres \(its fields: host, database, user, password,.*\)\. fix the data mapping; nothing was changed/,
    );
    const wrongType = setup({ data: { password: '{password}', port: '{password}' } });
    const e2 = await wrongType.consumer.check().catch((e: unknown) => e);
    expect(describeError(e2)).toMatch(/n8n-credential\.data\.port: n8n credential type postgres takes a number there, not a string/);
    for (const m of [typo.model, wrongType.model]) expect(m.requests.some((r) => r.method === 'PATCH')).toBe(false);
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
