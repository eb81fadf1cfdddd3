import { existsSync, readdirSync, readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GitHubModel } from '../models/github.js';
import { serveHandlers } from '../models/serve.js';
import { leakHaystack, login, usePostgres } from '../helpers/postgres.js';
import { alternatingWorld, urlLogsIn } from '../helpers/alternating.js';
import {
  DIST_TOKEN,
  killAt,
  lastGroup,
  maskedValues,
  newWorkspace,
  rotationSessionsGone,
  runAction,
  startAction,
  stepOfPoint,
  withoutMasks,
} from '../helpers/action-child.js';
import { pointsFor } from './harness.js';
import { STEPS } from '../../src/engine/steps.js';
import { formatTable } from '../../src/cli/plan.js';

/**
 * alternating-roles through dist/index.js, run as the runner runs it (GitHub stand-in, real
 * PostgreSQL 16): odoo_app moved from a single login role to a group with two logins, rotated
 * end to end while a consumer logs in every few milliseconds with the pair it holds (re-read only
 * when its deploy workflow is dispatched): not one login fails. Then SIGKILL at every checkpoint,
 * and a plain rerun converges.
 */
const fx = usePostgres();
let github: GitHubModel;
let api: { url: string; close: () => Promise<void> };
let health: Server;
let policy: string;
const cells: { point: string; diedAt: string; converged: boolean }[] = [];

const secret = (name: string, environment?: string) => github.secretValue({ repository: 'acme/ops', environment, name });
const pair = () => ({ user: secret('ODOO_DB_USER')!, password: secret('ODOO_DB_PASSWORD')! });
const rotate = (ws: string, current: string, env: Record<string, string> = {}) =>
  runAction({ apiUrl: api.url, workspace: ws, env: { ROTATION_ADMIN_URL: fx().platform.adminUrl, ODOO_DB_PASSWORD: current, ...env } });
const fileUrl = (ws: string) => {
  const path = join(ws, '.secrets/odoo.env');
  return existsSync(path) ? readFileSync(path, 'utf8').match(/^ODOO_DATABASE_URL=(.*)$/m)?.[1] : undefined;
};
const evidenceFiles = (ws: string) => {
  const dir = join(ws, 'docs/evidence');
  return existsSync(dir)
    ? readdirSync(dir, { recursive: true, withFileTypes: true })
        .filter((e) => e.isFile())
        .map((e) => readFileSync(join(e.parentPath, e.name), 'utf8'))
    : [];
};
/** Every store agrees: the pair logs in, and both URLs carry the same pair. */
async function consistent(ws: string): Promise<boolean> {
  const { user, password } = pair();
  const url = `postgresql://${user}:${password}@127.0.0.1:${fx().server.port}/odoo`;
  return (
    (await login(fx(), user, password)).ok &&
    secret('ODOO_DATABASE_URL', 'production') === url &&
    fileUrl(ws) === url &&
    (await urlLogsIn(url))
  );
}

beforeAll(async () => {
  ({ github, health, policy } = await alternatingWorld(fx));
  api = await serveHandlers(github.handlers, { rewriteTo: github.baseUrl });
});
afterAll(async () => {
  await api?.close();
  health?.close();
  const rows = cells.map((c) => [c.point, c.diedAt, c.converged ? 'converged' : 'NOT converged']);
  if (rows.length)
    console.log(`alternating-roles, dist/index.js killed at each checkpoint:\n${formatTable(['point', 'died at', 'plain rerun'], rows)}`);
});

describe('alternating-roles through dist/index.js', () => {
  it('the first run after the move proceeds on the admin authority (the old single-role password logs in as neither login)', async () => {
    const ws = newWorkspace(policy);
    const run = await rotate(ws, fx().platform.passwords.odoo_app.reveal());
    expect(run.outputs.status, run.stdout).toBe('rotated');
    expect(run.stdout).toContain('current value does not log in, proceeding on admin authority');
    expect(await consistent(ws)).toBe(true);
  });

  it('rotates odoo_app end to end with zero failed logins for a consumer that switches only when its deploy runs', async () => {
    const ws = newWorkspace(policy);
    const before = pair();
    const logStart = fx().server.log.length;
    let held = before;
    const users = new Set<string>();
    let attempts = 0;
    const failures: string[] = [];
    const dispatchedBefore = github.workflows.runs.length;
    const { done } = startAction({
      apiUrl: api.url,
      workspace: ws,
      env: { ROTATION_ADMIN_URL: fx().platform.adminUrl, ODOO_DB_PASSWORD: before.password },
    });
    let finished = false;
    void done.then(() => (finished = true));
    while (!finished) {
      // The consumer re-reads its pair when its deploy workflow has been dispatched, not before.
      if (github.workflows.runs.length > dispatchedBefore && held === before) held = pair();
      users.add(held.user);
      attempts++;
      const result = await login(fx(), held.user, held.password);
      if (!result.ok) failures.push(`${held.user}: ${result.code}`);
      await new Promise((r) => setTimeout(r, 5));
    }
    const run = await done;
    expect(run.stderr).toBe('');
    expect(run.outputs.status, run.stdout).toBe('rotated');
    expect(failures).toEqual([]);
    // The prober ran before and after the switch (both logins below), however fast the run was:
    // a count of attempts would measure the machine, not the product.
    expect(attempts).toBeGreaterThanOrEqual(2);
    // The consumer did switch logins, and the login it left is now refused.
    const after = pair();
    expect(users).toEqual(new Set([before.user, after.user]));
    expect(after.user).not.toBe(before.user);
    expect(await login(fx(), before.user, before.password)).toMatchObject({ ok: false, code: '28P01' });
    expect(await consistent(ws)).toBe(true);

    const evidence = JSON.parse(readFileSync(join(ws, run.outputs['evidence-path']), 'utf8'));
    expect(evidence).toMatchObject({ method: 'alternating-roles', status: 'rotated', old_credential: { tried: true, rejected: true } });
    expect(run.summary).toContain('| 7. Revoke the old credential and prove it is refused | ✅ ok |');
    const haystack = leakHaystack(
      withoutMasks(run.stdout),
      run.stderr,
      run.summary,
      Object.values(run.state),
      evidenceFiles(ws),
      JSON.stringify(github.requests),
      fx().server.log.slice(logStart),
    );
    for (const value of [before.password, after.password, DIST_TOKEN]) expect(haystack).not.toContain(value);
  });

  // Three GitHub targets and a file, one consumer, two health checks.
  it.each(pointsFor(4, 1, 2))('killed at %s: a plain rerun converges', async (point) => {
    const ws = newWorkspace(policy);
    const before = pair();
    const logStart = fx().server.log.length;
    const cell = { point, diedAt: '?', converged: false };
    cells.push(cell);
    const killed = await rotate(ws, before.password, killAt(point));
    cell.diedAt = killed.signal === 'SIGKILL' ? (lastGroup(killed.stdout) ?? '?') : `not killed (${killed.outputs.status})`;
    expect(killed.signal, killed.stdout + killed.stderr).toBe('SIGKILL');
    expect(lastGroup(killed.stdout)).toBe(STEPS[stepOfPoint(point)]);
    expect(await rotationSessionsGone(fx())).toBe(0);
    // Before the revoke the login in use was never touched.
    if (!point.startsWith('revoke.after') && !point.startsWith('evidence'))
      expect((await login(fx(), before.user, before.password)).ok).toBe(true);

    const current = secret('ODOO_DB_PASSWORD')!;
    const rerun = await rotate(ws, current);
    expect(rerun.outputs.status, rerun.stdout).toBe('rotated');
    expect(await consistent(ws)).toBe(true);
    const fresh = pair();
    for (const older of new Set([before.password, current])) {
      for (const user of ['odoo_app_a', 'odoo_app_b']) expect((await login(fx(), user, older)).ok).toBe(false);
    }
    const haystack = leakHaystack(
      withoutMasks(killed.stdout),
      killed.stderr,
      killed.summary,
      withoutMasks(rerun.stdout),
      rerun.stderr,
      rerun.summary,
      evidenceFiles(ws),
      JSON.stringify(github.requests),
      fx().server.log.slice(logStart),
    );
    for (const value of new Set([
      before.password,
      current,
      fresh.password,
      DIST_TOKEN,
      ...maskedValues(killed.stdout),
      ...maskedValues(rerun.stdout),
    ]))
      expect(haystack).not.toContain(value);
    cell.converged = true;
  });
});
