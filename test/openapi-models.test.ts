// The provider models refuse what the real APIs refuse, because every request and answer is
// checked against the provider's own OpenAPI description (test/models/openapi/): a request with a
// body, parameter, credential or path the description does not allow is answered with the
// provider's 4xx and recorded as a violation, which fails the test it happens in (the afterEach in
// test/setup/openapi.ts). Here the violations are provoked on purpose and taken, so each check is
// shown to bite.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { setupServer } from 'msw/node';
import { ALL_SCOPES, createDigitalOceanModel } from './models/digitalocean.js';
import { createGitHubModel } from './models/github.js';
import { createSupabaseModel } from './models/supabase.js';
import { loadDescription, OpenApiChecker } from './models/openapi/validator.js';
import { CLUSTER } from './helpers/digitalocean.js';
import { REF } from './helpers/supabase.js';

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledFrame: 'error' }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

const DO_TOKEN = 'dop_v1_openapi_test_token';
const GH_TOKEN = 'ghs_openapi_test_token';
const PAT = 'sbp_openapi_test_token';
const json = (method: string, token: string | undefined, body?: unknown, headers: Record<string, string> = {}) => ({
  method,
  headers: {
    ...(token ? { authorization: `Bearer ${token}` } : {}),
    ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    ...headers,
  },
  body: body === undefined ? undefined : JSON.stringify(body),
});

describe('DigitalOcean model, checked against digitalocean/openapi', () => {
  const model = () => {
    const m = createDigitalOceanModel({
      tokens: { [DO_TOKEN]: ALL_SCOPES },
      clusters: [{ id: CLUSTER, name: 'db', host: '127.0.0.1', port: 5432, users: { doadmin: 'x' }, superuserUrl: 'postgres://unused' }],
    });
    server.use(...m.handlers);
    return m;
  };

  it('refuses a reset_auth body the schema refuses (422), an unknown route (404), a missing token, and records each', async () => {
    const m = model();
    const reset = `https://api.digitalocean.com/v2/databases/${CLUSTER}/users/doadmin/reset_auth`;
    const bad = await fetch(reset, json('POST', DO_TOKEN, { mysql_settings: { auth_plugin: 'rot13' } }));
    expect(bad.status).toBe(422);
    expect(((await bad.json()) as { id: string }).id).toBe('unprocessable_entity');
    expect((await fetch(reset, json('POST', DO_TOKEN))).status).toBe(422); // the body is required
    expect(
      (await fetch(`https://api.digitalocean.com/v2/databases/${CLUSTER}/users/doadmin/rotate`, json('POST', DO_TOKEN, {}))).status,
    ).toBe(404);
    expect((await fetch(`https://api.digitalocean.com/v2/databases/not-a-uuid`, json('GET', DO_TOKEN))).status).toBe(422);
    expect((await fetch(`https://api.digitalocean.com/v2/databases/${CLUSTER}`, json('GET', undefined))).status).toBe(422);
    const violations = m.openapi.take();
    expect(violations).toEqual([
      expect.stringMatching(
        /^digitalocean: databases_reset_auth .*request body: value\/mysql_settings\/auth_plugin must be equal to one of the allowed values/,
      ),
      expect.stringMatching(/^digitalocean: databases_reset_auth .*the request body is required/),
      expect.stringMatching(/^digitalocean: POST \/v2\/databases\/.*\/rotate: no such operation in the description/),
      expect.stringMatching(/^digitalocean: databases_get_cluster .*path parameter database_cluster_uuid: value must match format "uuid"/),
      expect.stringMatching(/^digitalocean: databases_get_cluster .*no credentials the operation's security \(bearer_auth\) accepts/),
    ]);
    // A valid request passes and is answered with the declared shape.
    expect((await fetch(`https://api.digitalocean.com/v2/databases/${CLUSTER}`, json('GET', DO_TOKEN))).status).toBe(200);
    expect(m.openapi.take()).toEqual([]);
  });

  it('serves the connection pools and users from the description: list, get, update (204), and refuses an update without db', async () => {
    const m = createDigitalOceanModel({
      tokens: { [DO_TOKEN]: ALL_SCOPES, dop_v1_no_view: ['database:read', 'database:update'] },
      clusters: [
        {
          id: CLUSTER,
          name: 'db',
          host: '127.0.0.1',
          port: 5432,
          users: { doadmin: 'x', odoo_a: 'copy-a' },
          superuserUrl: 'postgres://unused',
          pools: [{ name: 'odoo-pool', mode: 'transaction', size: 10, db: 'odoo', user: 'odoo_a' }],
        },
      ],
    });
    server.use(...m.handlers);
    const base = `https://api.digitalocean.com/v2/databases/${CLUSTER}`;
    const pools = (await (await fetch(`${base}/pools`, json('GET', DO_TOKEN))).json()) as {
      pools: { name: string; user?: string; connection: { user?: string; password?: string; database: string } }[];
    };
    // The pool's connection carries the pinned user's password as DigitalOcean keeps it, shown only with database:view_credentials.
    expect(pools.pools[0]).toMatchObject({
      name: 'odoo-pool',
      user: 'odoo_a',
      connection: { user: 'odoo_a', password: 'copy-a', database: 'odoo-pool' },
    });
    const hidden = (await (await fetch(`${base}/pools/odoo-pool`, json('GET', 'dop_v1_no_view'))).json()) as {
      pool: { connection: { password: string } };
    };
    expect(hidden.pool.connection.password).toBe('');
    const users = (await (await fetch(`${base}/users`, json('GET', DO_TOKEN))).json()) as { users: { name: string }[] };
    expect(users.users.map((u) => u.name)).toEqual(['doadmin', 'odoo_a']);

    expect((await fetch(`${base}/pools/odoo-pool`, json('PUT', DO_TOKEN, { mode: 'transaction', size: 10 }))).status).toBe(422);
    expect(m.openapi.take()).toEqual([
      expect.stringMatching(/^digitalocean: databases_update_connectionPool .*request body: value must have required property 'db'/),
    ]);
    // Without a user the pool connects as the inbound user.
    expect((await fetch(`${base}/pools/odoo-pool`, json('PUT', DO_TOKEN, { mode: 'session', size: 5, db: 'odoo' }))).status).toBe(204);
    expect(m.cluster(CLUSTER)!.pools).toEqual([{ name: 'odoo-pool', mode: 'session', size: 5, db: 'odoo' }]);
    expect((await fetch(`${base}/pools/nope`, json('PUT', DO_TOKEN, { mode: 'session', size: 5, db: 'odoo' }))).status).toBe(404);
    expect(m.openapi.take()).toEqual([]);
  });

  it('an answer with a status the operation does not declare is a violation too', async () => {
    const checker = new OpenApiChecker('github-check', loadDescription('github.json'), { generic: {} });
    const operation = checker.match('PUT', '/repos/acme/ops/actions/secrets/X')!.operation;
    expect(await checker.checkResponse(operation, new Response(null, { status: 204 }))).toEqual([]);
    expect(await checker.checkResponse(operation, new Response(null, { status: 200 }))).toEqual([
      expect.stringContaining('answered 200, a status the description does not declare for it (201, 204)'),
    ]);
    expect(await checker.checkResponse(operation, Response.json({}, { status: 201 }))).toEqual([]);
    // GitHub's 201 is an `empty-object`: anything in it is not what GitHub sends.
    expect(await checker.checkResponse(operation, Response.json({ oops: true }, { status: 201 }))).toEqual([
      expect.stringContaining('answered 201: response body: value must NOT have additional properties'),
    ]);
    expect(checker.take()).toHaveLength(2);
  });
});

describe('GitHub model, checked against github/rest-api-description', () => {
  it('refuses a secret write without key_id, an unknown query parameter and a bad run id, as GitHub does', async () => {
    const m = createGitHubModel({ token: GH_TOKEN, repos: [{ full_name: 'acme/ops' }] });
    server.use(...m.handlers);
    const put = await fetch(
      'https://api.github.com/repos/acme/ops/actions/secrets/TOKEN',
      json('PUT', GH_TOKEN, { encrypted_value: 'AAAA' }),
    );
    expect(put.status).toBe(422);
    expect(((await put.json()) as { message: string }).message).toMatch(/^Invalid request\./);
    expect(
      (await fetch('https://api.github.com/repos/acme/ops/actions/secrets/public-key?reveal=true', json('GET', GH_TOKEN))).status,
    ).toBe(422);
    expect((await fetch('https://api.github.com/repos/acme/ops/actions/runs/latest', json('GET', GH_TOKEN))).status).toBe(422);
    expect(
      (await fetch('https://api.github.com/repos/acme/ops/actions/workflows/ci.yml/runs?created=yesterday', json('GET', GH_TOKEN))).status,
    ).toBe(422);
    expect(m.openapi.take()).toEqual([
      expect.stringMatching(/actions\/create-or-update-repo-secret .*request body: value must have required property 'key_id'/),
      expect.stringMatching(/actions\/get-repo-public-key .*query parameter reveal is not a parameter of the operation/),
      expect.stringMatching(/actions\/get-workflow-run .*path parameter run_id: value must be integer/),
      expect.stringMatching(/actions\/list-workflow-runs .*query parameter created: not GitHub's date query syntax/),
    ]);
    // GitHub's search syntax for dates passes; the answer carries every field the description requires.
    const runs = await fetch(
      'https://api.github.com/repos/acme/ops/actions/workflows/ci.yml/runs?created=%3E%3D2026-03-01T03%3A00%3A00Z',
      json('GET', GH_TOKEN),
    );
    expect(runs.status).toBe(404); // no such workflow in this model: a 404 GitHub documents for every endpoint
    const repo = (await (await fetch('https://api.github.com/repos/acme/ops', json('GET', GH_TOKEN))).json()) as Record<string, unknown>;
    expect(repo).toMatchObject({ full_name: 'acme/ops', private: true, default_branch: '', archived: false });
    expect(m.openapi.take()).toEqual([]);
  });
});

describe('Supabase model, checked against the Management API description and the gateway', () => {
  it('refuses a key name shorter than 4 characters (400), a non-uuid key id, and an undeclared path on the gateway', async () => {
    const m = createSupabaseModel({ token: PAT, projects: [{ ref: REF, keys: [{ name: 'web_key', type: 'publishable' }] }] });
    server.use(...m.handlers);
    const base = `https://api.supabase.com/v1/projects/${REF}`;
    expect((await fetch(`${base}/api-keys?reveal=true`, json('POST', PAT, { type: 'publishable', name: 'web' }))).status).toBe(400);
    expect((await fetch(`${base}/api-keys/anon`, json('DELETE', PAT))).status).toBe(400);
    expect((await fetch(`https://api.supabase.com/v1/projects/short/api-keys`, json('GET', PAT))).status).toBe(400);
    expect(
      (await fetch(`https://${REF}.supabase.co/rest/v1/orders?select=id`, { headers: { apikey: m.key(REF, 'web_key')!.api_key } })).status,
    ).toBe(404);
    expect(m.openapi.management.take()).toEqual([
      expect.stringMatching(/v1-create-project-api-key .*request body: value\/name must NOT have fewer than 4 characters/),
      expect.stringMatching(/v1-delete-project-api-key .*path parameter id: value must match format "uuid"/),
      expect.stringMatching(/v1-get-project-api-keys .*path parameter ref: value must NOT have fewer than 20 characters/),
    ]);
    // The probe paths are the gateway's only operations here: a table read is not what the tool sends.
    expect(m.openapi.gateway.take()).toEqual([expect.stringMatching(/GET \/rest\/v1\/orders: no such operation in the description/)]);
  });
});
