// Consumers, end to end on a real PostgreSQL 16: each n8n release that cannot take the update is
// refused at the preflight (before, the run committed the new password and left n8n on a dead
// one), the proof after the update comes from the consumer's side, and a consumer that fails
// after the change is named with what every consumer holds; the rerun converges.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { setupServer } from 'msw/node';
import { rotateCredential } from '../../src/engine/rotate.js';
import { parsePolicy } from '../../src/registry/load-policy.js';
import { tryLogin } from '../../src/postgres/connect.js';
import { testRuntime, type TestRuntime } from '../helpers/runtime.js';
import { alterRoleYaml, login, makeRole, usePostgres } from '../helpers/postgres.js';
import { createN8nModel, type N8nModel, type N8nVersion } from '../models/n8n.js';
import { createSupersetModel, type SupersetModel } from '../models/superset.js';

const API_KEY = 'n8n_api_proof_7c1e0d9b2a';
const ADMIN_PASSWORD = 'superset-admin-pw-proof-3Kq9';
const N8N = 'https://n8n.example.com';
const SUPERSET_A = 'https://bi.example.com';
const SUPERSET_B = 'https://bi-eu.example.com';
const server = setupServer();
const fx = usePostgres();
beforeAll(() => server.listen({ onUnhandledFrame: 'error' }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

let roles = 0;
async function freshRole() {
  const role = `proof_${++roles}`;
  return { role, initial: (await makeRole(fx(), role)).reveal() };
}

function n8nModel(role: string, password: string, version: N8nVersion, credentialTest?: boolean): N8nModel {
  return createN8nModel({
    baseUrl: N8N,
    apiKey: API_KEY,
    version,
    credentialTest,
    credentials: [
      {
        id: 'pgRo1',
        name: 'Odoo',
        type: 'postgres',
        data: { host: '127.0.0.1', port: fx().server.port, database: 'odoo', user: role, password, ssl: 'disable' },
      },
    ],
  });
}

function supersetModel(baseUrl: string, role: string, password: string): SupersetModel {
  return createSupersetModel({
    baseUrl,
    users: { admin: ADMIN_PASSWORD },
    databases: [
      { id: 3, database_name: 'odoo', sqlalchemy_uri: `postgresql+psycopg2://${role}:${password}@127.0.0.1:${fx().server.port}/odoo` },
    ],
  });
}

const n8nConsumer = `      - n8n-credential: { url: ${N8N}, api_key: "\${N8N_API_KEY}", credential_id: pgRo1 }\n`;
const supersetConsumer = (url: string, role: string) =>
  `      - superset-database: { url: ${url}, username: admin, password: "\${SUPERSET_ADMIN_PASSWORD}", database_id: 3, database_name: odoo, uri: "postgresql+psycopg2://${role}:{password}@127.0.0.1:${fx().server.port}/odoo" }\n`;

async function rotate(role: string, current: string, consumers: string, runtime: TestRuntime = testRuntime()) {
  const yaml = alterRoleYaml(
    role,
    'CURRENT',
    `    store:\n      - file: { path: .secrets/db.env, key: DB_PASSWORD }\n    consumers:\n${consumers}`,
  );
  const env = {
    ROTATION_ADMIN_URL: fx().platform.adminUrl,
    CURRENT: current,
    N8N_API_KEY: API_KEY,
    SUPERSET_ADMIN_PASSWORD: ADMIN_PASSWORD,
  };
  const result = await rotateCredential(
    parsePolicy(yaml, '.github/rotation.yaml', env),
    { credential: role, reason: 'manual', dryRun: false, trigger: { event: 'workflow_dispatch', actor: 'vitest' } },
    runtime,
  );
  const file = join(runtime.workspace, '.secrets/db.env');
  const stored = existsSync(file) ? /DB_PASSWORD=(.*)/.exec(readFileSync(file, 'utf8'))?.[1] : undefined;
  return { result, stored, runtime };
}

/** Whatever a person or a log could see after a run. */
function surfaces(runtime: TestRuntime, ...more: unknown[]): string {
  const dir = join(runtime.workspace, 'docs/evidence');
  const files = existsSync(dir)
    ? readdirSync(dir, { recursive: true, withFileTypes: true })
        .filter((f) => f.isFile())
        .map((f) => readFileSync(join(f.parentPath, f.name), 'utf8'))
    : [];
  return [...runtime.reporter.lines, ...files, ...more.map((m) => JSON.stringify(m))].join('\n');
}

/** Whether the password n8n holds logs in, as n8n's own connection would. */
async function n8nLogsIn(model: N8nModel) {
  const d = model.credentialData('pgRo1')!;
  return tryLogin({
    host: String(d.host),
    port: Number(d.port),
    database: String(d.database),
    user: String(d.user),
    password: String(d.password),
    ssl: false,
  });
}

describe('n8n releases that cannot take the update are refused before anything changes', () => {
  const cases: [N8nVersion, RegExp][] = [
    ['2.39.5', /no-op partial update \(preflight\) was refused with HTTP 405\. .*n8n 2\.39\.5 has that regression \(issue #38746\)/],
    [
      'before-partial-update',
      /reading the credential answered HTTP 405\. this n8n predates PATCH \/api\/v1\/credentials\/\{id\} .*PR #23431/,
    ],
    ['strict-partial', /refused with HTTP 400 \(request\.body\.data requires property "ssl"\)\. .*whole schema.*PR #35680/],
  ];
  for (const [version, message] of cases) {
    it(`n8n ${version}: the preflight refuses the run naming the version issue and the fix; the database and n8n keep the working password`, async () => {
      const { role, initial } = await freshRole();
      const model = n8nModel(role, initial, version);
      server.use(...model.handlers);
      const { result, stored, runtime } = await rotate(role, initial, n8nConsumer);
      expect(result.status).toBe('failed');
      expect(result.summary).toMatch(message);
      expect(result.summary).toContain('Nothing was changed in n8n');
      expect(result.record.steps.find((s) => s.step === 'preflight')?.outcome).toBe('failed');
      expect(result.record.steps.find((s) => s.step === 'apply')?.outcome).toBe('skipped');
      // n8n still holds a password the database accepts; nothing was stored or applied.
      expect(model.credentialData('pgRo1')?.password).toBe(initial);
      expect(await n8nLogsIn(model)).toEqual({ ok: true });
      expect(await login(fx(), role, initial)).toEqual({ ok: true });
      expect(stored).toBeUndefined();
      expect(surfaces(runtime, result, model.requests)).not.toContain(initial);
    });
  }

  it('current n8n: rotated, n8n tested the credential it stored against the database, the evidence says read-back', async () => {
    const { role, initial } = await freshRole();
    const model = n8nModel(role, initial, 'current');
    server.use(...model.handlers);
    const { result, stored, runtime } = await rotate(role, initial, n8nConsumer);
    expect(result.summary).toMatch(/^rotated/);
    expect(model.credentialData('pgRo1')?.password).toBe(stored);
    expect(model.tests).toEqual([{ id: 'pgRo1', ok: true }]);
    expect(await n8nLogsIn(model)).toEqual({ ok: true });
    expect(await login(fx(), role, initial)).toMatchObject({ ok: false, rejected: true });
    expect(result.record.consumers).toEqual([
      expect.objectContaining({
        outcome: 'ok',
        holds: 'new',
        proof: 'read-back',
        proof_detail: expect.stringContaining('n8n tested the credential it stored'),
      }),
    ]);
    expect(surfaces(runtime, result, model.requests)).not.toContain(stored!);
  });

  it('current n8n without the credential test route: rotated, and the evidence says only the sent value is known', async () => {
    const { role, initial } = await freshRole();
    const model = n8nModel(role, initial, 'current', false);
    server.use(...model.handlers);
    const { result, stored, runtime } = await rotate(role, initial, n8nConsumer);
    expect(result.status).toBe('rotated');
    expect(await n8nLogsIn(model)).toEqual({ ok: true });
    expect(model.credentialData('pgRo1')?.password).toBe(stored);
    expect(result.record.consumers[0]).toMatchObject({
      proof: 'sent-value-only',
      proof_detail: expect.stringMatching(/never returns credential data/),
    });
    const dir = join(runtime.workspace, result.evidencePath!, '..');
    const md = readdirSync(dir).find((f) => f.endsWith('.md'))!;
    expect(readFileSync(join(dir, md), 'utf8')).toMatch(/this n8n has no credential test .*\(proof: sent-value-only\)/);
  });
});

describe('a consumer that fails after the change', () => {
  it('first run fails at consumer 2 of 3 and names what each holds; the rerun converges and every consumer ends on a working value', async () => {
    const { role, initial } = await freshRole();
    const a = supersetModel(SUPERSET_A, role, initial);
    const b = supersetModel(SUPERSET_B, role, initial);
    const n8n = n8nModel(role, initial, 'current');
    server.use(...a.handlers, ...b.handlers, ...n8n.handlers);
    const consumers = supersetConsumer(SUPERSET_A, role) + supersetConsumer(SUPERSET_B, role) + n8nConsumer;
    // Superset B passes its preflight, then loses its route to the database before the update.
    const runtime = testRuntime();
    let armed = false;
    runtime.failpoint = async (point) => {
      if (point === 'consumer.before.1' && !armed) {
        armed = true;
        b.databaseUnreachable = true;
      }
    };
    const first = await rotate(role, initial, consumers, runtime);
    expect(first.result.status).toBe('failed');
    const labelB = `superset-database ${SUPERSET_B} #3`;
    expect(first.result.summary).toMatch(
      new RegExp(
        `^refreshing ${labelB.replace(/[.#/]/g, '\\$&')} failed: .*HTTP 422 \\(Connection failed, please check your connection settings\\)\\. Superset refused the new URI and kept the one it had`,
      ),
    );
    expect(first.result.summary).toContain(
      `consumers holding the new value: superset-database ${SUPERSET_A} #3, n8n-credential ${N8N} pgRo1; still holding the old value: ${labelB}`,
    );
    expect(first.result.record.consumers.map((c) => `${c.outcome}:${c.holds}`)).toEqual(['ok:new', 'failed:old', 'ok:new']);
    // What each holds, checked against the database: A and n8n log in, B's old password is dead.
    const stored1 = first.stored!;
    expect(new URL(a.storedUri(3)!).password).toBe(stored1);
    expect(new URL(b.storedUri(3)!).password).toBe(initial);
    expect(await n8nLogsIn(n8n)).toEqual({ ok: true });
    expect(await login(fx(), role, stored1)).toEqual({ ok: true });
    expect(await login(fx(), role, initial)).toMatchObject({ ok: false, rejected: true });
    expect(first.result.record.steps.find((s) => s.step === 'revoke')?.outcome).toBe('skipped');

    // Superset B can reach the database again; the rerun reads `current` from the store.
    b.databaseUnreachable = false;
    const second = await rotate(role, stored1, consumers);
    expect(second.result.status).toBe('rotated');
    const stored2 = second.stored!;
    for (const model of [a, b]) expect(new URL(model.storedUri(3)!).password).toBe(stored2);
    expect(n8n.credentialData('pgRo1')?.password).toBe(stored2);
    expect(second.result.record.consumers.map((c) => `${c.outcome}:${c.holds}:${c.proof}`)).toEqual([
      'ok:new:read-back',
      'ok:new:read-back',
      'ok:new:read-back',
    ]);
    expect(await n8nLogsIn(n8n)).toEqual({ ok: true });
    expect(await login(fx(), role, stored2)).toEqual({ ok: true });
    expect(await login(fx(), role, stored1)).toMatchObject({ ok: false, rejected: true });
    const all = surfaces(first.runtime, first.result, a.requests, b.requests, n8n.requests) + surfaces(testRuntime(), second.result);
    for (const secret of [initial, stored1, stored2, ADMIN_PASSWORD, API_KEY]) expect(all).not.toContain(secret);
  });
});
