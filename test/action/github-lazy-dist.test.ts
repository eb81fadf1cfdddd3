import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGitHubModel } from '../models/github.js';
import { serveHandlers } from '../models/serve.js';
import { alterRoleYaml, usePostgres } from '../helpers/postgres.js';
import { DIST_TOKEN, newWorkspace, startAction } from '../helpers/action-child.js';

/**
 * Octokit is loaded only by a run that talks to GitHub: dist/index.js run with the bench's module
 * hook (bench/trace-loads.mjs), which lists every file the run loads. A dry run (preflight only, nothing
 * changed) of a policy with file stores loads no Octokit code; the same credential with a GitHub
 * store does.
 */
const fx = usePostgres();
const TRACE_HOOK = fileURLToPath(new URL('../../bench/trace-loads.mjs', import.meta.url));
/** A message only @octokit/request holds: the chunk that has it is Octokit's. */
const OCTOKIT_MARK = 'Please pass a fetch implementation as new Octokit';
let api: { url: string; close: () => Promise<void> };

beforeAll(async () => {
  const github = createGitHubModel({ token: DIST_TOKEN, repos: [{ full_name: 'acme/ops' }] });
  api = await serveHandlers(github.handlers, { rewriteTo: github.baseUrl });
});
afterAll(async () => {
  await api?.close();
});

async function dryRunLoads(stores: string): Promise<{ code: number | null; stdout: string; octokit: boolean }> {
  const workspace = newWorkspace(alterRoleYaml('odoo_app', 'ODOO_DB_PASSWORD', `    store:\n${stores}`));
  const trace = join(workspace, 'loads.txt');
  const run = await startAction({
    apiUrl: api.url,
    workspace,
    inputs: { 'dry-run': 'true' },
    env: {
      ROTATION_ADMIN_URL: fx().platform.adminUrl,
      ODOO_DB_PASSWORD: fx().platform.passwords.odoo_app.reveal(),
      NODE_OPTIONS: `--import=${TRACE_HOOK}`,
      TRACE_LOADS: trace,
    },
  }).done;
  // A hook that failed to load leaves no trace file: say what the child printed.
  expect(existsSync(trace), `${run.stdout}\n${run.stderr}`).toBe(true);
  const loaded = readFileSync(trace, 'utf8')
    .trim()
    .split('\n')
    .map((u) => fileURLToPath(u));
  expect(loaded.some((f) => f.endsWith(join('dist', 'index.js')))).toBe(true);
  return { code: run.code, stdout: run.stdout, octokit: loaded.some((f) => readFileSync(f, 'utf8').includes(OCTOKIT_MARK)) };
}

describe('Octokit is loaded only when the policy names GitHub', () => {
  it('a dry run with file stores only does not load it; with a GitHub store it does', async () => {
    const files = await dryRunLoads('      - file: { path: .secrets/odoo.env, key: ODOO_DB_PASSWORD }\n');
    expect(files.code, files.stdout).toBe(0);
    expect(files.octokit).toBe(false);

    const github = await dryRunLoads(
      '      - file: { path: .secrets/odoo.env, key: ODOO_DB_PASSWORD }\n      - github: { repository: acme/ops, secret: ODOO_DB_PASSWORD }\n',
    );
    expect(github.code, github.stdout).toBe(0);
    expect(github.octokit).toBe(true);
  });
});
