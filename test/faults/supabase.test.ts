// Fault matrix for supabase-secret-key: the Supabase model's Management API and project API; stores
// a file and a GitHub secret, Edge Function secrets as consumer, the project API as health check.
// A key "logs in" when the project API accepts it. See harness.ts for what each cell checks.
import { mkdirSync, readFileSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { setupServer } from 'msw/node';
import { parsePolicy } from '../../src/policy/load.js';
import { rotateCredential } from '../../src/engine/rotate.js';
import { githubStore } from '../../src/stores/github.js';
import { Secret } from '../../src/secret/secret.js';
import { createSupabaseModel } from '../models/supabase.js';
import { createGitHubModel } from '../models/github.js';
import { GITHUB_TEST_TOKEN, targetSpec, testContext } from '../helpers/runtime.js';
import { defineFaultSuite, pointsFor, type World } from './harness.js';

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledFrame: 'error' }));
afterAll(() => server.close());

const REF = 'spdtwktxdalcfigzeqrz';
const PAT = 'sbp_fault0123456789abcdef0123456789abcdef0123';

const POLICY = `
version: 1
systems:
  supabase-ssot:
    type: supabase
    project_ref: ${REF}
    access_token: \${SUPABASE_ACCESS_TOKEN}
credentials:
  service_key:
    system: supabase-ssot
    method: supabase-secret-key
    key_name: service_key
    cadence: quarterly
    current: \${CURRENT}
    store:
      - file: { path: .secrets/supabase.env, key: SUPABASE_SECRET_KEY }
      - github: { repository: acme/ops, secret: SUPABASE_SECRET_KEY }
    consumers:
      - supabase-function-secrets: { names: [SERVICE_KEY] }
    health:
      - supabase-api: {}
`;

defineFaultSuite({
  method: 'supabase-secret-key',
  server,
  points: pointsFor(2, 1, 1),
  async build(runtime): Promise<World> {
    const sb = createSupabaseModel({ token: PAT, now: runtime.now, projects: [{ ref: REF, keys: [{ name: 'service_key', type: 'secret' }, { name: 'other_tool', type: 'secret' }] }] });
    const gh = createGitHubModel({ token: GITHUB_TEST_TOKEN, repos: [{ full_name: 'acme/ops' }], now: runtime.now });
    server.resetHandlers(...sb.handlers, ...gh.handlers);
    const initial = sb.key(REF, 'service_key')!.api_key;
    const other = sb.key(REF, 'other_tool')!.api_key;
    mkdirSync(join(runtime.workspace, '.secrets'), { recursive: true });
    writeFileSync(join(runtime.workspace, '.secrets/supabase.env'), `SUPABASE_SECRET_KEY=${initial}\n`);
    await githubStore(targetSpec('github', { repository: 'acme/ops', secret: 'SUPABASE_SECRET_KEY' }), testContext(runtime)).write(new Secret(initial));
    const live = (value: string) => sb.project(REF).keys.some((k) => k.api_key === value);
    return {
      initial,
      rerunFrom: 1,
      rotate: async (current, rt) => {
        const policy = parsePolicy(POLICY, '.github/rotation.yaml', { SUPABASE_ACCESS_TOKEN: PAT, CURRENT: current ?? '' });
        const result = await rotateCredential(policy, { credential: 'service_key', reason: 'manual', dryRun: false, trigger: { event: 'test', actor: 'vitest' } }, rt);
        // Another tool's key is never touched, whatever failed.
        if (!live(other)) throw new Error('the rotation deleted a key it does not own');
        return result;
      },
      stored: async () => [fileValue(runtime.workspace), gh.secretValue({ repository: 'acme/ops', name: 'SUPABASE_SECRET_KEY' })],
      logsIn: async (value) => live(value),
      cutConnections: async () => 0, // the method holds no database connection
      modelFor: (host) => (host === 'api.github.com' ? gh : host === 'api.supabase.com' || host === `${REF}.supabase.co` ? sb : undefined),
      clearFaults: () => {
        gh.clearFaults();
        sb.clearFaults();
      },
      surfaces: () => [JSON.stringify(gh.requests), JSON.stringify(sb.requests)],
    };
  },
});

function fileValue(workspace: string): string | undefined {
  const path = join(workspace, '.secrets/supabase.env');
  return existsSync(path) ? /^SUPABASE_SECRET_KEY=(.*)$/m.exec(readFileSync(path, 'utf8'))?.[1] : undefined;
}
