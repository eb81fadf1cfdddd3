// Fault matrix for alternating-roles on a real PostgreSQL 16: a connection URL in a file, the
// password and the user as two GitHub secrets, a workflow dispatch as consumer and a login probe.
// See harness.ts for what each cell checks. A stored value "logs in" when it does so as the user
// stored beside it (the URL's own user; the DB_USER secret for DB_PASSWORD): a pair split between
// two logins does not count.
import { afterAll, beforeAll } from 'vitest';
import { setupServer } from 'msw/node';
import { parsePolicy } from '../../src/registry/load-policy.js';
import { rotateCredential } from '../../src/engine/rotate.js';
import { createGitHubModel } from '../models/github.js';
import { GITHUB_TEST_TOKEN } from '../helpers/runtime.js';
import { login, usePostgres } from '../helpers/postgres.js';
import { alternatingStoresYaml, makeAlternating, urlLogsIn } from '../helpers/alternating.js';
import { cutConnections, defineFaultSuite, pointsFor, secretsFileValue, seedStores, type World } from './harness.js';
import { rotationRequest } from '../helpers/request.js';

const fx = usePostgres();
const server = setupServer();
beforeAll(() => server.listen({ onUnhandledFrame: 'error' }));
afterAll(() => server.close());

const policyFor = (group: string) => alternatingStoresYaml(group, fx().server.port);

let serial = 0;

defineFaultSuite({
  method: 'alternating-roles',
  server,
  points: pointsFor(3, 1, 1),
  async build(runtime): Promise<World> {
    const group = `fault_alt_${++serial}`;
    const { a } = await makeAlternating(fx(), group);
    const initial = a.reveal();
    const gh = createGitHubModel({
      token: GITHUB_TEST_TOKEN,
      repos: [{ full_name: 'acme/ops', workflows: [{ file: 'deploy.yml', pollsToComplete: 1 }] }],
      now: runtime.now,
    });
    server.resetHandlers(...gh.handlers);
    await seedStores(runtime, 'app.env', 'DATABASE_URL', `postgresql://${group}_a:${initial}@127.0.0.1:${fx().server.port}/odoo`);
    await seedStores(runtime, 'unused.env', 'DB_PASSWORD', initial);
    await seedStores(runtime, 'unused.env', 'DB_USER', `${group}_a`);
    const logStart = fx().server.log.length;
    return {
      initial,
      rerunFrom: 1,
      rotate: (current, rt) => {
        const policy = parsePolicy(policyFor(group), '.github/rotation.yaml', {
          ROTATION_ADMIN_URL: fx().platform.adminUrl,
          CURRENT: current ?? '',
        });
        return rotateCredential(policy, rotationRequest(group), rt);
      },
      stored: async () => [
        secretsFileValue(runtime.workspace, 'app.env', 'DATABASE_URL'),
        gh.secretValue({ repository: 'acme/ops', name: 'DB_PASSWORD' }),
      ],
      logsIn: async (value) => {
        if (value.startsWith('postgresql://')) return urlLogsIn(value);
        const user = gh.secretValue({ repository: 'acme/ops', name: 'DB_USER' });
        return user !== undefined && (await login(fx(), user, value)).ok;
      },
      cutConnections: () => cutConnections(fx()),
      modelFor: (host) => (host === 'api.github.com' ? gh : undefined),
      clearFaults: () => gh.clearFaults(),
      surfaces: () => [fx().server.log.slice(logStart).join('\n'), JSON.stringify(gh.requests)],
    };
  },
});
