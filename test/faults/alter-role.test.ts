// Fault matrix for alter-role on a real PostgreSQL 16, with a file and a GitHub secret as stores,
// a workflow dispatch as consumer and a login probe. See harness.ts for what each cell checks.
import { mkdirSync, readFileSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { setupServer } from 'msw/node';
import { parsePolicy } from '../../src/policy/load.js';
import { rotateCredential } from '../../src/engine/rotate.js';
import { githubStore } from '../../src/stores/github.js';
import { Secret } from '../../src/secret/secret.js';
import { createGitHubModel } from '../models/github.js';
import { GITHUB_TEST_TOKEN, targetSpec, testContext } from '../helpers/runtime.js';
import { login, makeRole, usePostgres } from '../helpers/postgres.js';
import { cutConnections, defineFaultSuite, pointsFor, type World } from './harness.js';

const fx = usePostgres();
const server = setupServer();
beforeAll(() => server.listen({ onUnhandledFrame: 'error' }));
afterAll(() => server.close());

const policyFor = (role: string) => `
version: 1
systems:
  odoo-sor:
    type: postgres
    admin_url: \${ROTATION_ADMIN_URL}
credentials:
  ${role}:
    system: odoo-sor
    method: alter-role
    cadence: quarterly
    current: \${CURRENT}
    store:
      - file: { path: .secrets/app.env, key: DB_PASSWORD }
      - github: { repository: acme/ops, secret: DB_PASSWORD }
    consumers:
      - github-workflow: { repository: acme/ops, workflow: deploy.yml }
    health:
      - postgres-login: {}
`;

let serial = 0;

defineFaultSuite({
  method: 'alter-role',
  server,
  points: pointsFor(2, 1, 1),
  async build(runtime): Promise<World> {
    const role = `fault_${++serial}`;
    const initial = (await makeRole(fx(), role)).reveal();
    const gh = createGitHubModel({ token: GITHUB_TEST_TOKEN, repos: [{ full_name: 'acme/ops', workflows: [{ file: 'deploy.yml', pollsToComplete: 1 }] }], now: runtime.now });
    server.resetHandlers(...gh.handlers);
    // The stores hold the live value before the run, as they would in production.
    mkdirSync(join(runtime.workspace, '.secrets'), { recursive: true });
    writeFileSync(join(runtime.workspace, '.secrets/app.env'), `DB_PASSWORD=${initial}\n`);
    await githubStore(targetSpec('github', { repository: 'acme/ops', secret: 'DB_PASSWORD' }), testContext(runtime)).write(new Secret(initial));
    const logStart = fx().server.log.length;
    return {
      initial,
      rerunFrom: 1,
      rotate: (current, rt) => {
        const policy = parsePolicy(policyFor(role), '.github/rotation.yaml', { ROTATION_ADMIN_URL: fx().platform.adminUrl, CURRENT: current ?? '' });
        return rotateCredential(policy, { credential: role, reason: 'manual', dryRun: false, trigger: { event: 'test', actor: 'vitest' } }, rt);
      },
      stored: async () => [fileValue(runtime.workspace, 'DB_PASSWORD'), gh.secretValue({ repository: 'acme/ops', name: 'DB_PASSWORD' })],
      logsIn: async (value) => (await login(fx(), role, value)).ok,
      cutConnections: () => cutConnections(fx()),
      modelFor: (host) => (host === 'api.github.com' ? gh : undefined),
      clearFaults: () => gh.clearFaults(),
      surfaces: () => [fx().server.log.slice(logStart).join('\n'), JSON.stringify(gh.requests)],
    };
  },
});

function fileValue(workspace: string, key: string): string | undefined {
  const path = join(workspace, '.secrets/app.env');
  return existsSync(path) ? new RegExp(`^${key}=(.*)$`, 'm').exec(readFileSync(path, 'utf8'))?.[1] : undefined;
}
