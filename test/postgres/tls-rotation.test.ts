import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { setupServer } from 'msw/node';
import { startLocalPostgres, type LocalPostgres } from '../../src/demo/local-postgres.js';
import { rotateCredential, type RotationResult } from '../../src/engine/rotate.js';
import { parsePolicy } from '../../src/registry/load-policy.js';
import { connectionConfig, tryLogin } from '../../src/postgres/connect.js';
import { scramVerifier } from '../../src/postgres/scram.js';
import { generatePassword } from '../../src/secret/generate.js';
import { Secret } from '../../src/secret/secret.js';
import { createDoadminLike, CLUSTER } from '../helpers/digitalocean.js';
import { leakHaystack } from '../helpers/postgres.js';
import { testRuntime, type TestRuntime } from '../helpers/runtime.js';
import { issueServerCert, makeCa, type TestCa } from '../helpers/tls.js';
import { createDigitalOceanModel, type DigitalOceanModel } from '../models/digitalocean.js';

/**
 * Rotations against a PostgreSQL 16 that, like a DigitalOcean cluster, serves a certificate from
 * its own CA and (pg_hba `hostnossl … reject`) accepts no unencrypted login: every run that
 * passes here connected over TLS.
 */
const msw = setupServer();
const TOKEN = 'dop_v1_tls_test_token_0123456789abcdef0123456789abcdef';
const READ_ONLY_APP_TOKEN = 'dop_v1_app_only_token_0123456789abcdef0123456789abcd';
const trigger = { event: 'workflow_dispatch', actor: 'ops' };
let server: LocalPostgres;
let clusterCa: TestCa;
let otherCa: TestCa;
let doadminPassword: Secret;
let doModel: DigitalOceanModel;

beforeAll(async () => {
  clusterCa = makeCa('platform-db project CA');
  otherCa = makeCa('some other CA');
  server = await startLocalPostgres({ tls: issueServerCert(clusterCa, ['localhost']), hba: ['hostnossl all all all reject'] });
  doadminPassword = generatePassword();
  await createDoadminLike(server, 'doadmin', doadminPassword);
  msw.listen({ onUnhandledFrame: 'error' });
}, 120_000);
afterAll(async () => {
  msw.close();
  await server?.stop();
});
afterEach(() => msw.resetHandlers());

/** A fresh role doadmin may rotate, as DigitalOcean's doadmin may (ADMIN OPTION). */
async function makeAppRole(role: string): Promise<Secret> {
  const password = generatePassword();
  const db = await server.client();
  try {
    await db.query(`CREATE ROLE ${role} LOGIN PASSWORD ${db.escapeLiteral(scramVerifier(password))}`);
    await db.query(`GRANT ${role} TO doadmin WITH ADMIN OPTION, INHERIT FALSE, SET FALSE`);
  } finally {
    await db.end();
  }
  return password;
}

/** DigitalOcean's connection string, as its console and API hand it out (host and port local). */
const doUrl = (host = '127.0.0.1', sslmode = 'require') =>
  `postgresql://doadmin:${doadminPassword.reveal()}@${host}:${server.port}/defaultdb?sslmode=${sslmode}`;

function useDigitalOcean(ca = clusterCa.cert): DigitalOceanModel {
  doModel = createDigitalOceanModel({
    tokens: { [TOKEN]: ['database:read', 'database:update', 'database:view_credentials'], [READ_ONLY_APP_TOKEN]: ['app:read'] },
    clusters: [
      {
        id: CLUSTER,
        name: 'platform-db',
        host: 'localhost',
        port: server.port,
        superuserUrl: `${server.superuserUrl}?sslmode=no-verify` /* node-postgres's own parser, in the model */,
        users: { doadmin: doadminPassword.reveal() },
        ca,
      },
    ],
  });
  msw.resetHandlers(...doModel.handlers);
  return doModel;
}

function alterRolePolicy(role: string, system: string, health = ''): string {
  return `version: 1
systems:
  odoo-sor:
    type: postgres
    admin_url: \${ROTATION_ADMIN_URL}
${system}credentials:
  ${role}:
    system: odoo-sor
    method: alter-role
    cadence: quarterly
    current: \${CURRENT}
    store:
      - file: { path: .secrets/app.env, key: DB_PASSWORD }
${health}`;
}
const DO_SYSTEM = (token = '${DIGITALOCEAN_TOKEN}') => `  odoo-do:
    type: digitalocean
    cluster_id: ${CLUSTER}
    token: "${token}"
`;

async function rotate(text: string, credential: string, env: Record<string, string>): Promise<RotationResult & { runtime: TestRuntime }> {
  const runtime = testRuntime({ now: () => new Date() });
  const policy = parsePolicy(text, '.github/rotation.yaml', env);
  const result = await rotateCredential(policy, { credential, reason: 'scheduled', dryRun: false, trigger }, { ...runtime, env });
  return { ...result, runtime };
}
const stored = (runtime: TestRuntime) => /^DB_PASSWORD=(.*)$/m.exec(readFileSync(join(runtime.workspace, '.secrets/app.env'), 'utf8'))![1];
const loginAs = (role: string, password: string | Secret) =>
  tryLogin(
    connectionConfig(new Secret(`postgresql://${role}@127.0.0.1:${server.port}/defaultdb?sslmode=require`), {
      user: role,
      password: typeof password === 'string' ? new Secret(password) : password,
    }),
  );

function expectNoLeak(result: RotationResult & { runtime: TestRuntime }, secrets: string[], logStart: number) {
  const evidence = result.evidencePath ? readFileSync(join(result.runtime.workspace, result.evidencePath), 'utf8') : '';
  const haystack = leakHaystack(
    result.runtime.reporter.lines,
    evidence,
    JSON.stringify(result),
    server.log.slice(logStart),
    doModel ? JSON.stringify(doModel.requests) : '',
  );
  for (const secret of secrets) expect(haystack).not.toContain(secret);
}

describe('alter-role over TLS', () => {
  it("rotates with DigitalOcean's connection string exactly as given (sslmode=require, the cluster's own CA)", async () => {
    const old = await makeAppRole('app_do_url');
    const logStart = server.log.length;
    const result = await rotate(
      alterRolePolicy(
        'app_do_url',
        '',
        `    health:\n      - postgres-login: { url: "postgresql://app_do_url:{password}@127.0.0.1:${server.port}/defaultdb?sslmode=require" }\n`,
      ),
      'app_do_url',
      { ROTATION_ADMIN_URL: doUrl(), CURRENT: old.reveal() },
    );
    expect(result.status, result.summary).toBe('rotated');
    const fresh = stored(result.runtime);
    expect((await loginAs('app_do_url', fresh)).ok).toBe(true);
    expect(await loginAs('app_do_url', old)).toMatchObject({ ok: false, code: '28P01' });
    expectNoLeak(result, [old.reveal(), fresh, doadminPassword.reveal()], logStart);
  });

  it('rotates with verify-full against the CA given as ca: (PEM from a variable), health checked the same way', async () => {
    const old = await makeAppRole('app_ca_key');
    const result = await rotate(
      alterRolePolicy(
        'app_ca_key',
        '    ca: ${DB_CA_CERT}\n',
        `    health:\n      - postgres-login: { url: "postgresql://app_ca_key:{password}@localhost:${server.port}/defaultdb?sslmode=verify-full" }\n`,
      ),
      'app_ca_key',
      { ROTATION_ADMIN_URL: doUrl('localhost', 'verify-full'), CURRENT: old.reveal(), DB_CA_CERT: clusterCa.cert },
    );
    expect(result.status, result.summary).toBe('rotated');
    expect((await loginAs('app_ca_key', stored(result.runtime))).ok).toBe(true);
  });

  it('verify-full with the wrong CA stops in preflight with what to do; nothing is changed, nothing leaks', async () => {
    const old = await makeAppRole('app_wrong_ca');
    const logStart = server.log.length;
    const result = await rotate(alterRolePolicy('app_wrong_ca', '    ca: ${DB_CA_CERT}\n'), 'app_wrong_ca', {
      ROTATION_ADMIN_URL: doUrl('localhost', 'verify-full'),
      CURRENT: old.reveal(),
      DB_CA_CERT: otherCa.cert,
    });
    expect(result.status).toBe('failed');
    expect(result.summary).toMatch(/not signed by a CA this connection trusts .*checked against systems\.odoo-sor\.ca/);
    expect(result.summary).toMatch(/sslmode=require to encrypt without verifying/);
    expect((await loginAs('app_wrong_ca', old)).ok).toBe(true);
    expectNoLeak(result, [old.reveal(), doadminPassword.reveal(), `doadmin:${doadminPassword.reveal()}`], logStart);
  });

  it("rotates with verify-full against the cluster's CA read from DigitalOcean's API (ca_from), once per run", async () => {
    useDigitalOcean();
    const old = await makeAppRole('app_ca_from');
    const result = await rotate(alterRolePolicy('app_ca_from', '    ca_from: odoo-do\n' + DO_SYSTEM()), 'app_ca_from', {
      ROTATION_ADMIN_URL: doUrl('localhost', 'verify-full'),
      CURRENT: old.reveal(),
      DIGITALOCEAN_TOKEN: TOKEN,
    });
    expect(result.status, result.summary).toBe('rotated');
    expect(doModel.count({ method: 'GET', path: `/v2/databases/${CLUSTER}/ca` })).toBe(1);
    expect((await loginAs('app_ca_from', stored(result.runtime))).ok).toBe(true);
    expectNoLeak(result, [old.reveal(), TOKEN], 0);
  });

  it('ca_from with a token that may not read the cluster: a clear error before anything changes', async () => {
    useDigitalOcean();
    const old = await makeAppRole('app_ca_scope');
    const result = await rotate(alterRolePolicy('app_ca_scope', '    ca_from: odoo-do\n' + DO_SYSTEM()), 'app_ca_scope', {
      ROTATION_ADMIN_URL: doUrl('localhost', 'verify-full'),
      CURRENT: old.reveal(),
      DIGITALOCEAN_TOKEN: READ_ONLY_APP_TOKEN,
    });
    expect(result.status).toBe('failed');
    expect(result.summary).toMatch(/read the CA certificate of cluster .*403.*database:read/);
    expect((await loginAs('app_ca_scope', old)).ok).toBe(true);
    expectNoLeak(result, [old.reveal(), READ_ONLY_APP_TOKEN], 0);
  });
});

describe('digitalocean-reset over TLS', () => {
  const policy = (sslmode: string) => `version: 1
systems:
${DO_SYSTEM()}${sslmode ? `    sslmode: ${sslmode}\n` : ''}credentials:
  doadmin:
    system: odoo-do
    method: digitalocean-reset
    cadence: annually
    current: \${DOADMIN_PASSWORD}
    store:
      - file: { path: .secrets/app.env, key: DB_PASSWORD }
`;

  it.each([
    ['the default (require, as the cluster reports ssl)', '', 0],
    ['verify-full against the CA read from the API', 'verify-full', 1],
  ])('logs in as the user to prove the reset: %s', async (_, sslmode, caReads) => {
    useDigitalOcean();
    const before = doadminPassword;
    const result = await rotate(policy(sslmode), 'doadmin', { DIGITALOCEAN_TOKEN: TOKEN, DOADMIN_PASSWORD: before.reveal() });
    expect(result.status, result.summary).toBe('rotated');
    doadminPassword = new Secret(stored(result.runtime));
    expect((await loginAs('doadmin', doadminPassword)).ok).toBe(true);
    expect(await loginAs('doadmin', before)).toMatchObject({ ok: false, code: '28P01' });
    expect(doModel.count({ method: 'GET', path: `/v2/databases/${CLUSTER}/ca` })).toBe(caReads);
    expectNoLeak(result, [before.reveal(), doadminPassword.reveal(), TOKEN], 0);
  });

  it('verify-full against a CA that did not sign the server: refused in preflight with what to do, no reset made', async () => {
    useDigitalOcean(otherCa.cert);
    const result = await rotate(policy('verify-full'), 'doadmin', {
      DIGITALOCEAN_TOKEN: TOKEN,
      DOADMIN_PASSWORD: doadminPassword.reveal(),
    });
    expect(result.status).toBe('failed');
    expect(result.summary).toMatch(
      /cannot test the current password of doadmin at localhost:\d+\/defaultdb\?sslmode=verify-full: the server's certificate is not signed by a CA this connection trusts .*checked against the CA of DigitalOcean cluster/,
    );
    expect(result.summary).not.toMatch(/trusted sources/);
    expect(doModel.count({ path: /reset_auth$/ })).toBe(0);
    expect((await loginAs('doadmin', doadminPassword)).ok).toBe(true);
    expectNoLeak(result, [doadminPassword.reveal(), TOKEN], 0);
  });
});
