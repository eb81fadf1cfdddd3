// Issue 9 §5/§6: the CLI at its edges, run as a child (dist/cli.js; `npm run build` first):
// a reader that leaves early, the token from the environment, what to update after a rotation,
// and verify falling back to a readable store.
import { runNode } from '../helpers/child.js';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CADENCE_POLICY, workspaceWithHistory } from '../helpers/evidence.js';
import { alterRoleYaml, leakHaystack, login, makeRole, usePostgres } from '../helpers/postgres.js';
import { cli, CLI, type CliRun } from '../helpers/cli-child.js';
import { createGitHubModel, type GitHubModel } from '../models/github.js';
import { serveHandlers } from '../models/serve.js';
import { GITHUB_TEST_TOKEN } from '../helpers/runtime.js';

describe('plan --json | head', () => {
  it('ends quietly with exit 0 when the reader closes stdout before the output is written', async () => {
    const ws = await workspaceWithHistory(CADENCE_POLICY, []);
    // Like `head` having exited: nobody reads the pipe any more, so the child's write meets EPIPE.
    const run: CliRun = await runNode([CLI, '-C', ws, 'plan', '--json'], { env: { PATH: process.env.PATH ?? '' }, closeStdout: true });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
  });
});

describe('the GitHub token comes from GITHUB_TOKEN; a rotation says which variable to update; verify falls back to a store', () => {
  const fx = usePostgres();
  let github: GitHubModel;
  let api: { url: string; close: () => Promise<void> };
  beforeAll(async () => {
    github = createGitHubModel({ token: GITHUB_TEST_TOKEN, repos: [{ full_name: 'acme/ops' }] });
    api = await serveHandlers(github.handlers, { rewriteTo: github.baseUrl });
  });
  afterAll(() => api?.close());

  it('rotate --help says the flag is visible in ps and names GITHUB_TOKEN', async () => {
    const help = await cli(['rotate', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout.replace(/\s+/g, ' ')).toContain(
      'prefer the GITHUB_TOKEN environment variable (read when this is not given): a command line is visible to every user in ps',
    );
  });

  it('rotates with GITHUB_TOKEN from the environment, names ODOO_DB_PASSWORD as the variable to update, and verify then proves the file store with the variable unset', async () => {
    const old = await makeRole(fx(), 'cli_next');
    const ws = mkdtempSync(join(tmpdir(), 'cli-next-'));
    mkdirSync(join(ws, '.github'));
    writeFileSync(
      join(ws, '.github/rotation.yaml'),
      alterRoleYaml(
        'cli_next',
        'ODOO_DB_PASSWORD',
        `    store:
      - github: { repository: acme/ops, secret: ODOO_DB_PASSWORD }
      - file: { path: .secrets/odoo.env, key: ODOO_DB_PASSWORD }
`,
      ),
    );
    const env = { ROTATION_ADMIN_URL: fx().platform.adminUrl, GITHUB_API_URL: api.url };

    const rotate = await cli(['-C', ws, 'rotate', 'cli_next'], { ...env, GITHUB_TOKEN: GITHUB_TEST_TOKEN, ODOO_DB_PASSWORD: old.reveal() });
    expect(rotate.stderr).toBe('');
    expect(rotate.code).toBe(0);
    expect(rotate.stdout).toMatch(/status: rotated/);
    expect(rotate.stdout).toContain(
      'next: update ODOO_DB_PASSWORD to the new value (credentials.cli_next.current reads it, and it holds the old one, now refused)',
    );
    const fresh = readFileSync(join(ws, '.secrets/odoo.env'), 'utf8').match(/^ODOO_DB_PASSWORD=(.*)$/m)![1];
    expect(github.secretValue({ repository: 'acme/ops', name: 'ODOO_DB_PASSWORD' })).toBe(fresh);
    expect((await login(fx(), 'cli_next', fresh)).ok).toBe(true);

    // ODOO_DB_PASSWORD not set here: the value comes from the file store, as the docs say.
    const verified = await cli(['-C', ws, 'verify', 'cli_next'], env);
    expect(verified.stderr).toBe('');
    expect(verified.code).toBe(0);
    expect(verified.stdout).toMatch(
      /^cli_next\s+ok\s+file \.secrets\/odoo\.env ODOO_DB_PASSWORD\s+1 write-only, 1 agrees\s+the value from file \.secrets\/odoo\.env ODOO_DB_PASSWORD works$/m,
    );

    // A rotation still needs it: a missing variable is an error there.
    const without = await cli(['-C', ws, 'rotate', 'cli_next', '--dry-run'], { ...env, GITHUB_TOKEN: GITHUB_TEST_TOKEN });
    expect(without.code).toBe(2);
    expect(without.stderr).toContain('credentials.cli_next.current: environment variable ODOO_DB_PASSWORD is not set');

    const haystack = leakHaystack(rotate.stdout, rotate.stderr, verified.stdout, verified.stderr, without.stderr);
    for (const secret of [old.reveal(), fresh, GITHUB_TEST_TOKEN]) expect(haystack).not.toContain(secret);
  });
});
