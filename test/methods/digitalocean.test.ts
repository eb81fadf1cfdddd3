import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { setupServer } from 'msw/node';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import type { LocalPostgres } from '../../src/demo/local-postgres.js';
import { rotateCredential, type RotationResult } from '../../src/engine/rotate.js';
import { parsePolicy } from '../../src/registry/load-policy.js';
import { tryLogin } from '../../src/postgres/connect.js';
import type { Secret } from '../../src/secret/secret.js';
import type { EvidenceRecord } from '../../src/evidence/record.js';
import { ALL_SCOPES, createDigitalOceanModel, type AppSpec, type DigitalOceanModel } from '../models/digitalocean.js';
import { createGitHubModel, type GitHubModel } from '../models/github.js';
import { GITHUB_TEST_TOKEN, testRuntime, type TestRuntime } from '../helpers/runtime.js';
import { APP, CLUSTER, clusterOn, doadminPolicy, resetPassword, startDoadminPostgres } from '../helpers/digitalocean.js';
import { takeRotationLock } from '../../src/postgres/lock.js';

const server = setupServer();
const TOKEN = 'dop_v1_platform_token_0123456789abcdef0123456789abcdef';
const ROLE = 'doadmin_like';
const DOADMIN_PASSWORD = 'AVNS_doadmin_cluster_password_x1';
const trigger = { event: 'workflow_dispatch', actor: 'ops' };

let pgServer: LocalPostgres;
let initial: Secret;
let doModel: DigitalOceanModel;
let ghModel: GitHubModel;

beforeAll(async () => {
  pgServer = await startDoadminPostgres(ROLE);
  server.listen({ onUnhandledFrame: 'error' });
});
afterAll(async () => {
  server.close();
  await pgServer?.stop();
});

/** A fresh password on the role, and fresh DigitalOcean and GitHub models. */
async function setup(app: Partial<AppSpec> = {}, scopes = ALL_SCOPES) {
  initial = await resetPassword(pgServer, ROLE);
  doModel = createDigitalOceanModel({
    tokens: { [TOKEN]: scopes },
    clusters: [clusterOn(pgServer, { doadmin: DOADMIN_PASSWORD, [ROLE]: initial.reveal() })],
    apps: [{ id: APP, name: 'odoo', ...app }],
  });
  ghModel = createGitHubModel({ token: GITHUB_TEST_TOKEN, repos: [{ full_name: 'acme/ops' }] });
  server.resetHandlers(...doModel.handlers, ...ghModel.handlers);
}
beforeEach(() => setup());
afterEach(() => server.resetHandlers());

const POLICY = doadminPolicy(ROLE, {
  extra: `    consumers:
      - digitalocean-app: { app_id: ${APP}, token: "\${DIGITALOCEAN_TOKEN}", poll_seconds: 5 }
    health:
      - no-stale-sessions: { grace_seconds: 10 }
`,
});

async function rotate(
  current: Secret | undefined,
  runtime: TestRuntime = testRuntime(),
  token = TOKEN,
): Promise<RotationResult & { runtime: TestRuntime }> {
  const env = { DIGITALOCEAN_TOKEN: token, DOADMIN_PASSWORD: current?.reveal() ?? '' };
  const policy = parsePolicy(POLICY, '.github/rotation.yaml', env);
  const result = await rotateCredential(
    policy,
    { credential: 'doadmin', reason: 'scheduled', dryRun: false, trigger },
    { ...runtime, env },
  );
  return { ...result, runtime };
}

const login = (password: string) =>
  tryLogin({ host: '127.0.0.1', port: pgServer.port, database: 'defaultdb', user: ROLE, password, ssl: false });
const fileValue = (runtime: TestRuntime) => {
  const path = join(runtime.workspace, '.secrets/do.env');
  return existsSync(path) ? /^DOADMIN_PASSWORD=(.*)$/m.exec(readFileSync(path, 'utf8'))?.[1] : undefined;
};
const githubValue = () => ghModel.secretValue({ repository: 'acme/ops', name: 'DOADMIN_PASSWORD' });
const evidence = (result: RotationResult & { runtime: TestRuntime }) =>
  JSON.parse(readFileSync(join(result.runtime.workspace, result.evidencePath!), 'utf8')) as EvidenceRecord;

/** Every place a person or a log could see: none may hold a password or the token. */
function expectNoLeak(result: RotationResult & { runtime: TestRuntime }, secrets: string[]) {
  const dir = join(result.runtime.workspace, 'docs/evidence');
  const files = existsSync(dir)
    ? readdirSync(dir, { recursive: true, withFileTypes: true })
        .filter((e) => e.isFile())
        .map((e) => readFileSync(join(e.parentPath, e.name), 'utf8'))
    : [];
  const surfaces = [
    ...result.runtime.reporter.lines,
    ...files,
    JSON.stringify(result),
    JSON.stringify(doModel.requests),
    JSON.stringify(ghModel.requests),
    pgServer.log.join('\n'),
  ].join('\n');
  expect(files.length).toBeGreaterThan(0);
  for (const secret of [...secrets, TOKEN, DOADMIN_PASSWORD]) expect(surfaces).not.toContain(secret);
}

describe('digitalocean-reset', () => {
  it('rotates a doadmin-like user end to end: reset, stored, app restarted, no stale session, old refused', async () => {
    doModel.failNext({ method: 'GET', path: `/v2/databases/${CLUSTER}` }, { status: 429 });
    doModel.failNext({ method: 'POST', path: /reset_auth$/ }, { status: 503 });
    const result = await rotate(initial);
    expect(result.summary).toMatch(/^rotated/);
    expect(result.status).toBe('rotated');

    const stored = fileValue(result.runtime)!;
    expect(stored).not.toBe(initial.reveal());
    expect(githubValue()).toBe(stored);
    expect(await login(stored)).toEqual({ ok: true });
    expect(await login(initial.reveal())).toMatchObject({ ok: false, rejected: true, code: '28P01' });
    // One reset took effect; the 503 was retried, the 429 waited out its Retry-After.
    expect(doModel.count({ method: 'POST', path: /reset_auth$/ })).toBe(2);
    expect(result.runtime.sleeps).toContain(2000);
    // Reads went through runtime.fetch, and msw saw them.
    expect(doModel.count({ method: 'GET', path: `/v2/databases/${CLUSTER}/users/${ROLE}` })).toBe(1);

    const record = evidence(result);
    expect(record.old_credential).toEqual({ tried: true, rejected: true, detail: 'old password refused with SQLSTATE 28P01' });
    expect(record.stores.map((s) => [s.target, s.outcome])).toEqual([
      ['file .secrets/do.env DOADMIN_PASSWORD', 'ok'],
      ['github acme/ops DOADMIN_PASSWORD', 'ok'],
    ]);
    expect(record.consumers[0]).toMatchObject({ outcome: 'ok', detail: expect.stringMatching(/app odoo .* is ACTIVE after a restart/) });
    expect(record.health[0]).toMatchObject({ target: `no-stale-sessions of role ${ROLE}`, outcome: 'ok' });
    expect(record.steps.find((s) => s.step === 'generate')?.detail).toMatch(/new value issued by digitalocean-reset/);
    expectNoLeak(result, [initial.reveal(), stored]);
  });

  it('a container still on the old password fails the no-stale-sessions check, with the new value stored and working', async () => {
    const stale = new pg.Client({
      host: '127.0.0.1',
      port: pgServer.port,
      database: 'defaultdb',
      user: ROLE,
      password: initial.reveal(),
      application_name: 'odoo-web',
    });
    await stale.connect();
    try {
      const result = await rotate(initial);
      expect(result.status).toBe('failed');
      expect(result.summary).toMatch(
        new RegExp(
          `no-stale-sessions of role ${ROLE}: 1 session\\(s\\) of ${ROLE} opened before the rotation remain: pid \\d+ application 'odoo-web'`,
        ),
      );
      expect(result.summary).toMatch(/restart it/);
      expect(await login(fileValue(result.runtime)!)).toEqual({ ok: true });
      expect(evidence(result).health[0].outcome).toBe('failed');
    } finally {
      await stale.end();
    }
  });

  it('a store write that fails after the reset fails the run; a rerun with the stale value converges', async () => {
    let broken = true;
    ghModel.failNext((req) => broken && req.method === 'PUT', { status: 502 }, 1000);
    const first = await rotate(initial);
    expect(first.status).toBe('failed');
    expect(first.summary).toMatch(/^writing github acme\/ops DOADMIN_PASSWORD failed: .*HTTP 502/);
    // Transient failures were retried before giving up.
    expect(ghModel.count({ method: 'PUT' })).toBeGreaterThan(4);
    const record = evidence(first);
    expect(record.notes).toContain('the provider had already changed the credential; stores that took the new value keep it');
    expect(record.stores.map((s) => s.outcome)).toEqual(['ok', 'failed']);
    // Not a lockout: the file holds the live value; GitHub holds nothing new, and the old value is dead.
    const afterFirst = fileValue(first.runtime)!;
    expect(await login(afterFirst)).toEqual({ ok: true });
    expect(await login(initial.reveal())).toMatchObject({ rejected: true });
    expect(githubValue()).toBeUndefined();

    // The rerun gets what GitHub's secret holds: the old, no longer working, value.
    broken = false;
    const second = await rotate(initial);
    expect(second.status).toBe('rotated');
    expect(evidence(second).notes).toContain(
      'the current value no longer logs in (drift or a half-done earlier run): rotating on the admin authority',
    );
    const final = githubValue()!;
    expect(fileValue(second.runtime)).toBe(final);
    expect(await login(final)).toEqual({ ok: true });
    expect(await login(afterFirst)).toMatchObject({ rejected: true });
    expect(doModel.count({ method: 'POST', path: /reset_auth$/ })).toBe(2);
    expectNoLeak(second, [initial.reveal(), afterFirst, final]);
  });

  it('on exposure, sessions opened with the old password are terminated', async () => {
    const stale = new pg.Client({ host: '127.0.0.1', port: pgServer.port, database: 'defaultdb', user: ROLE, password: initial.reveal() });
    stale.on('error', () => undefined);
    await stale.connect();
    const env = { DIGITALOCEAN_TOKEN: TOKEN, DOADMIN_PASSWORD: initial.reveal() };
    const policy = parsePolicy(POLICY.replace(/\n {4}health:\n.*\n/, '\n'), 'rotation.yaml', env);
    const result = await rotateCredential(
      policy,
      { credential: 'doadmin', reason: 'exposure', dryRun: false, trigger },
      { ...testRuntime(), env },
    );
    expect(result.status).toBe('rotated');
    expect(result.record.old_credential.detail).toBe(
      'old password refused with SQLSTATE 28P01; 1 session(s) opened before the reset terminated',
    );
    await expect(stale.query('SELECT 1')).rejects.toThrow();
    // The evidence names what was cut off (the same helper as alter-role's), not an empty list.
    const pid = (stale as unknown as { processID: number }).processID;
    expect(result.record.incident).toEqual({
      exposure: true,
      cut_off: [expect.stringMatching(new RegExp(`^${ROLE} session pid ${pid} \\(application '', client 127\\.0\\.0\\.1, opened \\d{4}-`))],
    });
    await stale.end().catch(() => undefined);
  });

  it('a second rotation while one holds the cluster lock, in another database, exits at once and resets nothing', async () => {
    // The lock is the cluster's: a run whose session is in the postgres database holds it against
    // this one, whose session is in defaultdb (advisory locks would not see each other).
    const holder = await takeRotationLock(
      { host: '127.0.0.1', port: pgServer.port, database: 'postgres', user: ROLE, password: initial.reveal() },
      ROLE,
      'the other run',
    );
    try {
      const result = await rotate(initial);
      expect(result.status).toBe('failed');
      expect(result.summary).toBe(
        `another rotation of role ${ROLE} is running (it holds the role's cluster-wide rotation lock). wait for it to finish; nothing was changed`,
      );
      expect(doModel.count({ method: 'POST', path: /reset_auth$/ })).toBe(0);
      expect(await login(initial.reveal())).toEqual({ ok: true });
      expect(githubValue()).toBeUndefined();
    } finally {
      await holder.release();
    }
    // The lock is released with the run: the next one rotates.
    expect((await rotate(initial)).status).toBe('rotated');
  });

  it('an app deployment that ends in ERROR fails the run, with the new value stored and working', async () => {
    await setup({ outcome: 'ERROR' });
    const result = await rotate(initial);
    expect(result.status).toBe('failed');
    expect(result.summary).toMatch(/^refreshing digitalocean-app .* failed: app odoo \(.*\) deployment .* ended in phase ERROR/);
    expect(await login(githubValue()!)).toEqual({ ok: true });
  });
});

describe('digitalocean-reset preflight: a problem is reported before anything changes', () => {
  const cases: [string, () => Promise<void> | void, RegExp, string?][] = [
    [
      'an unknown token (401)',
      () => undefined,
      /HTTP 401 \(Unable to authenticate you\)\. DigitalOcean rejected the token/,
      'dop_v1_wrong',
    ],
    [
      'a token without database scopes (403)',
      () => setup({}, ['app:read', 'app:update']),
      /HTTP 403 .*needs database:read, database:update and database:view_credentials/,
    ],
    [
      'a token without database:view_credentials',
      () =>
        setup(
          {},
          ALL_SCOPES.filter((s) => s !== 'database:view_credentials'),
        ),
      /lacks the database:view_credentials scope.*Nothing was changed/,
    ],
    [
      'an unknown cluster (404)',
      () => {
        doModel.failNext({ method: 'GET', path: `/v2/databases/${CLUSTER}` }, { status: 404 });
      },
      /read database cluster .*HTTP 404 .*check systems\.do-pg\.cluster_id/,
    ],
  ];
  for (const [name, arrange, message, token] of cases) {
    it(name, async () => {
      await arrange();
      const result = await rotate(initial, testRuntime(), token);
      expect(result.status).toBe('failed');
      expect(result.summary).toMatch(message);
      expect(doModel.count({ method: 'POST' })).toBe(0);
      expect(await login(initial.reveal())).toEqual({ ok: true });
      expect(fileValue(result.runtime)).toBeUndefined();
      expect(githubValue()).toBeUndefined();
    });
  }

  it('an unknown user (404) names the role to check', async () => {
    const policy = parsePolicy(POLICY.replace(`role: ${ROLE}`, 'role: odoo_app'), 'rotation.yaml', {
      DIGITALOCEAN_TOKEN: TOKEN,
      DOADMIN_PASSWORD: initial.reveal(),
    });
    const result = await rotateCredential(policy, { credential: 'doadmin', reason: 'manual', dryRun: false, trigger }, testRuntime());
    expect(result.summary).toMatch(/user odoo_app does not exist on cluster platform-db: check credentials\.doadmin\.role/);
    expect(doModel.count({ method: 'POST' })).toBe(0);
  });

  it('a token without database:update fails at the reset, and the old password still works', async () => {
    await setup(
      {},
      ALL_SCOPES.filter((s) => s !== 'database:update'),
    );
    const result = await rotate(initial);
    expect(result.status).toBe('failed');
    expect(result.summary).toMatch(/reset the password of user doadmin_like .*HTTP 403.*database:update/);
    expect(await login(initial.reveal())).toEqual({ ok: true });
    expect(fileValue(result.runtime)).toBeUndefined();
    expectNoLeak(result, [initial.reveal()]);
  });
});
