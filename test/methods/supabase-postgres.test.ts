// A Postgres password that Edge Functions need: the supabase-function-secrets consumer names the
// project and token itself, and receives a connection URL derived from the new password.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { setupServer } from 'msw/node';
import { parsePolicy } from '../../src/registry/load-policy.js';
import { rotateCredential } from '../../src/engine/rotate.js';
import { createSupabaseModel } from '../models/supabase.js';
import { testRuntime } from '../helpers/runtime.js';
import { alterRoleYaml, leakHaystack, login, usePostgres } from '../helpers/postgres.js';
import { REF } from '../helpers/supabase.js';

const PAT = 'sbp_0123456789abcdef0123456789abcdef01234567';
const server = setupServer();
beforeAll(() => server.listen({ onUnhandledFrame: 'error' }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());
const pg = usePostgres();

describe('supabase-function-secrets on a postgres credential', () => {
  it('sets the derived connection URL as an Edge Function secret; the value logs in', async () => {
    const fx = pg();
    const runtime = testRuntime();
    const sb = createSupabaseModel({ token: PAT, now: runtime.now, projects: [{ ref: REF }] });
    server.use(...sb.handlers);
    const policy = parsePolicy(
      alterRoleYaml(
        'odoo_app',
        'ODOO_DB_PASSWORD',
        `    store:
      - file: { path: .secrets/odoo.env, key: ODOO_DB_PASSWORD }
    consumers:
      - supabase-function-secrets:
          project_ref: ${REF}
          access_token: \${SUPABASE_ACCESS_TOKEN}
          names: [ODOO_DB_URL]
          format: "postgresql://odoo_app:{password}@db:25060/odoo?sslmode=require"
`,
      ),
      'rotation.yaml',
      { ROTATION_ADMIN_URL: fx.platform.adminUrl, ODOO_DB_PASSWORD: fx.platform.passwords.odoo_app.reveal(), SUPABASE_ACCESS_TOKEN: PAT },
    );
    const result = await rotateCredential(
      policy,
      { credential: 'odoo_app', reason: 'manual', dryRun: false, trigger: { event: 'cli', actor: 'me' } },
      runtime,
    );
    expect(result.summary).toMatch(/^rotated/);
    const url = sb.secretValue(REF, 'ODOO_DB_URL')!;
    const password = /^postgresql:\/\/odoo_app:(.+)@db:25060\/odoo\?sslmode=require$/.exec(url)![1];
    expect((await login(fx, 'odoo_app', password)).ok).toBe(true);
    expect((await login(fx, 'odoo_app', fx.platform.passwords.odoo_app)).ok).toBe(false);
    const text = leakHaystack(runtime.reporter.lines, JSON.stringify(result), JSON.stringify(sb.requests));
    expect(text.includes(password)).toBe(false);
    expect(text.includes(PAT)).toBe(false);
  });
});
