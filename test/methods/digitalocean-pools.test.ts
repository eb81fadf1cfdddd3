import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { setupServer } from 'msw/node';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parsePolicy } from '../../src/registry/load-policy.js';
import { rotateCredential, type RotationResult } from '../../src/engine/rotate.js';
import { ALL_SCOPES, createDigitalOceanModel, type DigitalOceanModel, type PoolSpec } from '../models/digitalocean.js';
import { testRuntime, type TestRuntime } from '../helpers/runtime.js';
import { leakHaystack, login, makeRole, usePostgres } from '../helpers/postgres.js';
import { makeAlternating } from '../helpers/alternating.js';
import { CLUSTER, clusterOn, linkedPolicyHead, poolLogin } from '../helpers/digitalocean.js';
import { rotationRequest } from '../helpers/request.js';

/*
 * Issue 18 §1 on a real PostgreSQL 16, DigitalOcean modelled from its description: a postgres
 * system linked to its cluster (`cluster:`) gets the cluster's connection pools and managed users
 * read at preflight. A pool pinned to an alternating login is refused before anything changes; an
 * inbound-user pool is left alone and keeps working with the new value; alter-role of a user
 * DigitalOcean manages is warned about, naming the pools pinned to it.
 */

const fx = usePostgres();
const server = setupServer();
beforeAll(() => server.listen({ onUnhandledFrame: 'error' }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

const TOKEN = 'dop_v1_pools_token_0123456789abcdef0123456789abcdef';
const DOADMIN = 'AVNS_doadmin_copy_of_the_cluster_1';
const request = (credential: string, dryRun = false) => rotationRequest(credential, { dryRun });

function model(users: Record<string, string>, pools: PoolSpec[]): DigitalOceanModel {
  const m = createDigitalOceanModel({
    tokens: { [TOKEN]: ALL_SCOPES },
    clusters: [clusterOn(fx().server, { doadmin: DOADMIN, ...users }, { database: 'odoo', pools })],
  });
  server.use(...m.handlers);
  return m;
}

/** The platform's Postgres linked to its DigitalOcean cluster, and one credential on it. */
function policyText(id: string, method: string, extra = ''): string {
  return `${linkedPolicyHead()}  ${id}:
    system: odoo-sor
    method: ${method}
    cadence: quarterly
    current: \${CURRENT}
    store:
      - file: { path: .secrets/app.env, key: DB_PASSWORD }
      - file: { path: .secrets/app.env, key: DB_USER, format: "{user}" }
${extra}`;
}

async function rotate(
  id: string,
  method: string,
  current: string,
  options: { dryRun?: boolean } = {},
): Promise<RotationResult & { runtime: TestRuntime }> {
  const env = { ROTATION_ADMIN_URL: fx().platform.adminUrl, CURRENT: current, DIGITALOCEAN_TOKEN: TOKEN };
  const runtime = testRuntime({ now: () => new Date(), env });
  const result = await rotateCredential(
    parsePolicy(policyText(id, method), '.github/rotation.yaml', env),
    request(id, options.dryRun),
    runtime,
  );
  return { ...result, runtime };
}
const stored = (runtime: TestRuntime, key: string) => {
  const path = join(runtime.workspace, '.secrets/app.env');
  return existsSync(path) ? new RegExp(`^${key}=(.*)$`, 'm').exec(readFileSync(path, 'utf8'))?.[1] : undefined;
};

describe('DigitalOcean connection pools at preflight (alternating-roles)', () => {
  it('refuses a pool pinned to a login before anything changes, naming the pool and the fix; the pool keeps working; nothing leaks', async () => {
    const { a, b } = await makeAlternating(fx(), 'pin_grp');
    // The pool's user is one DigitalOcean knows (it holds its password), as a pinned pool needs.
    const m = model({ pin_grp_a: a.reveal() }, [{ name: 'odoo-pinned', mode: 'transaction', size: 10, db: 'odoo', user: 'pin_grp_a' }]);
    const logStart = fx().server.log.length;

    for (const dryRun of [true, false]) {
      const result = await rotate('pin_grp', 'alternating-roles', a.reveal(), { dryRun });
      expect(result.status).toBe('failed');
      expect(result.summary).toContain(
        `DigitalOcean cluster ${CLUSTER}: connection pool odoo-pinned (transaction, size 10, database odoo, user pin_grp_a): a pool pinned to one login cannot follow alternating-roles' switch to the other login`,
      );
      expect(result.summary).toContain('recreate it without a user (an inbound-user pool');
      expect(result.summary).toContain('Nothing was changed');
      expect(result.record.steps.map((s) => `${s.step}:${s.outcome}`)[0]).toBe('preflight:failed');
      expect(result.evidencePath).toBeUndefined();
      expect(stored(result.runtime, 'DB_PASSWORD')).toBeUndefined();

      const { runtime, ...outcome } = result;
      const haystack = leakHaystack(
        runtime.reporter.lines,
        JSON.stringify(outcome),
        JSON.stringify(m.requests),
        fx().server.log.slice(logStart),
      );
      for (const secret of [a.reveal(), b.reveal(), TOKEN, DOADMIN]) expect(haystack).not.toContain(secret);
    }
    // Nothing changed: both logins keep their passwords, the pool its user, and it still logs in.
    expect((await login(fx(), 'pin_grp_a', a)).ok).toBe(true);
    expect((await login(fx(), 'pin_grp_b', b)).ok).toBe(true);
    expect(m.count({ method: 'PUT' })).toBe(0);
    expect(m.cluster(CLUSTER)!.pools![0].user).toBe('pin_grp_a');
    expect(await poolLogin(m, CLUSTER, 'odoo-pinned', { user: 'pin_grp_a', password: a.reveal() })).toEqual({ ok: true });
    expect(fx().server.log.slice(logStart).join('\n')).not.toMatch(/ALTER ROLE \S+ PASSWORD/);
  });

  it('leaves an inbound-user pool alone: it says so, the switch happens, and the pool logs in with what the store holds', async () => {
    const { a } = await makeAlternating(fx(), 'in_grp');
    const inbound: PoolSpec = { name: 'odoo-inbound', mode: 'transaction', size: 10, db: 'odoo' };
    const m = model({}, [inbound, { name: 'reports', mode: 'session', size: 5, db: 'odoo', user: 'doadmin' }]);

    const result = await rotate('in_grp', 'alternating-roles', a.reveal());
    expect(result.status).toBe('rotated');
    expect(result.record.notes).toContain(
      'connection pool odoo-inbound (transaction, size 10, database odoo, inbound user): untouched; it connects each client as the user the client gives, so clients follow the rotation once they hold the new value',
    );
    // The pool pinned to doadmin does not use the credential: not a reason to refuse.
    expect(result.record.notes.join('\n')).not.toContain('reports');
    expect(m.count({ method: 'PUT' })).toBe(0);
    expect(m.cluster(CLUSTER)!.pools![0]).toEqual(inbound);
    expect(m.count({ method: 'GET', path: `/v2/databases/${CLUSTER}/pools` })).toBe(1);
    expect(m.count({ method: 'GET', path: `/v2/databases/${CLUSTER}/users` })).toBe(1);

    const [user, password] = [stored(result.runtime, 'DB_USER')!, stored(result.runtime, 'DB_PASSWORD')!];
    expect(user).toBe('in_grp_b');
    expect(await poolLogin(m, CLUSTER, 'odoo-inbound', { user, password })).toEqual({ ok: true });
    expect(await poolLogin(m, CLUSTER, 'odoo-inbound', { user: 'in_grp_a', password: a.reveal() })).toMatchObject({
      ok: false,
      code: '28P01',
    });
  });
});

describe('DigitalOcean copies at preflight (alter-role)', () => {
  it('warns when DigitalOcean manages the user, naming the pool pinned to it, and says what is known; the run goes on', async () => {
    const old = await makeRole(fx(), 'managed_app');
    model({ managed_app: old.reveal() }, [{ name: 'app-pool', mode: 'transaction', size: 10, db: 'odoo', user: 'managed_app' }]);

    const result = await rotate('managed_app', 'alter-role', old.reveal());
    expect(result.status).toBe('rotated');
    const pool =
      "connection pool app-pool (transaction, size 10, database odoo, user managed_app) connects as managed_app with DigitalOcean's copy of its password; DigitalOcean does not document that an ALTER ROLE updates that copy: if it does not, the pool's new server connections fail after this rotation";
    const managed = `DigitalOcean manages user managed_app on DigitalOcean cluster ${CLUSTER} and keeps its own copy of its password`;
    expect(result.record.notes).toContain(pool);
    expect(result.record.notes.join('\n')).toContain(managed);
    expect(result.record.notes.join('\n')).toContain(
      'rotate managed_app with method digitalocean-reset, or use alternating-roles with logins created in SQL',
    );
    const warnings = result.runtime.reporter.lines.filter((l) => l.startsWith('warning'));
    expect(warnings.join('\n')).toContain(pool);
    expect(warnings.join('\n')).toContain(managed);
    // The warnings and notes carry no password: neither the old, nor the new, nor DigitalOcean's copies.
    const { runtime, ...outcome } = result;
    const haystack = leakHaystack(runtime.reporter.lines, JSON.stringify(outcome));
    for (const secret of [old.reveal(), stored(runtime, 'DB_PASSWORD')!, TOKEN, DOADMIN]) expect(haystack).not.toContain(secret);
  });

  it('says nothing of DigitalOcean for a role it does not manage and no pool uses', async () => {
    const old = await makeRole(fx(), 'sql_only_app');
    model({}, []);
    const result = await rotate('sql_only_app', 'alter-role', old.reveal());
    expect(result.status).toBe('rotated');
    expect(result.record.notes.join('\n')).not.toMatch(/DigitalOcean|pool/);
    expect(result.runtime.reporter.lines.filter((l) => l.startsWith('warning'))).toEqual([]);
  });
});
