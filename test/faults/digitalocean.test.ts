// Fault matrix for digitalocean-reset: the DigitalOcean model resets a real PostgreSQL 16 role;
// stores a file and a GitHub secret, an App Platform restart as consumer, no-stale-sessions as
// health check. See harness.ts for what each cell checks.
import { mkdirSync, readFileSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { setupServer } from 'msw/node';
import { parsePolicy } from '../../src/policy/load.js';
import { rotateCredential } from '../../src/engine/rotate.js';
import { githubStore } from '../../src/stores/github.js';
import { Secret } from '../../src/secret/secret.js';
import { tryLogin } from '../../src/postgres/connect.js';
import { ALL_SCOPES, createDigitalOceanModel } from '../models/digitalocean.js';
import { createGitHubModel } from '../models/github.js';
import { GITHUB_TEST_TOKEN, targetSpec, testContext } from '../helpers/runtime.js';
import { makeRole, usePostgres } from '../helpers/postgres.js';
import { cutConnections, defineFaultSuite, pointsFor, type World } from './harness.js';

const fx = usePostgres();
const server = setupServer();
beforeAll(() => server.listen({ onUnhandledFrame: 'error' }));
afterAll(() => server.close());

const TOKEN = 'dop_v1_fault_matrix_token_0123456789abcdef0123456789abcdef';
const CLUSTER = '9cc10173-e9ea-4176-9dbc-a4cee4c4ff30';
const APP = '4f6c71e2-1e90-4762-9fee-6cc4a0a9f2cf';

const policyFor = (role: string) => `
version: 1
systems:
  do-pg:
    type: digitalocean
    cluster_id: ${CLUSTER}
    token: \${DIGITALOCEAN_TOKEN}
    database: odoo
    sslmode: disable          # the embedded server has no TLS
credentials:
  ${role}:
    system: do-pg
    method: digitalocean-reset
    cadence: annually
    current: \${CURRENT}
    store:
      - file: { path: .secrets/do.env, key: DB_PASSWORD }
      - github: { repository: acme/ops, secret: DB_PASSWORD }
    consumers:
      - digitalocean-app: { app_id: ${APP}, token: "\${DIGITALOCEAN_TOKEN}", poll_seconds: 5 }
    health:
      - no-stale-sessions: { grace_seconds: 10 }
`;

let serial = 0;

defineFaultSuite({
  method: 'digitalocean-reset',
  server,
  points: pointsFor(2, 1, 1),
  async build(runtime): Promise<World> {
    const role = `do_fault_${++serial}`;
    const initial = (await makeRole(fx(), role)).reveal();
    const doModel = createDigitalOceanModel({
      tokens: { [TOKEN]: ALL_SCOPES },
      clusters: [{ id: CLUSTER, name: 'platform-db', host: '127.0.0.1', port: fx().server.port, database: 'odoo', superuserUrl: fx().server.superuserUrl, users: { [role]: initial } }],
      apps: [{ id: APP, name: 'odoo' }],
    });
    const gh = createGitHubModel({ token: GITHUB_TEST_TOKEN, repos: [{ full_name: 'acme/ops' }], now: runtime.now });
    server.resetHandlers(...doModel.handlers, ...gh.handlers);
    mkdirSync(join(runtime.workspace, '.secrets'), { recursive: true });
    writeFileSync(join(runtime.workspace, '.secrets/do.env'), `DB_PASSWORD=${initial}\n`);
    await githubStore(targetSpec('github', { repository: 'acme/ops', secret: 'DB_PASSWORD' }), testContext(runtime)).write(new Secret(initial));
    const logStart = fx().server.log.length;
    return {
      initial,
      rerunFrom: 1,
      rotate: (current, rt) => {
        const policy = parsePolicy(policyFor(role), '.github/rotation.yaml', { DIGITALOCEAN_TOKEN: TOKEN, CURRENT: current ?? '' });
        return rotateCredential(policy, { credential: role, reason: 'manual', dryRun: false, trigger: { event: 'test', actor: 'vitest' } }, rt);
      },
      stored: async () => [fileValue(runtime.workspace), gh.secretValue({ repository: 'acme/ops', name: 'DB_PASSWORD' })],
      logsIn: async (password) => (await tryLogin({ host: '127.0.0.1', port: fx().server.port, database: 'odoo', user: role, password, ssl: false })).ok,
      cutConnections: () => cutConnections(fx()),
      modelFor: (host) => (host === 'api.github.com' ? gh : host === 'api.digitalocean.com' ? doModel : undefined),
      clearFaults: () => {
        gh.clearFaults();
        doModel.clearFaults();
      },
      surfaces: () => [fx().server.log.slice(logStart).join('\n'), JSON.stringify(gh.requests), JSON.stringify(doModel.requests)],
    };
  },
});

function fileValue(workspace: string): string | undefined {
  const path = join(workspace, '.secrets/do.env');
  return existsSync(path) ? /^DB_PASSWORD=(.*)$/m.exec(readFileSync(path, 'utf8'))?.[1] : undefined;
}
