// Fault matrix for alter-role on a real PostgreSQL 16, with a file and a GitHub secret as stores,
// a workflow dispatch as consumer and a login probe. See harness.ts for what each cell checks.
import { afterAll, beforeAll } from 'vitest';
import { setupServer } from 'msw/node';
import { parsePolicy } from '../../src/registry/load-policy.js';
import { rotateCredential } from '../../src/engine/rotate.js';
import { createGitHubModel } from '../models/github.js';
import { GITHUB_TEST_TOKEN } from '../helpers/runtime.js';
import { alterRoleYaml, login, makeRole, usePostgres } from '../helpers/postgres.js';
import {
  cutConnections,
  defineFaultSuite,
  policyWithCurrent,
  pointsFor,
  secretsFileValue,
  seedStores,
  type Kind,
  type World,
} from './harness.js';
import { rotationRequest } from '../helpers/request.js';

const fx = usePostgres();
const server = setupServer();
beforeAll(() => server.listen({ onUnhandledFrame: 'error' }));
afterAll(() => server.close());

const policyFor = (role: string) =>
  alterRoleYaml(
    role,
    'CURRENT',
    `    store:
      - file: { path: .secrets/app.env, key: DB_PASSWORD }
      - github: { repository: acme/ops, secret: DB_PASSWORD }
    consumers:
      - github-workflow: { repository: acme/ops, workflow: deploy.yml }
    health:
      - postgres-login: {}
`,
  );

let serial = 0;
/** Before the commit, where a back-out runs: with a stale `current` or none, the file holds the live value. */
const BACK_OUT_POINTS = ['store.before.0', 'store.after.0', 'store.before.1', 'store.after.1', 'apply.before', 'apply.after'];
const BACK_OUT_KINDS: Kind[] = ['5xx', '403', 'pg-lost', 'killed'];

defineFaultSuite({
  method: 'alter-role',
  server,
  points: pointsFor(2, 1, 1),
  currents: [
    { mode: 'stale', points: BACK_OUT_POINTS, kinds: BACK_OUT_KINDS },
    { mode: 'none', points: BACK_OUT_POINTS, kinds: BACK_OUT_KINDS },
  ],
  async build(runtime): Promise<World> {
    const role = `fault_${++serial}`;
    const initial = (await makeRole(fx(), role)).reveal();
    const gh = createGitHubModel({
      token: GITHUB_TEST_TOKEN,
      repos: [{ full_name: 'acme/ops', workflows: [{ file: 'deploy.yml', pollsToComplete: 1 }] }],
      now: runtime.now,
    });
    server.resetHandlers(...gh.handlers);
    await seedStores(runtime, 'app.env', 'DB_PASSWORD', initial);
    const logStart = fx().server.log.length;
    return {
      initial,
      rerunFrom: 1,
      rotate: (current, rt) => {
        const policy = parsePolicy(policyWithCurrent(policyFor(role), current), '.github/rotation.yaml', {
          ROTATION_ADMIN_URL: fx().platform.adminUrl,
          CURRENT: current ?? '',
        });
        return rotateCredential(policy, rotationRequest(role), rt);
      },
      stored: async () => [
        secretsFileValue(runtime.workspace, 'app.env', 'DB_PASSWORD'),
        gh.secretValue({ repository: 'acme/ops', name: 'DB_PASSWORD' }),
      ],
      logsIn: async (value) => (await login(fx(), role, value)).ok,
      cutConnections: () => cutConnections(fx()),
      modelFor: (host) => (host === 'api.github.com' ? gh : undefined),
      clearFaults: () => gh.clearFaults(),
      surfaces: () => [fx().server.log.slice(logStart).join('\n'), JSON.stringify(gh.requests)],
    };
  },
});
