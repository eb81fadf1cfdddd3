import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGitHubModel } from '../models/github.js';
import { ALL_SCOPES, createDigitalOceanModel, type DigitalOceanModel } from '../models/digitalocean.js';
import { serveHandlers } from '../models/serve.js';
import { leakHaystack, login, usePostgres } from '../helpers/postgres.js';
import { makeAlternating } from '../helpers/alternating.js';
import { CLUSTER, clusterOn, linkedPolicyHead, poolLogin } from '../helpers/digitalocean.js';
import { DIST_TOKEN, maskedValues, newWorkspace, runAction, withoutMasks } from '../helpers/action-child.js';

/*
 * Issue 18 §1 through the bundle, as the runner runs it: dist/index.js, its DigitalOcean calls
 * served over loopback from the model, refuses an alternating-roles rotation whose cluster has a
 * pool pinned to a login, before any change, and nothing it saw shows up in its output.
 */

const fx = usePostgres();
const TOKEN = 'dop_v1_dist_pools_token_0123456789abcdef0123456789abcdef';
const servers: { url: string; close: () => Promise<void> }[] = [];
let doModel: DigitalOceanModel;
let urls: { github: string; digitalocean: string };
afterAll(async () => {
  for (const s of servers) await s.close();
});
beforeAll(async () => {
  const github = createGitHubModel({ token: DIST_TOKEN, repos: [{ full_name: 'acme/ops' }] });
  doModel = createDigitalOceanModel({
    tokens: { [TOKEN]: ALL_SCOPES },
    clusters: [clusterOn(fx().server, { doadmin: 'AVNS_dist_doadmin_copy_0001' }, { database: 'odoo', pools: [] })],
  });
  const serve = async (handlers: Parameters<typeof serveHandlers>[0], rewriteTo: string) => {
    const s = await serveHandlers(handlers, { rewriteTo });
    servers.push(s);
    return s.url;
  };
  urls = { github: await serve(github.handlers, github.baseUrl), digitalocean: await serve(doModel.handlers, doModel.baseUrl) };
});

describe('dist/index.js on a DigitalOcean cluster', () => {
  it('refuses alternating-roles with a pool pinned to a login: exit 1, status failed, nothing changed, nothing leaked', async () => {
    const { a, b } = await makeAlternating(fx(), 'dist_grp');
    const cluster = doModel.cluster(CLUSTER)!;
    cluster.users.dist_grp_a = a.reveal();
    cluster.pools = [{ name: 'odoo-pinned', mode: 'transaction', size: 10, db: 'odoo', user: 'dist_grp_a' }];
    const policy = `${linkedPolicyHead()}  dist_grp:
    system: odoo-sor
    method: alternating-roles
    cadence: quarterly
    current: \${CURRENT}
    store:
      - file: { path: .secrets/app.env, key: DB_PASSWORD }
`;
    const run = await runAction({
      apiUrl: urls.github,
      workspace: newWorkspace(policy),
      inputs: { credential: 'dist_grp' },
      env: {
        ROTATION_ADMIN_URL: fx().platform.adminUrl,
        CURRENT: a.reveal(),
        DIGITALOCEAN_TOKEN: TOKEN,
        DIGITALOCEAN_API_URL: urls.digitalocean,
      },
    });
    expect(run.code, run.stdout + run.stderr).toBe(1);
    expect(run.outputs.status).toBe('failed');
    expect(run.stdout).toContain(
      "connection pool odoo-pinned (transaction, size 10, database odoo, user dist_grp_a): a pool pinned to one login cannot follow alternating-roles' switch to the other login",
    );
    expect(doModel.count({ method: 'GET', path: `/v2/databases/${CLUSTER}/pools` })).toBe(1);
    expect(doModel.count({ method: 'PUT' })).toBe(0);
    expect((await login(fx(), 'dist_grp_a', a)).ok).toBe(true);
    expect((await login(fx(), 'dist_grp_b', b)).ok).toBe(true);
    expect(await poolLogin(doModel, CLUSTER, 'odoo-pinned', { user: 'dist_grp_a', password: a.reveal() })).toEqual({ ok: true });

    const haystack = leakHaystack(
      withoutMasks(run.stdout),
      run.stderr,
      run.summary,
      Object.values(run.state),
      JSON.stringify(doModel.requests),
    );
    for (const secret of new Set([a.reveal(), b.reveal(), TOKEN, 'AVNS_dist_doadmin_copy_0001', ...maskedValues(run.stdout)]))
      expect(haystack).not.toContain(secret);
    // The token and the current value were masked before anything else was printed.
    expect(maskedValues(run.stdout)).toEqual(expect.arrayContaining([TOKEN, a.reveal()]));
  });
});
