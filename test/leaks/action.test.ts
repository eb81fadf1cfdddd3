// Issue 9 §1, the reproductions as reported, through the bundled action (dist/index.js run with
// the runner's environment against local stand-ins and a real PostgreSQL 16): every sink the
// runner keeps (stdout, stderr, job summary, outputs, state, evidence JSON and Markdown) is
// searched for every secret and token the run knew.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveHandlers } from '../models/serve.js';
import { createSupabaseModel } from '../models/supabase.js';
import type { GitHubModel } from '../models/github.js';
import { echoing, type Echo } from '../helpers/echo.js';
import { REF } from '../helpers/supabase.js';
import { usePostgres } from '../helpers/postgres.js';
import {
  DIST_TOKEN,
  maskedValues,
  newWorkspace,
  runAction,
  specPolicyWorld,
  withoutMasks,
  type ChildRun,
} from '../helpers/action-child.js';

const fx = usePostgres();
const SUPABASE_TOKEN = 'sbp_leaktest_0123456789abcdef0123456789abcdef';
const HEALTH_TOKEN = 'odoo-health-token-5c2e9a7b31';
let github: GitHubModel;
let health: Server;
let basePolicy: string;
let gates: ReturnType<typeof echoing>[] = [];
let ghApi: { url: string; close: () => Promise<void> };
let sbApi: { url: string; close: () => Promise<void> };
const supabase = createSupabaseModel({ apiUrl: 'https://api.supabase.com', token: SUPABASE_TOKEN, projects: [{ ref: REF }] });

beforeAll(async () => {
  ({ github, health, policy: basePolicy } = await specPolicyWorld(fx));
  ghApi = await serveHandlers(() => [...gates, ...github.handlers], { rewriteTo: github.baseUrl });
  sbApi = await serveHandlers(() => [...gates, ...supabase.handlers], { rewriteTo: supabase.apiUrl });
});
afterAll(async () => {
  await ghApi?.close();
  await sbApi?.close();
  health?.close();
});

/** Every sink of a finished child, by name. */
function sinks(run: ChildRun): Record<string, string> {
  const dir = join(run.workspace, 'docs/evidence');
  const files = existsSync(dir) ? readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()) : [];
  return {
    stdout: withoutMasks(run.stdout),
    stderr: run.stderr,
    summary: run.summary,
    outputs: JSON.stringify(run.outputs),
    state: readFileSync(run.stateFile, 'utf8'),
    'evidence json': files
      .filter((f) => f.name.endsWith('.json'))
      .map((f) => readFileSync(join(f.parentPath, f.name), 'utf8'))
      .join('\n'),
    'evidence md': files
      .filter((f) => f.name.endsWith('.md'))
      .map((f) => readFileSync(join(f.parentPath, f.name), 'utf8'))
      .join('\n'),
  };
}

async function rotate(policy: string, env: Record<string, string> = {}): Promise<{ run: ChildRun; secrets: string[] }> {
  const current = github.secretValue({ repository: 'acme/ops', name: 'ODOO_DB_PASSWORD' }) ?? fx().platform.passwords.odoo_app.reveal();
  const adminUrl = fx().platform.adminUrl;
  const run = await runAction({
    apiUrl: ghApi.url,
    workspace: newWorkspace(policy),
    env: { ROTATION_ADMIN_URL: adminUrl, ODOO_DB_PASSWORD: current, ...env },
  });
  const stored = [
    github.secretValue({ repository: 'acme/ops', name: 'ODOO_DB_PASSWORD' }),
    github.secretValue({ repository: 'acme/ops', environment: 'production', name: 'ODOO_DB_PASSWORD' }),
  ];
  const secrets = [
    DIST_TOKEN,
    current,
    adminUrl,
    new URL(adminUrl).password,
    ...Object.values(env),
    ...maskedValues(run.stdout),
    ...stored,
  ].filter((s): s is string => !!s && s.length >= 4);
  return { run, secrets: [...new Set(secrets)] };
}

function expectNoSecretIn(run: ChildRun, secrets: string[]): void {
  for (const [sink, text] of Object.entries(sinks(run))) {
    for (const secret of secrets)
      expect(text.includes(secret), `${sink} holds a secret (${secret.slice(0, 3)}…, ${secret.length} chars)`).toBe(false);
  }
}

describe('the action, with servers that echo what they were sent', () => {
  it('GitHub answers the secret write 403 echoing the Authorization header: the token is in no sink', async () => {
    const echo: Echo = { hits: 0, sealed: [] };
    gates = [echoing(github.baseUrl, 'PUT', /\/actions\/secrets\/ODOO_DB_PASSWORD$/, 403, echo)];
    try {
      const { run, secrets } = await rotate(basePolicy);
      expect(echo.hits).toBeGreaterThan(0);
      expect(run.outputs.status).toBe('failed');
      expect(run.summary).toContain('with headers');
      expectNoSecretIn(run, [...secrets, ...echo.sealed]);
    } finally {
      gates = [];
    }
  });

  it('Supabase answers the Edge Function secrets 400 echoing body and header: neither the new password nor the token is in any sink', async () => {
    const echo: Echo = { hits: 0, sealed: [] };
    gates = [echoing(supabase.apiUrl, 'POST', /\/secrets$/, 400, echo)];
    const policy = basePolicy.replace(
      '      - github-workflow: { repository: acme/ops, workflow: deploy-odoo.yml, ref: main }\n',
      `      - github-workflow: { repository: acme/ops, workflow: deploy-odoo.yml, ref: main }\n      - supabase-function-secrets: { names: [ODOO_DB_PASSWORD], project_ref: ${REF}, access_token: "\${SUPABASE_ACCESS_TOKEN}", api_url: "${sbApi.url}" }\n`,
    );
    expect(policy).not.toBe(basePolicy);
    try {
      const { run, secrets } = await rotate(policy, { SUPABASE_ACCESS_TOKEN: SUPABASE_TOKEN });
      expect(echo.hits).toBeGreaterThan(0);
      expect(run.outputs.status).toBe('failed');
      expect(run.summary).toContain('with headers');
      expect(secrets).toContain(SUPABASE_TOKEN);
      expectNoSecretIn(run, secrets);
    } finally {
      gates = [];
    }
  });

  it('a health URL carrying ?token=${HEALTH_TOKEN} is neither printed nor recorded', async () => {
    const policy = basePolicy.replace(/url: (http:\/\/127\.0\.0\.1:\d+\/web\/health)/, 'url: "$1?token=${HEALTH_TOKEN}"');
    expect(policy).not.toBe(basePolicy);
    const { run, secrets } = await rotate(policy, { HEALTH_TOKEN });
    expect(run.outputs.status, run.stdout).toBe('rotated');
    expect(sinks(run)['evidence json']).toContain('/web/health?token=***');
    expectNoSecretIn(run, secrets);
  });
});
