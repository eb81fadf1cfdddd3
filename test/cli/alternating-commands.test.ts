// plan, status, verify and the post step's inspection for an alternating-roles credential.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parsePolicy } from '../../src/registry/load-policy.js';
import { rotateCredential } from '../../src/engine/rotate.js';
import { verifyCredential } from '../../src/cli/verify.js';
import { planRotations } from '../../src/cli/plan.js';
import { statusRows } from '../../src/cli/status.js';
import { inspectCredential } from '../../src/post/inspect.js';
import { testRuntime } from '../helpers/runtime.js';
import { usePostgres } from '../helpers/postgres.js';
import { alternatingYaml, makeAlternating } from '../helpers/alternating.js';
import { rotationRequest } from '../helpers/request.js';

const fx = usePostgres();
const policyText = (group: string) =>
  alternatingYaml(
    group,
    'CURRENT',
    `    store:
      - file: { path: .secrets/app.env, key: DB_PASSWORD }
      - file: { path: .secrets/app.env, key: DB_USER, format: "{user}" }
      - file: { path: .secrets/app.env, key: DATABASE_URL, format: "postgresql://{user}:{password}@127.0.0.1:${fx().server.port}/odoo" }
`,
  );
const stored = (ws: string, key: string) => readFileSync(join(ws, '.secrets/app.env'), 'utf8').match(new RegExp(`^${key}=(.*)$`, 'm'))?.[1];

async function rotatedOnce(group: string) {
  const { a } = await makeAlternating(fx(), group);
  const runtime = testRuntime({ now: () => new Date() });
  const policyWith = (current?: string) =>
    parsePolicy(current ? policyText(group) : policyText(group).replace(/^ {4}current: .*\n/m, ''), 'rotation.yaml', {
      ROTATION_ADMIN_URL: fx().platform.adminUrl,
      CURRENT: current,
    });
  const result = await rotateCredential(policyWith(a.reveal()), rotationRequest(group), runtime);
  expect(result.status).toBe('rotated');
  return { runtime, policyWith, fresh: stored(runtime.workspace, 'DB_PASSWORD')!, old: a.reveal() };
}

describe('alternating-roles in plan, status, verify and the post step', () => {
  it('verify: the stored pair works from current or from a store, and every store agrees (user included)', async () => {
    const { runtime, policyWith, fresh } = await rotatedOnce('alt_verify');
    const fromCurrent = await verifyCredential(policyWith(fresh), 'alt_verify', runtime);
    expect(fromCurrent).toMatchObject({ ok: true, works: true, source: 'current' });
    expect(fromCurrent.stores.map((s) => s.outcome)).toEqual(['agrees', 'agrees', 'agrees']);
    const fromStore = await verifyCredential(policyWith(), 'alt_verify', runtime);
    expect(fromStore).toMatchObject({ ok: true, source: 'file .secrets/app.env DB_PASSWORD' });
    // The stored login name is not a secret (issue 16 §4): verify read it and did not mask it.
    expect(runtime.reporter.scrub('login alt_verify_b')).toBe('login alt_verify_b');

    // A user secret that names the other login is caught.
    const path = join(runtime.workspace, '.secrets/app.env');
    writeFileSync(path, readFileSync(path, 'utf8').replace('DB_USER=alt_verify_b', 'DB_USER=alt_verify_a'));
    const split = await verifyCredential(policyWith(fresh), 'alt_verify', runtime);
    expect(split.ok).toBe(false);
    expect(split.stores.map((s) => s.outcome)).toEqual(['agrees', 'differs', 'agrees']);
  });

  it('plan and status count the rotation like any other: not due, last rotated now', async () => {
    const { runtime, policyWith } = await rotatedOnce('alt_status');
    const now = new Date();
    const [plan] = planRotations(policyWith('x'), runtime.workspace, now);
    expect(plan).toMatchObject({ credential: 'alt_status', method: 'alternating-roles', due: false, stores: 3 });
    const [status] = statusRows(policyWith('x'), runtime.workspace, now);
    expect(status).toMatchObject({ credential: 'alt_status', overdue: false });
    expect(status.last_rotated).not.toBeNull();
  });

  it('the post step finds the live pair consistent, and flags a current value that logs in as neither login', async () => {
    const { runtime, policyWith, fresh, old } = await rotatedOnce('alt_post');
    const good = await inspectCredential(policyWith(fresh), 'alt_post', runtime);
    expect(good.consistent).toBe(true);
    expect(good.findings).toContain('the current value of alt_post logs in');
    expect(good.findings).toContain('file .secrets/app.env DB_PASSWORD: its value logs in');
    const stale = await inspectCredential(policyWith(old), 'alt_post', runtime);
    expect(stale.consistent).toBe(false);
    expect(stale.findings.join('\n')).toContain('the current value of alt_post does not log in (28P01)');
    expect(JSON.stringify([good, stale])).not.toContain(fresh);
  });
});
