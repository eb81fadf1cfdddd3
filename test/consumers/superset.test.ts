import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { setupServer } from 'msw/node';
import { supersetDatabase } from '../../src/consumers/superset-database.js';
import { startLocalPostgres, type LocalPostgres } from '../../src/demo/local-postgres.js';
import { provisionPlatform, type Platform } from '../../src/demo/platform.js';
import { describeError } from '../../src/errors/errors.js';
import { rotateCredential } from '../../src/engine/rotate.js';
import { parsePolicy } from '../../src/registry/load-policy.js';
import { connectionConfig, tryLogin } from '../../src/postgres/connect.js';
import { Secret } from '../../src/secret/secret.js';
import { scramVerifier } from '../../src/postgres/scram.js';
import { targetSpec, testContext, testRuntime, type TestRuntime } from '../helpers/runtime.js';
import { alterRoleYaml } from '../helpers/postgres.js';
import { createSupersetModel, type SupersetModel } from '../models/superset.js';

const ADMIN_PASSWORD = 'superset-admin-pw-7Hq2v9';
const BASE = 'https://superset.example.com';
const PATH = 'credentials.superset_ro.consumers[0].superset-database';
const server = setupServer();
let pg: LocalPostgres;
let platform: Platform;
let model: SupersetModel;

beforeAll(async () => {
  server.listen({ onUnhandledFrame: 'error' });
  pg = await startLocalPostgres();
  platform = await provisionPlatform(pg);
});
afterAll(async () => {
  server.close();
  await pg?.stop();
});
afterEach(() => server.resetHandlers());

const roUrl = (password: string) => `postgresql://superset_ro:${password}@127.0.0.1:${pg.port}/odoo`;
const template = () => `postgresql+psycopg2://superset_ro:{password}@127.0.0.1:${pg.port}/odoo`;

function newModel(): SupersetModel {
  model = createSupersetModel({
    baseUrl: BASE,
    users: { admin: ADMIN_PASSWORD },
    databases: [
      {
        id: 3,
        database_name: 'odoo',
        sqlalchemy_uri: `postgresql+psycopg2://superset_ro:${platform.passwords.superset_ro.reveal()}@127.0.0.1:${pg.port}/odoo`,
      },
    ],
  });
  server.use(...model.handlers);
  return model;
}

function consumerWith(runtime: TestRuntime, options: Record<string, unknown> = {}) {
  return supersetDatabase(
    targetSpec(
      'superset-database',
      { url: BASE, username: 'admin', password: ADMIN_PASSWORD, database_id: 3, uri: template(), database_name: 'odoo', ...options },
      PATH,
    ),
    testContext(runtime, { id: 'superset_ro', role: 'superset_ro' }),
  );
}

/** No secret in anything a person or a log could see. */
function expectNoSecrets(texts: string[], secrets: string[]) {
  const all = texts.join('\n');
  for (const s of secrets) expect(all).not.toContain(s);
  expect(all).not.toMatch(/superset_ro:[^@\s*]+@/); // no URI with a password
}

describe('superset-database consumer', () => {
  it('check logs in, finds the connection, reads the permission to write it and what it stores, takes a CSRF token, changing nothing', async () => {
    newModel();
    const before = model.storedUri(3);
    await consumerWith(testRuntime()).check();
    expect(model.requests.map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual([
      'POST /api/v1/security/login 200',
      'GET /api/v1/database/3 200',
      'GET /api/v1/database/_info 200',
      'GET /api/v1/database/3/connection 200',
      'GET /api/v1/security/csrf_token/ 200',
    ]);
    expect(model.storedUri(3)).toBe(before);
  });

  it('check refuses a user that may read but not write database connections, before any change', async () => {
    model = createSupersetModel({
      baseUrl: BASE,
      users: { viewer: ADMIN_PASSWORD },
      readOnlyUsers: ['viewer'],
      databases: [
        {
          id: 3,
          database_name: 'odoo',
          sqlalchemy_uri: `postgresql+psycopg2://superset_ro:${platform.passwords.superset_ro.reveal()}@127.0.0.1:${pg.port}/odoo`,
        },
      ],
    });
    server.use(...model.handlers);
    const error = await consumerWith(testRuntime(), { username: 'viewer' })
      .check()
      .catch((e: unknown) => e);
    expect(describeError(error)).toMatch(
      /Superset user 'viewer' may not edit database connections \(its Database permissions: can_read\)\. .*can write on Database/,
    );
    expect(model.requests.some((r) => r.method !== 'GET' && r.method !== 'POST')).toBe(false);
  });

  it('check tests the uri template with the current password the way the update will: a template Superset cannot connect with is refused', async () => {
    newModel();
    const runtime = testRuntime();
    const closedPort = pg.port === 1 ? 2 : 1;
    const current = platform.passwords.superset_ro;
    const bad = supersetDatabase(
      targetSpec(
        'superset-database',
        {
          url: BASE,
          username: 'admin',
          password: ADMIN_PASSWORD,
          database_id: 3,
          uri: `postgresql+psycopg2://superset_ro:{password}@127.0.0.1:${closedPort}/odoo`,
          database_name: 'odoo',
        },
        PATH,
      ),
      testContext(runtime, { id: 'superset_ro', role: 'superset_ro', current }),
    );
    const error = await bad.check().catch((e: unknown) => e);
    expect(describeError(error)).toMatch(
      /Superset cannot connect with credentials\.superset_ro\.consumers\[0\]\.superset-database\.uri and the current password .*Connection failed.*nothing was changed/,
    );
    // A refused password alone (drift, a half-done run) does not block the repair run.
    const drifted = supersetDatabase(
      targetSpec(
        'superset-database',
        { url: BASE, username: 'admin', password: ADMIN_PASSWORD, database_id: 3, uri: template(), database_name: 'odoo' },
        PATH,
      ),
      testContext(runtime, { id: 'superset_ro', role: 'superset_ro', current: new Secret('no-longer-the-password-x81') }),
    );
    await drifted.check();
    expect(runtime.reporter.lines.join('\n')).toMatch(/the current password is refused there/);
    expect(model.requests.some((r) => r.method === 'PUT')).toBe(false);
    expectNoSecrets([describeError(error), ...runtime.reporter.lines], [current.reveal(), ADMIN_PASSWORD, 'no-longer-the-password-x81']);
  });

  it('the proof reads back what Superset stored and has Superset test it; before 3.0 only the sent URI is tested, and the proof says so', async () => {
    newModel();
    const current = platform.passwords.superset_ro;
    const consumer = consumerWith(testRuntime());
    await consumer.refresh(current);
    expect(await consumer.prove(current)).toEqual({
      proof: 'read-back',
      detail: expect.stringContaining("Superset's connection test passed on its stored connection"),
    });
    expect(model.requests.filter((r) => r.path.endsWith('/connection')).map((r) => r.status)).toEqual([200]);
    model = createSupersetModel({
      baseUrl: BASE,
      users: { admin: ADMIN_PASSWORD },
      version: '2.1',
      databases: [{ id: 3, database_name: 'odoo', sqlalchemy_uri: model.storedUri(3)! }],
    });
    server.use(...model.handlers);
    const old = consumerWith(testRuntime());
    await old.refresh(current);
    expect(await old.prove(current)).toEqual({ proof: 'sent-value-only', detail: expect.stringMatching(/only the URI sent was tested/) });
  });

  it('a bad Superset login (401) and an unknown database (404) fail with what to fix', async () => {
    newModel();
    const runtime = testRuntime();
    const e401 = await consumerWith(runtime, { password: 'wrong-admin-password' })
      .check()
      .catch((e: unknown) => e);
    expect(describeError(e401)).toMatch(
      /log in as admin: HTTP 401 \(Not authorized\)\. Superset refused user 'admin': check username and password/,
    );
    const e404 = await consumerWith(runtime, { database_id: 99 })
      .check()
      .catch((e: unknown) => e);
    expect(describeError(e404)).toMatch(
      /read database 99: HTTP 404 \(Not found\)\. Superset has no database connection with id 99.*Database Connections/,
    );
    expectNoSecrets([describeError(e401), describeError(e404), ...runtime.reporter.lines], [ADMIN_PASSWORD, 'wrong-admin-password']);
  });

  it('a refused CSRF session fails the write and says why; a stripped cookie is caught before it', async () => {
    newModel();
    const value = new Secret('never-applied-Xk2.pd7sR_M4Zq81');
    const runtime = testRuntime();
    model.loseSessions = true;
    const refused = await consumerWith(runtime)
      .refresh(value)
      .catch((e: unknown) => e);
    expect(describeError(refused)).toMatch(
      /update the URI of database 3: HTTP 400 \(400 Bad Request: The CSRF session token is missing\.\)\. .*session cookie did not come back with the token/,
    );
    model.loseSessions = false;
    model.stripSetCookie = true;
    const stripped = await consumerWith(runtime)
      .refresh(value)
      .catch((e: unknown) => e);
    expect(describeError(stripped)).toMatch(
      /the CSRF token came without a session cookie\. a proxy in front of Superset may strip Set-Cookie/,
    );
    expect(model.requests.filter((r) => r.method === 'PUT').map((r) => r.status)).toEqual([400]);
    expect(model.storedUri(3)).toContain(platform.passwords.superset_ro.reveal());
    expectNoSecrets([describeError(refused), describeError(stripped), ...runtime.reporter.lines], [value.reveal(), ADMIN_PASSWORD]);
  });

  it('an update Superset cannot connect with is refused by Superset itself (422), which keeps the old URI; the reason never shows the URI', async () => {
    newModel();
    const runtime = testRuntime();
    const before = model.storedUri(3);
    const wrong = new Secret('not-the-role-password-Zq81.xk2');
    const error = await consumerWith(runtime)
      .refresh(wrong)
      .catch((e: unknown) => e);
    expect(describeError(error)).toMatch(
      /update the URI of database 3: HTTP 422 \(Connection failed, please check your connection settings\)\. Superset refused the new URI and kept the one it had/,
    );
    expect(model.storedUri(3)).toBe(before);
    expectNoSecrets(
      [describeError(error), JSON.stringify(error), ...runtime.reporter.lines, JSON.stringify(model.requests)],
      [wrong.reveal(), ADMIN_PASSWORD],
    );
  });

  it("a failed test of the stored connection (400 in current Superset, 422 in older) gives Superset's reason, never the URI", async () => {
    for (const status of [400, 422] as const) {
      model = createSupersetModel({
        baseUrl: BASE,
        users: { admin: ADMIN_PASSWORD },
        testFailureStatus: status,
        databases: [
          {
            id: 3,
            database_name: 'odoo',
            sqlalchemy_uri: `postgresql+psycopg2://superset_ro:${platform.passwords.superset_ro.reveal()}@127.0.0.1:${pg.port}/odoo`,
          },
        ],
      });
      server.use(...model.handlers);
      const runtime = testRuntime();
      const consumer = consumerWith(runtime);
      const stale = new Secret('accepted-then-changed-Zq81.xk2');
      // The role's password changes between the update and the proof (someone else rotated it).
      const db = await pg.client();
      await db.query(`ALTER ROLE superset_ro PASSWORD ${db.escapeLiteral(scramVerifier(stale))}`);
      await consumer.refresh(stale);
      await db.query(`ALTER ROLE superset_ro PASSWORD ${db.escapeLiteral(scramVerifier(platform.passwords.superset_ro))}`);
      await db.end();
      const error = await consumer.prove(stale).catch((e: unknown) => e);
      expect(describeError(error)).toMatch(
        new RegExp(
          `Superset's connection test of 'odoo' failed \\(HTTP ${status}\\): The password provided for username "superset_ro" is incorrect\\.\\. Superset now holds the new URI but cannot connect`,
        ),
      );
      expect(model.connectionTests).toEqual([{ database_name: 'odoo', ok: false }]);
      expectNoSecrets(
        [describeError(error), JSON.stringify(error), ...runtime.reporter.lines, JSON.stringify(model.requests)],
        [stale.reveal(), ADMIN_PASSWORD],
      );
    }
  });
});

describe('rotating superset_ro end to end with the Superset datasource', () => {
  const policyText = (port: number) =>
    alterRoleYaml(
      'superset_ro',
      'SUPERSET_RO_PASSWORD',
      `    store:
      - file: { path: .secrets/superset.env, key: SUPERSET_RO_PASSWORD }
    consumers:
      - superset-database:
          url: ${BASE}
          username: admin
          password: \${SUPERSET_ADMIN_PASSWORD}
          database_id: 3
          uri: postgresql+psycopg2://superset_ro:{password}@127.0.0.1:${port}/odoo
          database_name: odoo
    health:
      - http: { url: ${BASE}/health, expect_body: OK }
`,
    );

  async function rotate(env: Record<string, string>, uriPort = pg.port) {
    const runtime = testRuntime();
    const policy = parsePolicy(policyText(uriPort), '.github/rotation.yaml', env);
    const result = await rotateCredential(
      policy,
      { credential: 'superset_ro', reason: 'manual', dryRun: false, trigger: { event: 'workflow_dispatch', actor: 'vitest' } },
      runtime,
    );
    const file = join(runtime.workspace, '.secrets/superset.env');
    const stored = existsSync(file) ? /SUPERSET_RO_PASSWORD=(.*)/.exec(readFileSync(file, 'utf8'))?.[1] : undefined;
    return { runtime, result, stored };
  }

  function outputs(runtime: TestRuntime, result: unknown): string[] {
    const dir = join(runtime.workspace, 'docs/evidence');
    const files = !existsSync(dir)
      ? []
      : readdirSync(dir, { recursive: true, withFileTypes: true })
          .filter((f) => f.isFile())
          .map((f) => readFileSync(join(f.parentPath, f.name), 'utf8'));
    return [...runtime.reporter.lines, JSON.stringify(result), JSON.stringify(model.requests), ...files];
  }

  it('stores the new password, updates the Superset URI, passes its connection test and refuses the old one', async () => {
    newModel();
    const old = platform.passwords.superset_ro.reveal();
    const { runtime, result, stored } = await rotate({
      ROTATION_ADMIN_URL: platform.adminUrl,
      SUPERSET_RO_PASSWORD: old,
      SUPERSET_ADMIN_PASSWORD: ADMIN_PASSWORD,
    });
    expect(result.summary).toContain('rotated');
    expect(result.status).toBe('rotated');
    expect(stored).toBeDefined();
    expect(stored).not.toBe(old);
    // Superset holds exactly the stored value, and its own connection test passed with it.
    expect(new URL(model.storedUri(3)!).password).toBe(stored);
    // The preflight's test of the template with the current password, then the test of what it stored.
    expect(model.connectionTests).toEqual([
      { database_name: 'odoo', ok: true },
      { database_name: 'odoo', ok: true },
    ]);
    expect(result.record.consumers).toEqual([
      expect.objectContaining({ target: `superset-database ${BASE} #3`, outcome: 'ok', holds: 'new', proof: 'read-back' }),
    ]);
    expect((result.record.consumers[0] as { detail?: string }).detail).toContain("Superset's connection test passed");
    expect(await tryLogin(connectionConfig(new Secret(roUrl(stored!))))).toEqual({ ok: true });
    expect(await tryLogin(connectionConfig(new Secret(roUrl(old))))).toMatchObject({ ok: false, rejected: true });
    expectNoSecrets(outputs(runtime, result), [stored!, old, ADMIN_PASSWORD, platform.adminUrl]);
    platform.passwords.superset_ro = new Secret(stored!);
  });

  it('a bad Superset admin password fails the run at preflight, before anything changes', async () => {
    newModel();
    const current = platform.passwords.superset_ro.reveal();
    const { runtime, result } = await rotate({
      ROTATION_ADMIN_URL: platform.adminUrl,
      SUPERSET_RO_PASSWORD: current,
      SUPERSET_ADMIN_PASSWORD: 'not-the-admin-password',
    });
    expect(result.status).toBe('failed');
    expect(result.summary).toMatch(/HTTP 401 \(Not authorized\).*Superset refused user 'admin'/);
    expect(result.record.steps.find((s) => s.step === 'preflight')?.outcome).toBe('failed');
    expect(await tryLogin(connectionConfig(new Secret(roUrl(current))))).toEqual({ ok: true });
    expect(model.requests.some((r) => r.method === 'PUT')).toBe(false);
    expectNoSecrets(outputs(runtime, result), [current, 'not-the-admin-password', platform.adminUrl]);
  });

  it('a uri template Superset cannot connect with fails the run at preflight, before anything changes', async () => {
    newModel();
    const current = platform.passwords.superset_ro.reveal();
    const closedPort = pg.port === 1 ? 2 : 1; // nothing listens there: Superset cannot connect
    const { runtime, result, stored } = await rotate(
      { ROTATION_ADMIN_URL: platform.adminUrl, SUPERSET_RO_PASSWORD: current, SUPERSET_ADMIN_PASSWORD: ADMIN_PASSWORD },
      closedPort,
    );
    expect(result.status).toBe('failed');
    expect(result.summary).toMatch(
      /Superset cannot connect with credentials\.superset_ro\.consumers\[0\]\.superset-database\.uri and the current password .*Connection failed, please check your connection settings.*nothing was changed/,
    );
    expect(result.record.steps.find((s) => s.step === 'preflight')?.outcome).toBe('failed');
    expect(stored).toBeUndefined();
    expect(model.requests.some((r) => r.method === 'PUT')).toBe(false);
    expect(await tryLogin(connectionConfig(new Secret(roUrl(current))))).toEqual({ ok: true });
    expectNoSecrets(outputs(runtime, result), [current, ADMIN_PASSWORD, platform.adminUrl]);
  });
});
