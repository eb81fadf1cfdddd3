// The secret-scanning part of the GitHub model answers as GitHub does, and every request and answer
// is checked against GitHub's own description (test/models/openapi/descriptions/github.json):
// pagination, secret_type (generic types only when asked), state, hide_secret, PATCH with a
// resolution comment, and the 403/404/422 answers a user meets.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { setupServer } from 'msw/node';
import { createGitHubModel, type TokenPermissions } from '../models/github.js';

const TOKEN = 'ghs_secret_scanning_model_token_0123';
const API = 'https://api.github.com';
const server = setupServer();
beforeAll(() => server.listen({ onUnhandledFrame: 'error' }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

function model(permissions?: TokenPermissions) {
  const m = createGitHubModel({ token: TOKEN, repos: [{ full_name: 'acme/ops' }, { full_name: 'acme/web' }], orgs: ['acme'], permissions });
  server.use(...m.handlers);
  return m;
}
const get = (path: string) => fetch(`${API}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
const patch = (path: string, body: unknown) =>
  fetch(`${API}${path}`, {
    method: 'PATCH',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

describe('GitHub model: secret scanning', () => {
  it('lists generic types only when asked for, filters by state, hides the secret on request, pages with a Link header', async () => {
    const m = model();
    for (let i = 0; i < 5; i++)
      m.secretScanning.addAlert('acme/ops', { secret_type: 'postgres_connection_string', secret: `postgresql://u:p${i}@h/db` });
    m.secretScanning.addAlert('acme/ops', {
      secret_type: 'supabase_secret_key',
      secret: 'sb_secret_abcdefghijklmnop',
      state: 'resolved',
      resolution: 'revoked',
    });
    const plain = (await (await get('/repos/acme/ops/secret-scanning/alerts')).json()) as { secret_type: string }[];
    expect(plain.map((a) => a.secret_type)).toEqual(['supabase_secret_key']);
    const first = await get(
      '/repos/acme/ops/secret-scanning/alerts?state=open&secret_type=postgres_connection_string,supabase_secret_key&per_page=2&page=1',
    );
    const page1 = (await first.json()) as { number: number; secret?: string; state: string; resolution: null }[];
    expect(page1.map((a) => a.number)).toEqual([5, 4]);
    expect(page1[0]).toMatchObject({ state: 'open', resolution: null, secret: 'postgresql://u:p4@h/db' });
    expect(first.headers.get('link')).toMatch(/page=2>; rel="next", <.*page=3>; rel="last"/);
    const last = await get('/repos/acme/ops/secret-scanning/alerts?state=open&secret_type=postgres_connection_string&per_page=2&page=3');
    expect(((await last.json()) as unknown[]).length).toBe(1);
    expect(last.headers.get('link')).toBeNull();
    const hidden = (await (
      await get('/repos/acme/ops/secret-scanning/alerts?secret_type=postgres_connection_string&hide_secret=true')
    ).json()) as object[];
    expect(hidden.every((a) => !('secret' in a))).toBe(true);
    expect(m.openapi.take()).toEqual([]);
  });

  it('PATCH resolves with resolution and comment; resolved without a resolution is 422; a state the description does not know is refused and recorded', async () => {
    const m = model();
    const n = m.secretScanning.addAlert('acme/ops', { secret_type: 'postgres_connection_string', secret: 'postgresql://u:p@h/db' });
    const ok = await patch(`/repos/acme/ops/secret-scanning/alerts/${n}`, {
      state: 'resolved',
      resolution: 'revoked',
      resolution_comment: 'rotated; evidence docs/evidence/x.json',
    });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({
      number: n,
      state: 'resolved',
      resolution: 'revoked',
      resolution_comment: 'rotated; evidence docs/evidence/x.json',
    });
    expect((await patch(`/repos/acme/ops/secret-scanning/alerts/${n}`, { state: 'resolved' })).status).toBe(422);
    expect(m.openapi.take()).toEqual([]);
    expect((await patch(`/repos/acme/ops/secret-scanning/alerts/${n}`, { state: 'dismissed', resolution: 'revoked' })).status).toBe(422);
    expect(m.openapi.take()).toEqual([
      expect.stringMatching(/secret-scanning\/update-alert .*request body: value\/state must be equal to one of the allowed values/),
    ]);
    expect((await patch('/repos/acme/ops/secret-scanning/alerts/99', { state: 'resolved', resolution: 'revoked' })).status).toBe(404);
  });

  it('403 without "Secret scanning alerts", 404 when scanning is off or the repository is not visible; the organization list names each alert\'s repository', async () => {
    const denied = model({ secret_scanning_alerts: 'none' });
    const refused = await get('/repos/acme/ops/secret-scanning/alerts');
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ message: 'Resource not accessible by integration' });
    expect(denied.openapi.take()).toEqual([]);
    server.resetHandlers();
    const m = model();
    m.secretScanning.setEnabled('acme/web', false);
    const off = await get('/repos/acme/web/secret-scanning/alerts');
    expect(off.status).toBe(404);
    expect(await off.json()).toMatchObject({ message: 'Secret scanning is disabled on this repository.' });
    expect((await get('/repos/acme/hidden/secret-scanning/alerts')).status).toBe(404);
    m.secretScanning.addAlert('acme/ops', { secret_type: 'supabase_secret_key', secret: 'sb_secret_abcdefghijklmnop' });
    const org = (await (await get('/orgs/acme/secret-scanning/alerts?secret_type=supabase_secret_key')).json()) as {
      repository: { full_name: string };
    }[];
    expect(org.map((a) => a.repository.full_name)).toEqual(['acme/ops']);
    expect(m.openapi.take()).toEqual([]);
  });
});
