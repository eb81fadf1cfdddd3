import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { setupServer } from 'msw/node';
import { githubStore } from '../../src/stores/github.js';
import { RotationError, describeError } from '../../src/errors/errors.js';
import { Secret } from '../../src/secret/secret.js';
import { createGitHubModel, type GitHubModelOptions } from '../models/github.js';
import { serveHandlers } from '../models/serve.js';
import { createGitHubClient } from '../../src/github/client.js';
import { GITHUB_TEST_TOKEN, targetSpec, testContext, testRuntime } from '../helpers/runtime.js';

// The unpatched fetch (msw patches the global one in listen()), to reach a real local server.
const realFetch = globalThis.fetch;
const server = setupServer();
beforeAll(() => server.listen({ onUnhandledFrame: 'error' }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

const PLAIN = 'n3w-Pa55word-for-odoo_app-7f3a9c';

function setup(options: Partial<GitHubModelOptions> = {}) {
  const model = createGitHubModel({
    token: GITHUB_TEST_TOKEN,
    repos: [{ full_name: 'acme/ops', environments: ['production', 'staging/blue'] }, { full_name: 'acme/web' }, { full_name: 'acme/api' }],
    orgs: ['acme'],
    ...options,
  });
  server.use(...model.handlers);
  const runtime = testRuntime();
  const ctx = testContext(runtime);
  const store = (opts: Record<string, unknown>, i = 0) =>
    githubStore(targetSpec('github', opts, `credentials.odoo_app.store[${i}].github`), ctx);
  return { model, runtime, store };
}

/** Everything a failure could show a person or a log. */
function surfaces(error: unknown): string {
  const e = error as RotationError;
  return [e.message, e.hint, String(e), JSON.stringify(e), e.stack, describeError(e)].join('\n');
}

describe('github store', () => {
  it('writes a repository secret GitHub can decrypt, 201 on create and 204 on update', async () => {
    const { model, store } = setup();
    const target = store({ repository: 'acme/ops', secret: 'ODOO_DB_PASSWORD' });
    expect(target.label).toBe('github acme/ops ODOO_DB_PASSWORD');
    await target.check();
    await target.write(new Secret(PLAIN));
    expect(model.secretValue({ repository: 'acme/ops', name: 'ODOO_DB_PASSWORD' })).toBe(PLAIN);
    await target.write(new Secret('second-value-0123456789'));
    expect(model.secretValue({ repository: 'acme/ops', name: 'ODOO_DB_PASSWORD' })).toBe('second-value-0123456789');
    expect(model.requests.filter((r) => r.method === 'PUT').map((r) => r.status)).toEqual([201, 204]);
  });

  it('writes an environment secret, URL-encoding the environment name', async () => {
    const { model, store } = setup();
    const prod = store({ repository: 'acme/ops', environment: 'production', secret: 'ODOO_DB_PASSWORD' });
    const blue = store({ repository: 'acme/ops', environment: 'staging/blue', secret: 'odoo_db_password' });
    expect(prod.label).toBe('github acme/ops environment production ODOO_DB_PASSWORD');
    expect(blue.label).toBe('github acme/ops environment staging/blue ODOO_DB_PASSWORD');
    for (const target of [prod, blue]) {
      await target.check();
      await target.write(new Secret(PLAIN));
    }
    expect(model.secretValue({ repository: 'acme/ops', environment: 'production', name: 'ODOO_DB_PASSWORD' })).toBe(PLAIN);
    expect(model.secretValue({ repository: 'acme/ops', environment: 'staging/blue', name: 'ODOO_DB_PASSWORD' })).toBe(PLAIN);
    expect(model.secretValue({ repository: 'acme/ops', name: 'ODOO_DB_PASSWORD' })).toBeUndefined();
    expect(model.requests.some((r) => r.path === '/repos/acme/ops/environments/staging%2Fblue/secrets/ODOO_DB_PASSWORD')).toBe(true);
  });

  it('writes organization secrets with visibility, resolving selected repository names to ids', async () => {
    const { model, store } = setup();
    const selected = store({
      organization: 'acme',
      secret: 'ODOO_DB_PASSWORD',
      visibility: 'selected',
      selected_repositories: ['web', 'acme/api'],
    });
    const priv = store({ organization: 'acme', secret: 'ODOO_DB_URL' });
    expect(selected.label).toBe('github org acme ODOO_DB_PASSWORD');
    await selected.check();
    await selected.write(new Secret(PLAIN));
    await priv.write(new Secret(`url-${PLAIN}`));
    expect(model.secret({ organization: 'acme', name: 'ODOO_DB_PASSWORD' })).toMatchObject({
      value: PLAIN,
      visibility: 'selected',
      selected_repository_ids: [model.repo('acme/web')!.id, model.repo('acme/api')!.id],
    });
    expect(model.secret({ organization: 'acme', name: 'ODOO_DB_URL' })).toMatchObject({ value: `url-${PLAIN}`, visibility: 'private' });
    // Each repository looked up once, though check() and write() both need the ids.
    expect(model.count({ method: 'GET', path: '/repos/acme/web' })).toBe(1);
    expect(model.count({ method: 'GET', path: '/orgs/acme/actions/secrets/public-key' })).toBe(1);
  });

  it('reads each scope public key once per run, shared by every target in that scope', async () => {
    const { model, store, runtime } = setup();
    const targets = [
      store({ repository: 'acme/ops', secret: 'ODOO_DB_PASSWORD' }, 0),
      store({ repository: 'acme/ops', secret: 'ODOO_DB_URL' }, 1),
      store({ repository: 'ACME/ops', secret: 'ODOO_DB_PASSWORD_2' }, 2),
      store({ repository: 'acme/ops', environment: 'production', secret: 'ODOO_DB_PASSWORD' }, 3),
      store({ repository: 'acme/ops', environment: 'production', secret: 'ODOO_DB_URL' }, 4),
    ];
    await Promise.all(targets.map((t) => t.check()));
    await Promise.all(targets.map((t) => t.write(new Secret(PLAIN))));
    expect(model.count({ method: 'GET', path: '/repos/acme/ops/actions/secrets/public-key' })).toBe(1);
    expect(model.count({ method: 'GET', path: '/repos/acme/ops/environments/production/secrets/public-key' })).toBe(1);
    expect(model.count({ method: 'PUT' })).toBe(5);
    expect(model.secretValue({ repository: 'acme/ops', name: 'ODOO_DB_PASSWORD_2' })).toBe(PLAIN);

    // A new run (a new Runtime) reads the key again.
    const next = githubStore(targetSpec('github', { repository: 'acme/ops', secret: 'X_PASSWORD' }), testContext(testRuntime()));
    await next.write(new Secret(PLAIN));
    expect(model.count({ method: 'GET', path: '/repos/acme/ops/actions/secrets/public-key' })).toBe(2);
    expect(runtime.sleeps).toEqual([]);
  });

  it('refuses to start without a token, saying which token is needed', async () => {
    const { store, model } = setup();
    const runtime = testRuntime({ githubToken: undefined });
    const target = githubStore(targetSpec('github', { repository: 'acme/ops', secret: 'ODOO_DB_PASSWORD' }), testContext(runtime));
    const error = await target.check().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RotationError);
    expect(describeError(error)).toMatch(/GitHub App installation token.*fine-grained PAT.*GITHUB_TOKEN cannot write secrets/);
    expect(model.requests).toEqual([]);
    void store;
  });

  it('reports 401 bad credentials clearly', async () => {
    const { store } = setup({ token: 'some-other-token' });
    const error = await store({ repository: 'acme/ops', secret: 'ODOO_DB_PASSWORD' })
      .check()
      .catch((e: unknown) => e);
    expect(describeError(error)).toMatch(/HTTP 401 \(Bad credentials\).*rejected the token/);
  });

  it('names the repository and the permission when the token may not write secrets (403)', async () => {
    const { store, model } = setup({ permissions: { secrets: 'none' } });
    const target = store({ repository: 'acme/ops', secret: 'ODOO_DB_PASSWORD' });
    const error = await target.check().catch((e: unknown) => e);
    expect(describeError(error)).toContain('acme/ops: HTTP 403 (Resource not accessible by integration)');
    expect(describeError(error)).toContain('"secrets: write"');
    expect((error as RotationError).retryable).toBe(false);

    // Read-only access passes check() (GitHub serves the key to readers); the write then fails the same way.
    model.permissions.secrets = 'read';
    await target.check();
    const writeError = await target.write(new Secret(PLAIN)).catch((e: unknown) => e);
    expect(describeError(writeError)).toMatch(/write secret ODOO_DB_PASSWORD in repository acme\/ops: HTTP 403.*"secrets: write"/);
    expect(model.count({ method: 'PUT' })).toBe(1);
  });

  it('names environments and organization_secrets permissions for those scopes', async () => {
    const { store } = setup({ permissions: { environments: 'none', organization_secrets: 'read' } });
    const env = await store({ repository: 'acme/ops', environment: 'production', secret: 'P' })
      .check()
      .catch((e: unknown) => e);
    expect(describeError(env)).toMatch(/environment 'production' of acme\/ops: HTTP 403.*"environments: write"/);
    const org = await store({ organization: 'acme', secret: 'P' })
      .write(new Secret(PLAIN))
      .catch((e: unknown) => e);
    expect(describeError(org)).toMatch(/organization acme: HTTP 403.*"organization_secrets: write"/);
  });

  it('reports a missing environment, repository, organization or selected repository (404)', async () => {
    const { store } = setup();
    const env = await store({ repository: 'acme/ops', environment: 'prod', secret: 'P' })
      .check()
      .catch((e: unknown) => e);
    expect(describeError(env)).toMatch(/environment 'prod' of acme\/ops: HTTP 404.*create the environment/);
    const repo = await store({ repository: 'acme/nope', secret: 'P' })
      .check()
      .catch((e: unknown) => e);
    expect(describeError(repo)).toMatch(/repository acme\/nope: HTTP 404/);
    const org = await store({ organization: 'umbrella', secret: 'P' })
      .check()
      .catch((e: unknown) => e);
    expect(describeError(org)).toMatch(/organization umbrella: HTTP 404/);
    const sel = await store({ organization: 'acme', secret: 'P', visibility: 'selected', selected_repositories: ['ghost'] })
      .check()
      .catch((e: unknown) => e);
    expect(describeError(sel)).toMatch(/'ghost' named in credentials\.odoo_app\.store\[0\]\.github\.selected_repositories does not exist/);
  });

  it('waits out a 429 with Retry-After, then writes', async () => {
    const { store, model, runtime } = setup();
    model.failNext({ method: 'PUT' }, { status: 429, headers: { 'retry-after': '7' } });
    await store({ repository: 'acme/ops', secret: 'ODOO_DB_PASSWORD' }).write(new Secret(PLAIN));
    expect(runtime.sleeps).toEqual([7000]);
    expect(model.requests.filter((r) => r.method === 'PUT').map((r) => r.status)).toEqual([429, 201]);
    expect(runtime.reporter.lines.join('\n')).toMatch(/warning: .*HTTP 429.*retry 1 in 7s/);
    expect(model.secretValue({ repository: 'acme/ops', name: 'ODOO_DB_PASSWORD' })).toBe(PLAIN);
  });

  it('retries 5xx and network errors on the key read and the write', async () => {
    const { store, model, runtime } = setup();
    model.failNext({ method: 'GET', path: /public-key$/ }, 'network');
    model.failNext({ method: 'PUT' }, { status: 502 }, 2);
    await store({ repository: 'acme/ops', secret: 'ODOO_DB_PASSWORD' }).write(new Secret(PLAIN));
    expect(model.requests.map((r) => `${r.method} ${r.status}`)).toEqual(['GET 0', 'GET 200', 'PUT 502', 'PUT 502', 'PUT 201']);
    expect(runtime.sleeps).toHaveLength(3);
    expect(model.secretValue({ repository: 'acme/ops', name: 'ODOO_DB_PASSWORD' })).toBe(PLAIN);
  });

  it('gives up after the retry budget on a persistent 5xx, with a retryable error', async () => {
    const { store, model } = setup();
    model.failNext({ method: 'PUT' }, { status: 503 }, 10);
    const error = await store({ repository: 'acme/ops', secret: 'P' })
      .write(new Secret(PLAIN))
      .catch((e: unknown) => e);
    expect((error as RotationError).retryable).toBe(true);
    expect(describeError(error)).toContain('HTTP 503');
    expect(model.count({ method: 'PUT' })).toBe(4);
  });

  it('does not retry a 422 and explains it', async () => {
    const { store, model, runtime } = setup();
    const error = await store({ repository: 'acme/ops', secret: '1BAD' })
      .write(new Secret(PLAIN))
      .catch((e: unknown) => e);
    expect(describeError(error)).toMatch(/write secret 1BAD in repository acme\/ops: HTTP 422 .*GitHub refused secret 1BAD/);
    expect(model.count({ method: 'PUT' })).toBe(1);
    expect(runtime.sleeps).toEqual([]);
  });

  it('never lets the plaintext reach an error, a log line or the request log', async () => {
    const { store, model, runtime } = setup({ permissions: { environments: 'read' } });
    const errors: unknown[] = [];
    const value = new Secret(PLAIN);
    model.failNext({ method: 'PUT' }, { status: 500 }, 4);
    errors.push(
      await store({ repository: 'acme/ops', secret: 'A' })
        .write(value)
        .catch((e: unknown) => e),
    );
    errors.push(
      await store({ repository: 'acme/ops', secret: 'GITHUB_X' })
        .write(value)
        .catch((e: unknown) => e),
    );
    errors.push(
      await store({ repository: 'acme/ops', environment: 'production', secret: 'A' })
        .write(value)
        .catch((e: unknown) => e),
    );
    model.failNext({ method: 'PUT' }, 'network', 4);
    errors.push(
      await store({ organization: 'acme', secret: 'A' })
        .write(value)
        .catch((e: unknown) => e),
    );
    expect(errors.every((e) => e instanceof RotationError)).toBe(true);
    const seen = [...errors.map(surfaces), runtime.reporter.lines.join('\n'), JSON.stringify(model.requests)].join('\n');
    expect(seen).not.toContain(PLAIN);
    expect(seen).not.toContain(GITHUB_TEST_TOKEN);
    expect(seen).not.toContain('encrypted_value');
  });

  it('rejects a policy entry with neither repository nor organization', () => {
    const { store } = setup();
    expect(() => store({ secret: 'P' })).toThrow(/store\[0\]\.github\.repository: expected a non-empty string/);
    expect(() => store({ organization: 'acme', secret: 'P', visibility: 'selected' })).toThrow(/selected_repositories: required/);
  });

  it('works against the model served over real HTTP (as the bundled action sees it)', async () => {
    const model = createGitHubModel({ token: GITHUB_TEST_TOKEN, repos: [{ full_name: 'acme/ops', environments: ['production'] }] });
    const served = await serveHandlers(model.handlers, { rewriteTo: 'https://api.github.com' });
    try {
      const runtime = testRuntime({ github: async (token, run) => createGitHubClient(token, served.url, { ...run, fetch: realFetch }) });
      const target = githubStore(
        targetSpec('github', { repository: 'acme/ops', environment: 'production', secret: 'ODOO_DB_PASSWORD' }),
        testContext(runtime),
      );
      model.failNext({ method: 'PUT' }, 'network');
      await target.check();
      await target.write(new Secret(PLAIN));
      expect(model.secretValue({ repository: 'acme/ops', environment: 'production', name: 'ODOO_DB_PASSWORD' })).toBe(PLAIN);
      expect(model.requests.map((r) => `${r.method} ${r.status}`)).toEqual(['GET 200', 'PUT 0', 'PUT 201']);
      const bad = await realFetch(`${served.url}/repos/acme/ops`, { headers: { authorization: 'token nope' } });
      expect(bad.status).toBe(401);
      expect(await bad.json()).toMatchObject({ message: 'Bad credentials' });
    } finally {
      await served.close();
    }
  });
});
