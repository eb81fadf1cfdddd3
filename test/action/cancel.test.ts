import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestHandler } from 'msw';
import { createGitHubModel, type GitHubModel } from '../models/github.js';
import { serveHandlers } from '../models/serve.js';
import { alterRoleYaml, leakHaystack, login, usePostgres } from '../helpers/postgres.js';
import {
  DIST_TOKEN,
  holdReply,
  newWorkspace,
  rotationSessionsGone,
  runAction,
  startAction,
  withoutMasks,
  type ChildRun,
} from '../helpers/action-child.js';

/**
 * Cancellation: the runner cancels the main step (SIGTERM), then runs the post step
 * (dist/post.js, `post-if: always()`) with the state the main step saved. The post step says
 * what state the credential is in and exactly which command repairs it, and writes no secret.
 */
const fx = usePostgres();
let github: GitHubModel;
let api: { url: string; close: () => Promise<void> };
let gates: RequestHandler[] = [];
let ws: string;
const secrets = new Set<string>([DIST_TOKEN]);

// The file target first, so a cancel during the GitHub writes leaves the file ahead.
const POLICY = alterRoleYaml(
  'odoo_app',
  'ODOO_DB_PASSWORD',
  `    store:
      - file: { path: .secrets/odoo.env, key: ODOO_DB_PASSWORD }
      - github: { repository: acme/ops, secret: ODOO_DB_PASSWORD }
      - github: { repository: acme/ops, environment: production, secret: ODOO_DB_PASSWORD }
`,
);

beforeAll(async () => {
  github = createGitHubModel({ token: DIST_TOKEN, repos: [{ full_name: 'acme/ops', environments: ['production'] }] });
  api = await serveHandlers(() => [...gates, ...github.handlers], { rewriteTo: github.baseUrl });
  ws = newWorkspace(POLICY);
  const first = await main(fx().platform.passwords.odoo_app.reveal());
  expect(first.outputs.status, first.stdout).toBe('rotated');
});
afterAll(async () => {
  await api?.close();
});

const stored = (environment?: string) => github.secretValue({ repository: 'acme/ops', environment, name: 'ODOO_DB_PASSWORD' });
const fileValue = () => readFileSync(join(ws, '.secrets/odoo.env'), 'utf8').match(/^ODOO_DB_PASSWORD=(.*)$/m)?.[1];
const envFor = (current: string) => ({ ROTATION_ADMIN_URL: fx().platform.adminUrl, ODOO_DB_PASSWORD: current });
const main = (current: string, killOn?: { pattern: string; signal: NodeJS.Signals }) => {
  secrets.add(current);
  return runAction({ apiUrl: api.url, workspace: ws, env: envFor(current), killOn });
};
const post = (after: ChildRun, current: string) =>
  runAction({ apiUrl: api.url, workspace: ws, env: envFor(current), entry: 'dist/post.js', state: after.state });

/** Every file under the workspace with its size and mtime: the post step must not touch any. */
function snapshot(dir: string, out: Record<string, string> = {}): Record<string, string> {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const st = statSync(path);
    if (st.isDirectory()) snapshot(path, out);
    else out[path] = `${st.size}:${st.mtimeMs}`;
  }
  return out;
}

/** What the post step wrote, searched for every value this file has seen. */
function expectNoSecretFrom(run: ChildRun, ...more: (string | string[])[]) {
  const evidence = Object.keys(snapshot(ws))
    .filter((p) => p.includes('/docs/'))
    .map((p) => readFileSync(p, 'utf8'));
  const haystack = leakHaystack(withoutMasks(run.stdout), run.stderr, run.summary, readFileSync(run.stateFile, 'utf8'), evidence, ...more);
  for (const secret of secrets) expect(haystack).not.toContain(secret);
}

describe('dist/post.js after the main step', () => {
  it('cancelled during the GitHub writes: reports the file ahead of the live password and the command that repairs it', async () => {
    const before = stored()!;
    const logStart = fx().server.log.length;
    const gate = holdReply(
      github.handlers,
      github.baseUrl,
      (method, path) => method === 'PUT' && path.endsWith('/actions/secrets/ODOO_DB_PASSWORD'),
    );
    gates = [gate.handler];
    try {
      const { child, done } = startAction({ apiUrl: api.url, workspace: ws, env: envFor(before) });
      await gate.reached;
      child.kill('SIGTERM');
      const cancelled = await done;
      expect(cancelled.signal).toBe('SIGTERM');
      expect(cancelled.state).toMatchObject({ started: 'true', credential: 'odoo_app' });
      expect(cancelled.state.finished).toBeUndefined();
      const ahead = fileValue()!;
      secrets.add(ahead);
      expect(ahead).not.toBe(before);

      const files = snapshot(ws);
      const run = await post(cancelled, before);
      expect(run.code, run.stdout).toBe(0);
      expect(run.stdout).toMatch(/^::warning::credential-rotation: the main step was cancelled mid-rotation\. odoo_app is half-rotated/m);
      expect(run.stdout).toContain("rerun the workflow 'dispatch.yml' with credential=odoo_app");
      expect(run.stdout).toContain('npx credential-rotation rotate odoo_app');
      expect(run.stdout).toContain('no credential-rotation session is open on 127.0.0.1');
      expect(run.stdout).toContain('an uncommitted ALTER ROLE cannot exist');
      expect(run.stdout).toContain('the current value of odoo_app logs in');
      expect(run.stdout).toContain('file .secrets/odoo.env ODOO_DB_PASSWORD: its value does not log in (28P01)');
      expect(run.stdout).toContain('github acme/ops ODOO_DB_PASSWORD: cannot be read back (write-only)');
      expect(run.summary).toContain('### Credential rotation: `odoo_app` ⚠️ cancelled');
      expect(run.summary).toContain("- rerun the workflow 'dispatch.yml' with credential=odoo_app");
      expect(snapshot(ws)).toEqual(files);
      expectNoSecretFrom(run, withoutMasks(cancelled.stdout), cancelled.stderr, fx().server.log.slice(logStart));
      // The values are masked for the runner, never printed.
      expect(run.stdout).toContain(`::add-mask::${ahead}`);

      gate.release();
      // The command it names repairs it: what the repository secret holds is passed as current.
      expect(await rotationSessionsGone(fx())).toBe(0);
      const current = stored()!;
      const rerun = await main(current);
      expect(rerun.outputs.status, rerun.stdout).toBe('rotated');
      expect([stored(), stored('production')]).toEqual([fileValue(), fileValue()]);
      expect((await login(fx(), 'odoo_app', fileValue()!)).ok).toBe(true);
      secrets.add(fileValue()!);
    } finally {
      gate.release();
      gates = [];
    }
  });

  it('cancelled in preflight: the old password is still live and the file holds it; the GitHub secrets cannot be checked', async () => {
    const before = stored()!;
    const cancelled = await main(before, { pattern: '::group::Preflight', signal: 'SIGTERM' });
    expect(cancelled.signal).toBe('SIGTERM');
    const files = snapshot(ws);
    const run = await post(cancelled, before);
    expect(run.stdout).toContain(
      '::warning::credential-rotation: the main step was cancelled mid-rotation. the old value of odoo_app is still live and every store that can be read holds it; 2 write-only target(s) may hold',
    );
    expect(run.stdout).toContain('file .secrets/odoo.env ODOO_DB_PASSWORD: its value logs in');
    expect(run.stdout).toContain('npx credential-rotation rotate odoo_app');
    expect(snapshot(ws)).toEqual(files);
    expectNoSecretFrom(run);
  });

  it('after a main step that finished, the post step only notes it', async () => {
    const finished = await main(stored()!);
    expect(finished.outputs.status).toBe('rotated');
    secrets.add(stored()!);
    const run = await post(finished, stored()!);
    expect(run.code).toBe(0);
    expect(withoutMasks(run.stdout).trim()).toBe('credential-rotation: the main step finished (rotated); nothing to check');
    expect(run.summary).toBe('');
  });
});
