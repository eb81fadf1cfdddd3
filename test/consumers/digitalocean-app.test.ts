import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { setupServer } from 'msw/node';
import { digitalOceanApp } from '../../src/consumers/digitalocean-app.js';
import { describeError, RotationError } from '../../src/errors/errors.js';
import { Secret } from '../../src/secret/secret.js';
import { ALL_SCOPES, createDigitalOceanModel, type AppSpec } from '../models/digitalocean.js';
import { targetSpec, testContext, testRuntime } from '../helpers/runtime.js';

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledFrame: 'error' }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

const TOKEN = 'dop_v1_app_token_0123456789abcdef0123456789abcdef';
const APP_ID = '4f6c71e2-1e90-4762-9fee-6cc4a0a9f2cf';

function setup(app: Partial<AppSpec> = {}, options: Record<string, unknown> = {}, scopes = ALL_SCOPES) {
  const model = createDigitalOceanModel({
    tokens: { [TOKEN]: scopes },
    apps: [{ id: APP_ID, name: 'odoo', components: ['web', 'worker'], ...app }],
  });
  server.use(...model.handlers);
  const runtime = testRuntime();
  const consumer = digitalOceanApp(
    targetSpec(
      'digitalocean-app',
      { app_id: APP_ID, token: TOKEN, poll_seconds: 5, ...options },
      'credentials.doadmin.consumers[0].digitalocean-app',
    ),
    testContext(runtime),
  );
  return { model, runtime, consumer };
}

async function failure(promise: Promise<unknown>): Promise<RotationError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RotationError);
  return error as RotationError;
}

const NEW = new Secret('unused-by-this-consumer');

describe('digitalocean-app consumer', () => {
  it('restarts the app and waits until the deployment is ACTIVE', async () => {
    const { model, runtime, consumer } = setup({}, { components: ['web'] });
    await consumer.check();
    const detail = await consumer.refresh(NEW);
    expect(detail).toMatch(/^app odoo \(4f6c71e2-.*\) deployment [0-9a-f-]+ is ACTIVE after a restart$/);
    const restart = model.requests.find((r) => r.method === 'POST');
    expect(restart).toMatchObject({ path: `/v2/apps/${APP_ID}/restart`, status: 200, body: { components: ['web'] } });
    // PENDING_DEPLOY → DEPLOYING → ACTIVE: two polls, one wait of poll_seconds before each.
    expect(model.count({ method: 'GET', path: /\/deployments\// })).toBe(2);
    expect(runtime.sleeps).toEqual([5000, 5000]);
    // check() and the polls went through runtime.fetch: msw saw them.
    expect(model.count({ method: 'GET', path: `/v2/apps/${APP_ID}` })).toBe(2);
  });

  it('mode deploy creates a deployment (force_build as asked) and waits through the build', async () => {
    const { model, consumer } = setup({}, { mode: 'deploy', force_build: true });
    expect(await consumer.refresh(NEW)).toMatch(/is ACTIVE after a deploy$/);
    expect(model.requests.find((r) => r.method === 'POST')).toMatchObject({
      path: `/v2/apps/${APP_ID}/deployments`,
      body: { force_build: true },
    });
    expect(model.count({ method: 'GET', path: /\/deployments\// })).toBe(3);
  });

  it('fails on a deployment that ends in ERROR, naming the app and the deployment', async () => {
    const { model, consumer } = setup({ outcome: 'ERROR' });
    const error = await failure(consumer.refresh(NEW));
    const id = [...model.deployments.keys()][0];
    expect(error.message).toBe(`app odoo (${APP_ID}) deployment ${id} ended in phase ERROR`);
    expect(error.hint).toContain(`doctl apps logs ${APP_ID} --deployment ${id}`);
  });

  it('fails on CANCELED too', async () => {
    const { consumer } = setup({ outcome: 'CANCELED' });
    expect((await failure(consumer.refresh(NEW))).message).toMatch(/ended in phase CANCELED$/);
  });

  it('gives up after timeout_minutes with the last phase', async () => {
    const { runtime, consumer } = setup({ outcome: 'stuck' }, { timeout_minutes: 1 });
    const error = await failure(consumer.refresh(NEW));
    expect(error.message).toMatch(/^app odoo \(.*\) deployment .* was not ACTIVE within 1 min \(last phase DEPLOYING\)$/);
    expect(error.code).toBe('TIMEOUT');
    expect(runtime.sleeps.reduce((a, b) => a + b, 0)).toBe(60_000);
  });

  it('check(): an unknown app is a 404 that says what to check', async () => {
    const { consumer } = setup({ id: 'another-app' });
    const error = await failure(consumer.check());
    expect(describeError(error)).toBe(
      `DigitalOcean: read app ${APP_ID}: HTTP 404 (The resource you were accessing could not be found.). app ${APP_ID} was not found: check credentials.doadmin.consumers[0].digitalocean-app.app_id (doctl apps list) and that the token's team owns it`,
    );
  });

  it('check(): a bad token (401) and a token without app scopes (403) are told apart', async () => {
    const bad = setup();
    bad.model.tokens[TOKEN] = undefined as unknown as string[];
    expect((await failure(bad.consumer.check())).hint).toMatch(/rejected the token/);
    server.resetHandlers();
    const noScope = setup({}, {}, ['database:read']);
    expect(describeError(await failure(noScope.consumer.check()))).toMatch(/HTTP 403 .*needs the app:read and app:update scopes/);
  });

  it('an unknown component is refused (422) before anything restarts', async () => {
    const { model, consumer } = setup({}, { components: ['api'] });
    expect(describeError(await failure(consumer.refresh(NEW)))).toMatch(/HTTP 422 .*components/);
    expect(model.deployments.size).toBe(0);
  });

  it('retries a rate-limited restart after Retry-After', async () => {
    const { model, runtime, consumer } = setup();
    model.failNext({ method: 'POST', path: /\/restart$/ }, { status: 429 });
    await consumer.refresh(NEW);
    expect(runtime.sleeps[0]).toBe(2000);
    expect(model.count({ method: 'POST' })).toBe(2);
    expect(runtime.reporter.lines.join('\n')).not.toContain(TOKEN);
  });

  it('check(): a credential whose system names no cluster cannot tell which cluster an app binds: a component with its user counts', async () => {
    const envs = { web: [{ key: 'DATABASE_URL', value: '${db.DATABASE_URL}' }] };
    const { model, consumer } = setup({ databases: [{ name: 'db', cluster_name: 'elsewhere', db_user: 'odoo_app' }], envs });
    const error = await failure(consumer.check());
    expect(error.message).toBe(
      `app odoo (${APP_ID}) binds DigitalOcean's copy of a password the rotation changes: services[web] DATABASE_URL = \${db.DATABASE_URL} (odoo_app). App Platform injects DigitalOcean's copy when it deploys; alter-role changes the password with ALTER ROLE, which DigitalOcean does not document to update that copy (systems.odoo-sor names no cluster:, so every database component with that user counts)`,
    );
    expect(error.code).toBe('NOT_ALLOWED');
    // The same app bound to another user is no concern of this credential.
    server.resetHandlers();
    const other = setup({ databases: [{ name: 'db', cluster_name: 'elsewhere', db_user: 'superset_ro' }], envs });
    await other.consumer.check();
    expect(model.deployments.size + other.model.deployments.size).toBe(0);
  });
});
