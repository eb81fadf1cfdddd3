import { existsSync, readdirSync, readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GitHubModel } from '../models/github.js';
import { serveHandlers } from '../models/serve.js';
import { leakHaystack, login, usePostgres } from '../helpers/postgres.js';
import {
  DIST_TOKEN,
  killAt,
  lastGroup,
  maskedValues,
  newWorkspace,
  rotationSessionsGone,
  runAction,
  specPolicyWorld,
  stepOfPoint,
  withoutMasks,
} from '../helpers/action-child.js';
import { pointsFor } from './harness.js';
import { STEPS } from '../../src/engine/steps.js';
import { formatTable } from '../../src/cli/plan.js';

/**
 * Invariant 1 under SIGKILL at every named checkpoint: dist/index.js (run as the runner runs it,
 * against the GitHub stand-in and a real PostgreSQL 16) is started with
 * CREDENTIAL_ROTATION_FAILPOINT=<point>:kill and kills itself there, as a runner shut down at
 * that moment would. A plain rerun, passing what the repository secret now holds as `current`,
 * converges: rotated, every store equal, the value logs in, older values refused, nothing leaked.
 */
const fx = usePostgres();
let github: GitHubModel;
let api: { url: string; close: () => Promise<void> };
let health: Server;
let policy: string;
/** One row per cell for the printed table; a cell that fails an assertion stays 'not converged'. */
const cells: { point: string; diedAt: string; converged: boolean }[] = [];

// spec-policy.yaml: three store targets, one consumer (a deploy workflow), one health check.
const POINTS = pointsFor(3, 1, 1);
/** Points before the ALTER ROLE commits: the killed run leaves the old password live. */
const BEFORE_COMMIT = (point: string) => point.startsWith('store.') || point === 'apply.before';

beforeAll(async () => {
  ({ github, health, policy } = await specPolicyWorld(fx));
  api = await serveHandlers(github.handlers, { rewriteTo: github.baseUrl });
  // Start from a consistent state: every store holds the live password.
  const first = await rotate(newWorkspace(policy), fx().platform.passwords.odoo_app.reveal());
  expect(first.outputs.status, first.stdout).toBe('rotated');
});
afterAll(async () => {
  await api?.close();
  health?.close();
  const rows = cells.map((c) => [c.point, c.diedAt, c.converged ? 'converged' : 'NOT converged']);
  if (rows.length)
    console.log(`alter-role, dist/index.js killed at each checkpoint:\n${formatTable(['point', 'died at', 'plain rerun'], rows)}`);
});

const stored = (environment?: string) => github.secretValue({ repository: 'acme/ops', environment, name: 'ODOO_DB_PASSWORD' });
const fileValue = (ws: string) => {
  const path = join(ws, '.secrets/odoo.env');
  return existsSync(path) ? readFileSync(path, 'utf8').match(/^ODOO_DB_PASSWORD=(.*)$/m)?.[1] : undefined;
};
const rotate = (ws: string, current: string, env: Record<string, string> = {}) =>
  runAction({ apiUrl: api.url, workspace: ws, env: { ROTATION_ADMIN_URL: fx().platform.adminUrl, ODOO_DB_PASSWORD: current, ...env } });
const evidenceFiles = (ws: string) => {
  const dir = join(ws, 'docs/evidence');
  return existsSync(dir)
    ? readdirSync(dir, { recursive: true, withFileTypes: true })
        .filter((e) => e.isFile())
        .map((e) => readFileSync(join(e.parentPath, e.name), 'utf8'))
    : [];
};

describe('dist/index.js killed by CREDENTIAL_ROTATION_FAILPOINT, then rerun (alter-role)', () => {
  it('a point the engine never passes kills nothing: the run completes (the control for the cells below)', async () => {
    const run = await rotate(newWorkspace(policy), stored()!, killAt('store.before.9'));
    expect(run.signal).toBeNull();
    expect(run.outputs.status).toBe('rotated');
  });

  it.each(POINTS)('killed at %s: a plain rerun converges', async (point) => {
    const ws = newWorkspace(policy);
    const before = stored()!;
    const logStart = fx().server.log.length;

    const cell = { point, diedAt: '?', converged: false };
    cells.push(cell);
    const killed = await rotate(ws, before, killAt(point));
    cell.diedAt = killed.signal === 'SIGKILL' ? (lastGroup(killed.stdout) ?? '?') : `not killed (${killed.outputs.status})`;
    expect(killed.signal, killed.stdout + killed.stderr).toBe('SIGKILL');
    expect(lastGroup(killed.stdout)).toBe(STEPS[stepOfPoint(point)]);
    expect(killed.outputs.status).toBeUndefined();
    expect(evidenceFiles(ws)).toEqual([]);
    expect(await rotationSessionsGone(fx())).toBe(0);
    // What the killed run left: before the commit the old password is still the live one (Postgres
    // rolled the ALTER back with the connection); after it, every store holds the new one.
    if (BEFORE_COMMIT(point)) expect((await login(fx(), 'odoo_app', before)).ok).toBe(true);
    else {
      expect(new Set([stored(), stored('production'), fileValue(ws)]).size).toBe(1);
      expect((await login(fx(), 'odoo_app', stored()!)).ok).toBe(true);
    }

    // The rerun a workflow does: `current` is what the repository secret holds now.
    const current = stored()!;
    const rerun = await rotate(ws, current);
    expect(rerun.code, rerun.stdout).toBe(0);
    expect(rerun.outputs.status).toBe('rotated');
    const fresh = stored()!;
    expect(stored('production')).toBe(fresh);
    expect(fileValue(ws)).toBe(fresh);
    expect((await login(fx(), 'odoo_app', fresh)).ok).toBe(true);
    for (const older of new Set([before, current]))
      expect(await login(fx(), 'odoo_app', older)).toMatchObject({ ok: false, code: '28P01' });

    const haystack = leakHaystack(
      withoutMasks(killed.stdout),
      killed.stderr,
      killed.summary,
      Object.values(killed.state),
      withoutMasks(rerun.stdout),
      rerun.stderr,
      rerun.summary,
      Object.values(rerun.state),
      evidenceFiles(ws),
      JSON.stringify(github.requests),
      fx().server.log.slice(logStart),
    );
    const secrets = new Set([before, current, fresh, DIST_TOKEN, ...maskedValues(killed.stdout), ...maskedValues(rerun.stdout)]);
    for (const secret of secrets) expect(haystack).not.toContain(secret);
    cell.converged = true;
  });
});
