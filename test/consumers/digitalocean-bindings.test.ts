import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { setupServer } from 'msw/node';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parsePolicy } from '../../src/registry/load-policy.js';
import { rotateCredential, type RotationResult } from '../../src/engine/rotate.js';
import { ALL_SCOPES, createDigitalOceanModel, type AppSpec, type DigitalOceanModel, type PoolSpec } from '../models/digitalocean.js';
import { testRuntime, type TestRuntime } from '../helpers/runtime.js';
import { leakHaystack, login, makeRole, usePostgres } from '../helpers/postgres.js';
import { makeAlternating, urlLogsIn } from '../helpers/alternating.js';
import { APP, CLUSTER, clusterOn, doSystemYaml } from '../helpers/digitalocean.js';
import { rotationRequest } from '../helpers/request.js';

/*
 * Issue 18 §2 end to end on a real PostgreSQL 16, DigitalOcean modelled from its description: an
 * App Platform app that binds the cluster (`${db.DATABASE_URL}`, a pool's `${db.<pool>.PASSWORD}`)
 * gets DigitalOcean's copy of the password when it is deployed. The digitalocean-app consumer finds
 * those bindings at preflight: after digitalocean-reset a deployment binds the provider's new value
 * (proven by logging in with what the deployment got); a restart, or a method that changes the
 * password with ALTER ROLE, is refused before anything changes.
 */

const fx = usePostgres();
const server = setupServer();
beforeAll(() => server.listen({ onUnhandledFrame: 'error' }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

const TOKEN = 'dop_v1_bindings_token_0123456789abcdef0123456789abcdef';
const DOADMIN = 'AVNS_doadmin_copy_for_bindings_01';

/** An app whose web service binds `user` through the database component `db`, directly and through a pool pinned to it. */
function bindingApp(user: string): Partial<AppSpec> {
  return {
    databases: [{ name: 'db', cluster_name: 'platform-db', db_name: 'odoo', db_user: user, engine: 'PG', production: true }],
    envs: {
      web: [
        { key: 'DATABASE_URL', value: '${db.DATABASE_URL}', type: 'SECRET', scope: 'RUN_TIME' },
        { key: 'POOL_PASSWORD', value: '${db.app-pool.PASSWORD}', type: 'SECRET', scope: 'RUN_TIME' },
        { key: 'DB_HOST', value: '${db.HOSTNAME}' },
        { key: 'JDBC_URL', value: 'x=${db.JDBC_DATABASE_URL}', type: 'SECRET' },
      ],
    },
  };
}

function model(users: Record<string, string>, app: Partial<AppSpec>, pools: PoolSpec[] = []): DigitalOceanModel {
  const m = createDigitalOceanModel({
    tokens: { [TOKEN]: ALL_SCOPES },
    clusters: [clusterOn(fx().server, { doadmin: DOADMIN, ...users }, { database: 'odoo', pools })],
    apps: [{ id: APP, name: 'odoo', ...app }],
  });
  server.use(...m.handlers);
  return m;
}

function policyText(id: string, method: string, consumer: string): string {
  const pgSystem =
    method === 'digitalocean-reset' ? '' : `  odoo-sor:\n    type: postgres\n    admin_url: \${ROTATION_ADMIN_URL}\n    cluster: do-pg\n`;
  return `version: 1
systems:
${pgSystem}${doSystemYaml({ database: 'odoo' })}credentials:
  ${id}:
    system: ${method === 'digitalocean-reset' ? 'do-pg' : 'odoo-sor'}
    method: ${method}
    cadence: quarterly
    current: \${CURRENT}
    store:
      - file: { path: .secrets/app.env, key: DB_PASSWORD }
    consumers:
      - digitalocean-app: { app_id: ${APP}, poll_seconds: 1${consumer} }
`;
}

async function rotate(id: string, method: string, current: string, consumer = ''): Promise<RotationResult & { runtime: TestRuntime }> {
  const env = { ROTATION_ADMIN_URL: fx().platform.adminUrl, CURRENT: current, DIGITALOCEAN_TOKEN: TOKEN };
  const runtime = testRuntime({ now: () => new Date(), env });
  const result = await rotateCredential(
    parsePolicy(policyText(id, method, consumer), '.github/rotation.yaml', env),
    rotationRequest(id),
    runtime,
  );
  return { ...result, runtime };
}
const stored = (runtime: TestRuntime) => {
  const path = join(runtime.workspace, '.secrets/app.env');
  return existsSync(path) ? /^DB_PASSWORD=(.*)$/m.exec(readFileSync(path, 'utf8'))?.[1] : undefined;
};
/** Every sink of a run that failed: reporter, result, the model's log, the server's log. */
function expectNoLeak(result: RotationResult & { runtime: TestRuntime }, m: DigitalOceanModel, logFrom: number, secrets: string[]) {
  const { runtime, ...outcome } = result;
  const haystack = leakHaystack(
    runtime.reporter.lines,
    JSON.stringify(outcome),
    JSON.stringify(m.requests),
    fx().server.log.slice(logFrom),
  );
  for (const secret of [...secrets, TOKEN, DOADMIN]) expect(haystack).not.toContain(secret);
}

describe('App Platform bindings of the rotated user (digitalocean-app consumer)', () => {
  it("digitalocean-reset with mode deploy: the deployment binds the provider's new value, which logs in; the proof reads DigitalOcean's copy back", async () => {
    const old = await makeRole(fx(), 'bound_reset');
    const m = model({ bound_reset: old.reveal() }, bindingApp('bound_reset'), [
      { name: 'app-pool', mode: 'transaction', size: 5, db: 'odoo', user: 'bound_reset' },
    ]);

    const result = await rotate('bound_reset', 'digitalocean-reset', old.reveal(), ', mode: deploy');
    expect(result.status).toBe('rotated');
    const fresh = stored(result.runtime)!;
    expect(fresh).toBe(m.cluster(CLUSTER)!.users.bound_reset);

    const [deployment] = [...m.deployments.values()];
    const web = deployment.env.web;
    expect(web.POOL_PASSWORD).toBe(fresh);
    expect(web.JDBC_URL).toBe(`x=jdbc:${web.DATABASE_URL}`);
    expect(web.DATABASE_URL).toContain(`bound_reset:${encodeURIComponent(fresh)}@`);
    expect(await urlLogsIn(web.DATABASE_URL)).toBe(true);
    expect((await login(fx(), 'bound_reset', old)).ok).toBe(false);

    const consumer = result.record.consumers[0];
    expect(consumer.detail).toContain(
      "it bound DigitalOcean's copy, set by the reset: services[web] DATABASE_URL = ${db.DATABASE_URL} (bound_reset), services[web] POOL_PASSWORD = ${db.app-pool.PASSWORD} (bound_reset), services[web] JDBC_URL = ${db.JDBC_DATABASE_URL} (bound_reset)",
    );
    expect(consumer).toMatchObject({ outcome: 'ok', proof: 'read-back' });
    expect(consumer.proof_detail).toContain("DigitalOcean's copy it binds (bound_reset) is the new value");
    // §1 at the reset's preflight: the pool pinned to the user follows DigitalOcean's copy, which the reset sets.
    expect(result.record.notes).toContain(
      "connection pool app-pool (transaction, size 5, database odoo, user bound_reset): connects as bound_reset with DigitalOcean's copy of its password, which the reset sets; its clients present that password too (the pool's connection string carries it), so they need the new value",
    );
    // The host binding carries no credential: not listed.
    expect(consumer.detail).not.toContain('DB_HOST');
  });

  it('digitalocean-reset with mode restart is refused before the reset: a restart is not documented to bind again', async () => {
    const old = await makeRole(fx(), 'bound_restart');
    const m = model({ bound_restart: old.reveal() }, bindingApp('bound_restart'));
    const logFrom = fx().server.log.length;

    const result = await rotate('bound_restart', 'digitalocean-reset', old.reveal());
    expect(result.status).toBe('failed');
    expect(result.summary).toContain(
      `app odoo (${APP}) binds DigitalOcean's copy of a password the rotation changes: services[web] DATABASE_URL = \${db.DATABASE_URL} (bound_restart)`,
    );
    expect(result.summary).toContain(
      'App Platform binds them when it deploys; DigitalOcean does not document that a restart binds them again',
    );
    expect(result.summary).toContain('mode: deploy');
    expect(result.record.steps[0]).toMatchObject({ step: 'preflight', outcome: 'failed' });
    expect(m.count({ method: 'POST' })).toBe(0);
    expect((await login(fx(), 'bound_restart', old)).ok).toBe(true);
    expect(stored(result.runtime)).toBeUndefined();
    expectNoLeak(result, m, logFrom, [old.reveal()]);
  });

  it("alter-role of a bound user is refused before the ALTER ROLE: the deploy would bind DigitalOcean's copy, not the new password", async () => {
    const old = await makeRole(fx(), 'bound_alter');
    const m = model({ bound_alter: old.reveal() }, bindingApp('bound_alter'));
    const logFrom = fx().server.log.length;

    const result = await rotate('bound_alter', 'alter-role', old.reveal(), ', mode: deploy');
    expect(result.status).toBe('failed');
    expect(result.summary).toContain(
      "App Platform injects DigitalOcean's copy when it deploys; alter-role changes the password with ALTER ROLE, which DigitalOcean does not document to update that copy",
    );
    expect(result.summary).toContain('give the app the stored value instead');
    expect(fx().server.log.slice(logFrom).join('\n')).not.toMatch(/ALTER ROLE \S+ PASSWORD/);
    expect((await login(fx(), 'bound_alter', old)).ok).toBe(true);
    expect(m.deployments.size).toBe(0);
    expectNoLeak(result, m, logFrom, [old.reveal()]);
  });

  it('alternating-roles: a binding of one login is refused; an app bound to another user is not', async () => {
    const { a, b } = await makeAlternating(fx(), 'bound_grp');
    const m = model({}, bindingApp('bound_grp_a'));
    const logFrom = fx().server.log.length;
    const refused = await rotate('bound_grp', 'alternating-roles', a.reveal(), ', mode: deploy');
    expect(refused.status).toBe('failed');
    expect(refused.summary).toContain('services[web] DATABASE_URL = ${db.DATABASE_URL} (bound_grp_a)');
    expect((await login(fx(), 'bound_grp_b', b)).ok).toBe(true);
    expectNoLeak(refused, m, logFrom, [a.reveal(), b.reveal()]);

    server.resetHandlers();
    model({}, bindingApp('doadmin'));
    const other = await rotate('bound_grp', 'alternating-roles', a.reveal(), ', mode: deploy');
    expect(other.status).toBe('rotated');
  });
});
