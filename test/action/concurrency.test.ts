import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestHandler } from 'msw';
import { createGitHubModel, type GitHubModel } from '../models/github.js';
import { serveHandlers } from '../models/serve.js';
import { alterRoleYaml, leakHaystack, login, usePostgres } from '../helpers/postgres.js';
import { DIST_TOKEN, holdReply, newWorkspace, startAction, withoutMasks } from '../helpers/action-child.js';

/**
 * Invariant 4: two real runs of dist/index.js for the same credential at once (two runners, two
 * workspaces). The first GitHub write is held until one run has exited, so they overlap for
 * certain: the run holding the cluster-wide rotation lock rotates, the other exits at once, non-zero, saying
 * why, and changes nothing.
 */
const fx = usePostgres();
let github: GitHubModel;
let api: { url: string; close: () => Promise<void> };
let gates: RequestHandler[] = [];

const POLICY = alterRoleYaml(
  'odoo_app',
  'ODOO_DB_PASSWORD',
  `    store:
      - github: { repository: acme/ops, secret: ODOO_DB_PASSWORD }
      - file: { path: .secrets/odoo.env, key: ODOO_DB_PASSWORD }
`,
);

beforeAll(async () => {
  github = createGitHubModel({ token: DIST_TOKEN, repos: [{ full_name: 'acme/ops' }] });
  api = await serveHandlers(() => [...gates, ...github.handlers], { rewriteTo: github.baseUrl });
});
afterAll(async () => {
  await api?.close();
});

/** The password the last winner left live. */
let live: string | undefined;

describe('two concurrent rotations of the same credential', () => {
  // Roles belong to the cluster: admin URLs naming different databases of one server (odoo_app
  // through /odoo and /postgres) must still exclude each other.
  it.each([
    ['through the same admin URL', (url: string) => [url, url]],
    ['through admin URLs naming two databases of one server', (url: string) => [url, url.replace(/\/odoo$/, '/postgres')]],
  ])('%s: exactly one rotates; the other exits at once with a clear message and changes nothing', async (_name, urls) => {
    const old = live ?? fx().platform.passwords.odoo_app.reveal();
    const logStart = fx().server.log.length;
    const puts = github.count({ method: 'PUT' });
    const gate = holdReply(github.handlers, github.baseUrl, (method) => method === 'PUT');
    gates = [gate.handler];
    const adminUrls = urls(fx().platform.adminUrl);
    expect(adminUrls[1]).toMatch(/\/(odoo|postgres)$/);
    const runs = [newWorkspace(POLICY), newWorkspace(POLICY)].map((workspace, i) =>
      startAction({ apiUrl: api.url, workspace, env: { ROTATION_ADMIN_URL: adminUrls[i], ODOO_DB_PASSWORD: old } }),
    );
    try {
      // The first to exit is the loser: the winner cannot finish while its first write is held.
      const first = await Promise.race(runs.map((r, i) => r.done.then((run) => ({ run, i }))));
      const loser = first.run;
      expect(loser.code).toBe(1);
      expect(loser.outputs.status).toBe('failed');
      expect(loser.stdout).toContain(
        "::error::odoo_app: another rotation of role odoo_app is running (it holds the role's cluster-wide rotation lock). wait for it to finish; nothing was changed",
      );
      // The gate was reached by the winner, never by the loser: it wrote nothing.
      await gate.reached;
      expect(github.count({ method: 'PUT' })).toBe(puts + 1);
      expect(existsSync(join(loser.workspace, '.secrets'))).toBe(false);
      expect(existsSync(join(loser.workspace, 'docs'))).toBe(false);
      // While the winner is held, the old password is still the live one.
      expect((await login(fx(), 'odoo_app', old)).ok).toBe(true);

      gate.release();
      const winner = await runs[1 - first.i].done;
      expect(winner.code, winner.stdout).toBe(0);
      expect(winner.outputs.status).toBe('rotated');
      const fresh = github.secretValue({ repository: 'acme/ops', name: 'ODOO_DB_PASSWORD' })!;
      expect(readFileSync(join(winner.workspace, '.secrets/odoo.env'), 'utf8')).toBe(`ODOO_DB_PASSWORD=${fresh}\n`);
      expect((await login(fx(), 'odoo_app', fresh)).ok).toBe(true);
      expect(await login(fx(), 'odoo_app', old)).toMatchObject({ ok: false, code: '28P01' });
      live = fresh;

      const haystack = leakHaystack(
        [loser, winner].flatMap((r) => [withoutMasks(r.stdout), r.stderr, r.summary, ...Object.values(r.state)]),
        readFileSync(join(winner.workspace, winner.outputs['evidence-path']), 'utf8'),
        fx().server.log.slice(logStart),
      );
      for (const secret of [old, fresh, DIST_TOKEN]) expect(haystack).not.toContain(secret);
    } finally {
      gate.release();
      gates = [];
      for (const r of runs) r.child.kill('SIGKILL');
    }
  });
});
