import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestHandler } from 'msw';
import type { GitHubModel } from '../models/github.js';
import { serveHandlers } from '../models/serve.js';
import { leakHaystack, login, usePostgres } from '../helpers/postgres.js';
import {
  adminSessionStates,
  DIST_TOKEN,
  holdReply,
  newWorkspace,
  rotationSessionsGone,
  runAction,
  specPolicyWorld,
  startAction,
  withoutMasks,
  type ChildRun,
} from '../helpers/action-child.js';
import { STEPS } from '../../src/engine/steps.js';

/**
 * Invariant 1 under SIGKILL: dist/index.js (run as the runner runs it, against the GitHub
 * stand-in and a real PostgreSQL 16) is killed at every step of the checklist, and inside the
 * window where the stores hold the new value but the ALTER ROLE is not committed. After each kill
 * a plain rerun, passing what the repository secret now holds as `current` (as a workflow passes
 * the secret), converges: rotated, every store equal, the value logs in, older values refused.
 */
const fx = usePostgres();
let github: GitHubModel;
let api: { url: string; close: () => Promise<void> };
let gates: RequestHandler[] = [];
let health: Server;
let policy: string;
const workspace = () => newWorkspace(policy);

beforeAll(async () => {
  ({ github, health, policy } = await specPolicyWorld(fx));
  api = await serveHandlers(() => [...gates, ...github.handlers], { rewriteTo: github.baseUrl });
  // Start from a consistent state: every store holds the live password.
  const first = await rotate(workspace(), fx().platform.passwords.odoo_app.reveal());
  expect(first.outputs.status, first.stdout).toBe('rotated');
});
afterAll(async () => {
  await api?.close();
  health?.close();
});

const stored = (environment?: string) => github.secretValue({ repository: 'acme/ops', environment, name: 'ODOO_DB_PASSWORD' });
const fileValue = (ws: string) => readFileSync(join(ws, '.secrets/odoo.env'), 'utf8').match(/^ODOO_DB_PASSWORD=(.*)$/m)?.[1];
const rotate = (ws: string, current: string, killOn?: { pattern: string; signal: NodeJS.Signals }) =>
  runAction({ apiUrl: api.url, workspace: ws, env: { ROTATION_ADMIN_URL: fx().platform.adminUrl, ODOO_DB_PASSWORD: current }, killOn });

/** The rerun a workflow would do after the kill, and what a person checks afterwards. */
async function rerunConverges(ws: string, before: string, killed: ChildRun, logStart: number): Promise<void> {
  expect(await rotationSessionsGone(fx())).toBe(0);
  const current = stored()!;
  const rerun = await rotate(ws, current);
  expect(rerun.code, rerun.stdout).toBe(0);
  expect(rerun.outputs.status).toBe('rotated');
  const fresh = stored()!;
  expect(stored('production')).toBe(fresh);
  expect(fileValue(ws)).toBe(fresh);
  expect((await login(fx(), 'odoo_app', fresh)).ok).toBe(true);
  for (const older of new Set([before, current])) expect(await login(fx(), 'odoo_app', older)).toMatchObject({ ok: false, code: '28P01' });

  const evidence = readFileSync(join(ws, rerun.outputs['evidence-path']), 'utf8');
  const haystack = leakHaystack(
    withoutMasks(killed.stdout),
    killed.stderr,
    killed.summary,
    withoutMasks(rerun.stdout),
    rerun.stderr,
    rerun.summary,
    evidence,
    Object.values(killed.state),
    Object.values(rerun.state),
    fx().server.log.slice(logStart),
  );
  for (const secret of [before, current, fresh, DIST_TOKEN]) expect(haystack).not.toContain(secret);
}

describe('dist/index.js killed with SIGKILL, then rerun', () => {
  it.each(Object.entries(STEPS))('killed when step %s starts: a plain rerun converges', async (_step, title) => {
    const ws = workspace();
    const before = stored()!;
    const logStart = fx().server.log.length;
    const killed = await rotate(ws, before, { pattern: `::group::${title}`, signal: 'SIGKILL' });
    expect(killed.signal).toBe('SIGKILL');
    expect(killed.outputs.status).toBeUndefined();
    await rerunConverges(ws, before, killed, logStart);
  });

  it('killed while a store write is answered and the ALTER ROLE is uncommitted: the old password stays live, a rerun converges', async () => {
    const ws = workspace();
    const before = stored()!;
    const logStart = fx().server.log.length;
    // The environment secret (second target) is stored by GitHub, but its reply never comes.
    const gate = holdReply(
      github.handlers,
      github.baseUrl,
      (method, path) => method === 'PUT' && path.includes('/environments/production/secrets/'),
    );
    gates = [gate.handler];
    try {
      const { child, done } = startAction({
        apiUrl: api.url,
        workspace: ws,
        env: { ROTATION_ADMIN_URL: fx().platform.adminUrl, ODOO_DB_PASSWORD: before },
      });
      await gate.reached;
      const pending = stored()!;
      expect(pending).not.toBe(before);
      expect(stored('production')).toBe(pending);
      // Inside the window: the stores are ahead, the change is not committed, the old password is the live one.
      expect(await adminSessionStates(fx())).toContain('idle in transaction');
      expect((await login(fx(), 'odoo_app', before)).ok).toBe(true);
      expect(await login(fx(), 'odoo_app', pending)).toMatchObject({ ok: false, code: '28P01' });
      child.kill('SIGKILL');
      const killed = await done;
      expect(killed.signal).toBe('SIGKILL');
      // Postgres aborted the ALTER with the connection: still the old password.
      expect(await rotationSessionsGone(fx())).toBe(0);
      expect((await login(fx(), 'odoo_app', before)).ok).toBe(true);
      expect((await login(fx(), 'odoo_app', pending)).ok).toBe(false);
      gate.release();
      await rerunConverges(ws, before, killed, logStart);
    } finally {
      gate.release();
      gates = [];
    }
  });
});
