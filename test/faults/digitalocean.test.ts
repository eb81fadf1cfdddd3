// Fault matrix for digitalocean-reset: the DigitalOcean model resets a real PostgreSQL 16 role;
// stores a file and a GitHub secret, an App Platform restart as consumer, no-stale-sessions as
// health check. See harness.ts for what each cell checks.
import { afterAll, beforeAll } from 'vitest';
import { setupServer } from 'msw/node';
import { parsePolicy } from '../../src/registry/load-policy.js';
import { rotateCredential } from '../../src/engine/rotate.js';
import { tryLogin } from '../../src/postgres/connect.js';
import { ALL_SCOPES, createDigitalOceanModel } from '../models/digitalocean.js';
import { createGitHubModel } from '../models/github.js';
import { GITHUB_TEST_TOKEN } from '../helpers/runtime.js';
import { makeRole, usePostgres } from '../helpers/postgres.js';
import { APP, clusterOn, doSystemYaml } from '../helpers/digitalocean.js';
import { cutConnections, defineFaultSuite, policyWithCurrent, pointsFor, secretsFileValue, seedStores, type World } from './harness.js';
import { rotationRequest } from '../helpers/request.js';

const fx = usePostgres();
const server = setupServer();
beforeAll(() => server.listen({ onUnhandledFrame: 'error' }));
afterAll(() => server.close());

const TOKEN = 'dop_v1_fault_matrix_token_0123456789abcdef0123456789abcdef';

const policyFor = (role: string) => `
version: 1
systems:
${doSystemYaml({ database: 'odoo' })}credentials:
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
  // A stale `current`, the file holding the live value: it is adopted (and takes the cluster lock).
  currents: [{ mode: 'stale', points: ['store.before.0', 'store.after.0', 'store.before.1', 'apply.before'], kinds: ['403', 'killed'] }],
  points: pointsFor(2, 1, 1),
  async build(runtime): Promise<World> {
    const role = `do_fault_${++serial}`;
    const initial = (await makeRole(fx(), role)).reveal();
    const doModel = createDigitalOceanModel({
      tokens: { [TOKEN]: ALL_SCOPES },
      clusters: [clusterOn(fx().server, { [role]: initial }, { database: 'odoo' })],
      apps: [{ id: APP, name: 'odoo' }],
    });
    const gh = createGitHubModel({ token: GITHUB_TEST_TOKEN, repos: [{ full_name: 'acme/ops' }], now: runtime.now });
    server.resetHandlers(...doModel.handlers, ...gh.handlers);
    await seedStores(runtime, 'do.env', 'DB_PASSWORD', initial);
    const logStart = fx().server.log.length;
    return {
      initial,
      rerunFrom: 1,
      rotate: (current, rt) => {
        const policy = parsePolicy(policyWithCurrent(policyFor(role), current), '.github/rotation.yaml', {
          DIGITALOCEAN_TOKEN: TOKEN,
          CURRENT: current ?? '',
        });
        return rotateCredential(policy, rotationRequest(role), rt);
      },
      stored: async () => [
        secretsFileValue(runtime.workspace, 'do.env', 'DB_PASSWORD'),
        gh.secretValue({ repository: 'acme/ops', name: 'DB_PASSWORD' }),
      ],
      logsIn: async (password) =>
        (await tryLogin({ host: '127.0.0.1', port: fx().server.port, database: 'odoo', user: role, password, ssl: false })).ok,
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
