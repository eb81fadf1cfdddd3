// Issue 16 §6: docs/alternating-roles.md says what the stores hold after a failure at each step
// before 7 (the revoke). This test reads that table and, on a real PostgreSQL 16, drives a failure
// at each step it lists, then checks the stores (a readable file holding a URL, and the password
// and the user as two write-only GitHub secrets), both logins and the record against the doc.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setupServer } from 'msw/node';
import { parsePolicy } from '../../src/registry/load-policy.js';
import { rotateCredential } from '../../src/engine/rotate.js';
import { STEPS } from '../../src/engine/steps.js';
import { RotationError } from '../../src/errors/errors.js';
import { createGitHubModel } from '../models/github.js';
import { GITHUB_TEST_TOKEN, testRuntime, type TestRuntime } from '../helpers/runtime.js';
import { login, usePostgres } from '../helpers/postgres.js';
import { alternatingStoresYaml, makeAlternating } from '../helpers/alternating.js';
import { policyWithCurrent, secretsFileValue, seedStores } from '../faults/harness.js';
import { rotationRequest } from '../helpers/request.js';

const fx = usePostgres();
const server = setupServer();
beforeAll(() => server.listen({ onUnhandledFrame: 'error' }));
afterAll(() => server.close());

const DOC = readFileSync(join(import.meta.dirname, '../../docs/alternating-roles.md'), 'utf8');

interface Row {
  step: number;
  name: string;
  stores: 'as before' | 'old pair' | 'new pair';
  idle: 'unchanged' | 'new password';
}

/** The table under "### A failure before step 7": what the doc promises per step. */
function documented(): Row[] {
  const section = DOC.split('### A failure before step 7')[1]?.split(/\n#{2,3} /)[0] ?? '';
  return [...section.matchAll(/^\| (\d)\. (\w+) \| \*\*([^*]+)\*\*[^|]*\| \*\*([^*]+)\*\*/gm)].map(([, step, name, stores, idle]) => ({
    step: Number(step),
    name,
    stores:
      stores === 'what they held'
        ? 'as before'
        : stores === 'the old user and password'
          ? 'old pair'
          : stores === 'the new user and password'
            ? 'new pair'
            : (stores as never),
    idle: idle === 'unchanged' ? 'unchanged' : idle === 'has the new password' ? 'new password' : (idle as never),
  }));
}

/** Where each step is made to fail: a failpoint inside it, or (generate) a real refusal by the server. */
const FAILPOINT: Record<string, string | undefined> = {
  generate: undefined,
  store: 'store.after.2',
  apply: 'apply.before',
  verify: 'verify.before',
  consumers: 'consumer.before.0',
  health: 'health.before.0',
};

let serial = 0;

/** `current: false`: the policy gives no current, and the file holds a URL that no longer logs in. */
async function world({ current = true } = {}) {
  const group = `alt_doc_${++serial}`;
  const { a, b } = await makeAlternating(fx(), group);
  const runtime = testRuntime();
  const gh = createGitHubModel({
    token: GITHUB_TEST_TOKEN,
    repos: [{ full_name: 'acme/ops', workflows: [{ file: 'deploy.yml', pollsToComplete: 1 }] }],
    now: runtime.now,
  });
  server.resetHandlers(...gh.handlers);
  const port = fx().server.port;
  const url = (user: string, password: string) => `postgresql://${user}:${password}@127.0.0.1:${port}/odoo`;
  await seedStores(runtime, 'app.env', 'DATABASE_URL', url(`${group}_a`, current ? a.reveal() : 'stale-password-0000000000'));
  await seedStores(runtime, 'unused.env', 'DB_PASSWORD', a.reveal());
  await seedStores(runtime, 'unused.env', 'DB_USER', `${group}_a`);
  const policy = parsePolicy(
    policyWithCurrent(alternatingStoresYaml(group, port), current ? a.reveal() : undefined),
    '.github/rotation.yaml',
    { ROTATION_ADMIN_URL: fx().platform.adminUrl, CURRENT: a.reveal() },
  );
  const stores = () => ({
    url: secretsFileValue(runtime.workspace, 'app.env', 'DATABASE_URL'),
    password: gh.secretValue({ repository: 'acme/ops', name: 'DB_PASSWORD' }),
    user: gh.secretValue({ repository: 'acme/ops', name: 'DB_USER' }),
  });
  return {
    group,
    a,
    b,
    runtime,
    policy,
    stores,
    url,
    rotate: () => rotateCredential(policy, rotationRequest(group), runtime),
  };
}

/** Makes `step` fail: a failpoint that throws, or for generate the admin losing its right to change the idle login's password. */
function failAt(runtime: TestRuntime, step: string, group: string): void {
  const point = FAILPOINT[step];
  if (point) {
    runtime.failpoint = async (name) => {
      if (name === point) throw new RotationError(`injected failure at ${point}`);
    };
    return;
  }
  const group_ = runtime.reporter.group.bind(runtime.reporter);
  runtime.reporter.group = async (title, fn) => {
    if (title === STEPS.generate) {
      const db = await fx().server.client();
      try {
        await db.query(`REVOKE ${db.escapeIdentifier(`${group}_b`)} FROM rotation_admin`);
      } finally {
        await db.end();
      }
    }
    return group_(title, fn);
  };
}

describe('docs/alternating-roles.md: a failure before step 7', () => {
  const rows = documented();

  it('the doc lists every step before the revoke', () => {
    expect(rows.map((r) => `${r.step}. ${r.name}`)).toEqual([
      '1. generate',
      '2. store',
      '3. apply',
      '4. verify',
      '5. consumers',
      '6. health',
    ]);
  });

  it.each(rows)('a failure in step $step ($name): the stores hold $stores, the idle login has $idle', async (row) => {
    const w = await world();
    const before = w.stores();
    failAt(w.runtime, row.name, w.group);
    const result = await w.rotate();
    expect(result.status).toBe('failed');
    expect(result.record.steps.find((s) => s.step === row.name)?.outcome, result.summary).toBe('failed');

    // The login in use is untouched: the old password still logs in as it.
    expect((await login(fx(), `${w.group}_a`, w.a)).ok).toBe(true);

    const now = w.stores();
    const holds = result.record.stores.map((s) => s.holds);
    if (row.stores === 'new pair') {
      expect(now.user).toBe(`${w.group}_b`);
      expect(now.password).not.toBe(w.a.reveal());
      expect(now.url).toBe(w.url(`${w.group}_b`, now.password!));
      expect((await login(fx(), `${w.group}_b`, now.password!)).ok).toBe(true);
      expect(holds).toEqual(['new value', 'new value', 'new value']);
    } else {
      expect(now).toEqual(before);
      expect(holds).toEqual(row.stores === 'as before' ? ['unchanged', 'unchanged', 'unchanged'] : ['restored', 'restored', 'restored']);
    }

    const idleInitial = (await login(fx(), `${w.group}_b`, w.b)).ok;
    expect(idleInitial, 'the idle login still has its password from before').toBe(row.idle === 'unchanged');
  });

  it('in step 2 without a current that logs in, write-only targets keep the new pair (which logs in) and say so', async () => {
    const w = await world({ current: false });
    const before = w.stores();
    failAt(w.runtime, 'store', w.group);
    const result = await w.rotate();
    expect(result.status).toBe('failed');
    const now = w.stores();
    // Neither login took `current` (there is none): the one with fewer sessions, the first, was idle.
    const idle = now.user!;
    expect([`${w.group}_a`, `${w.group}_b`]).toContain(idle);
    expect((await login(fx(), idle, now.password!)).ok).toBe(true);
    expect(now.url, 'the readable file is put back exactly as it was').toBe(before.url);
    expect(result.record.stores.map((s) => s.holds)).toEqual(['restored', 'new value (never live)', 'new value (never live)']);
    expect(DOC).toMatch(
      /without\s+a `current` that does \(nor a readable store holding one\), it keeps the new user and password \(which\s+log in, as the idle login\) and the record says `new value \(never live\)`/,
    );
  });
});
