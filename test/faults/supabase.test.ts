// Fault matrix for supabase-secret-key: the Supabase model's Management API and project API; stores
// a file and a GitHub secret, Edge Function secrets as consumer, the project API as health check.
// A key "logs in" when the project API accepts it. See harness.ts for what each cell checks.
import { afterAll, beforeAll } from 'vitest';
import { setupServer } from 'msw/node';
import { parsePolicy } from '../../src/registry/load-policy.js';
import { rotateCredential } from '../../src/engine/rotate.js';
import { createSupabaseModel } from '../models/supabase.js';
import { createGitHubModel } from '../models/github.js';
import { GITHUB_TEST_TOKEN } from '../helpers/runtime.js';
import { REF, SERVICE_KEY_CREDENTIAL, supabaseSystemYaml } from '../helpers/supabase.js';
import { defineFaultSuite, pointsFor, secretsFileValue, seedStores, type World } from './harness.js';
import { rotationRequest } from '../helpers/request.js';

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledFrame: 'error' }));
afterAll(() => server.close());

const PAT = 'sbp_fault0123456789abcdef0123456789abcdef0123';

const POLICY = `
version: 1
systems:
${supabaseSystemYaml(REF)}credentials:${SERVICE_KEY_CREDENTIAL}`;

defineFaultSuite({
  method: 'supabase-secret-key',
  server,
  points: pointsFor(2, 1, 1),
  async build(runtime): Promise<World> {
    const sb = createSupabaseModel({
      token: PAT,
      now: runtime.now,
      projects: [
        {
          ref: REF,
          keys: [
            { name: 'service_key', type: 'secret' },
            { name: 'other_tool', type: 'secret' },
          ],
        },
      ],
    });
    const gh = createGitHubModel({ token: GITHUB_TEST_TOKEN, repos: [{ full_name: 'acme/ops' }], now: runtime.now });
    server.resetHandlers(...sb.handlers, ...gh.handlers);
    const initial = sb.key(REF, 'service_key')!.api_key;
    const other = sb.key(REF, 'other_tool')!.api_key;
    await seedStores(runtime, 'supabase.env', 'SUPABASE_SECRET_KEY', initial);
    const live = (value: string) => sb.project(REF).keys.some((k) => k.api_key === value);
    return {
      initial,
      rerunFrom: 1,
      rotate: async (current, rt) => {
        const policy = parsePolicy(POLICY, '.github/rotation.yaml', { SUPABASE_ACCESS_TOKEN: PAT, CURRENT: current ?? '' });
        const result = await rotateCredential(policy, rotationRequest('service_key'), rt);
        // Another tool's key is never touched, whatever failed.
        if (!live(other)) throw new Error('the rotation deleted a key it does not own');
        return result;
      },
      stored: async () => [
        secretsFileValue(runtime.workspace, 'supabase.env', 'SUPABASE_SECRET_KEY'),
        gh.secretValue({ repository: 'acme/ops', name: 'SUPABASE_SECRET_KEY' }),
      ],
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
