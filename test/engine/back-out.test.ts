// Issue 9 §2: a failed run never leaves a store target worse than it found it (SPEC invariant 1),
// on a real PostgreSQL 16 with file targets and GitHub secrets (write-only) as stores.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setupServer } from 'msw/node';
import { parsePolicy } from '../../src/registry/load-policy.js';
import { rotateCredential, type RotationResult } from '../../src/engine/rotate.js';
import { createGitHubModel, type GitHubModel } from '../models/github.js';
import { GITHUB_TEST_TOKEN, testRuntime, type TestRuntime } from '../helpers/runtime.js';
import { alterRoleYaml, leakHaystack, login, makeRole, usePostgres } from '../helpers/postgres.js';

const fx = usePostgres();
const server = setupServer();
let gh: GitHubModel;
beforeAll(() => server.listen({ onUnhandledFrame: 'error' }));
afterAll(() => server.close());

const FILE = '.secrets/app.env';
const FILE_TARGET = `      - file: { path: ${FILE}, key: DB_PASSWORD }\n`;
const GITHUB_A = '      - github: { repository: acme/ops, secret: DB_PASSWORD }\n';
const GITHUB_B = '      - github: { repository: acme/ops, secret: DB_PASSWORD_COPY }\n';
const trigger = { event: 'workflow_dispatch', actor: 'ops' };
let serial = 0;

async function world(stores: string) {
  const role = `backout_${++serial}`;
  const live = (await makeRole(fx(), role)).reveal();
  gh = createGitHubModel({ token: GITHUB_TEST_TOKEN, repos: [{ full_name: 'acme/ops' }] });
  server.resetHandlers(...gh.handlers);
  const runtime = testRuntime();
  const text = alterRoleYaml(role, 'CURRENT', `    store:\n${stores}`);
  const rotate = (current: string | undefined, rt: TestRuntime = runtime) =>
    rotateCredential(
      parsePolicy(current === undefined ? text.replace(/\n {4}current: .*\n/, '\n') : text, '.github/rotation.yaml', {
        ROTATION_ADMIN_URL: fx().platform.adminUrl,
        CURRENT: current ?? '',
      }),
      { credential: role, reason: 'manual', dryRun: false, trigger },
      rt,
    );
  const file = () => (existsSync(join(runtime.workspace, FILE)) ? readFileSync(join(runtime.workspace, FILE), 'utf8') : undefined);
  const seedFile = (content: string) => {
    mkdirSync(join(runtime.workspace, '.secrets'), { recursive: true });
    writeFileSync(join(runtime.workspace, FILE), content);
  };
  const logsIn = async (value: string | undefined) => value !== undefined && (await login(fx(), role, value)).ok;
  return { role, live, runtime, rotate, file, seedFile, logsIn };
}

/**
 * The write to GitHub (the second target, after the file) fails with 502 on every retry: it may
 * have landed, so the back-out puts it back too, once GitHub answers again.
 */
const failSecondTarget = () => gh.failNext({ method: 'PUT', path: /DB_PASSWORD$/ }, { status: 502, message: 'Bad gateway' }, 4);
const storeEntry = (result: RotationResult, target: string) => result.record.stores.find((s) => s.target === target)!;
function noLeak(result: RotationResult, runtime: TestRuntime, secrets: string[]) {
  const haystack = leakHaystack(runtime.reporter.lines, result.summary, JSON.stringify(result.record));
  for (const s of secrets) expect(haystack).not.toContain(s);
}

describe('back-out after a failed store write', () => {
  it('a stale current and a file holding the working password: the file is put back as it was, never overwritten with the stale value', async () => {
    const w = await world(FILE_TARGET + GITHUB_A);
    const stale = 'stale-password-from-an-old-variable-0001';
    w.seedFile(`DB_PASSWORD=${w.live}\n`);
    failSecondTarget();
    const result = await w.rotate(stale);

    expect(result.status).toBe('failed');
    // The value the file held logged in: it was the current one, not the variable.
    expect(result.record.notes).toContain(
      `the current value no longer logs in, but the value file ${FILE} DB_PASSWORD holds does: it is taken as the current value (for the back-out and the proof that it is refused)`,
    );
    expect(w.file()).toBe(`DB_PASSWORD=${w.live}\n`);
    expect(await w.logsIn(w.live)).toBe(true);
    // The GitHub secret, write-only, was rewritten with the value proven live, never the stale one.
    expect(gh.secretValue({ repository: 'acme/ops', name: 'DB_PASSWORD' })).toBe(w.live);
    expect(storeEntry(result, `file ${FILE} DB_PASSWORD`)).toMatchObject({ outcome: 'ok', holds: 'restored' });
    expect(storeEntry(result, 'github acme/ops DB_PASSWORD')).toMatchObject({ outcome: 'failed', holds: 'restored' });
    expect(result.summary).toMatch(
      /^writing github acme\/ops DB_PASSWORD failed: .*502.* Store targets now: file \.secrets\/app\.env DB_PASSWORD: restored; github acme\/ops DB_PASSWORD: restored\.$/,
    );
    noLeak(result, w.runtime, [w.live, stale]);

    // The same command again (same stale variable): it repairs with no hand work.
    const again = await w.rotate(stale);
    expect(again.status, again.summary).toBe('rotated');
    const fresh = gh.secretValue({ repository: 'acme/ops', name: 'DB_PASSWORD' })!;
    expect(w.file()).toBe(`DB_PASSWORD=${fresh}\n`);
    expect(await w.logsIn(fresh)).toBe(true);
    // The proof of revocation is about the value that really was live.
    expect(again.record.old_credential).toMatchObject({ tried: true, rejected: true });
    expect(await login(fx(), w.role, w.live)).toMatchObject({ ok: false, code: '28P01' });
  });

  it('no current value and a file holding the working password: the file keeps it, not a value never applied', async () => {
    const w = await world(FILE_TARGET + GITHUB_A);
    w.seedFile(`DB_PASSWORD=${w.live}\n`);
    failSecondTarget();
    const result = await w.rotate(undefined);
    expect(result.status).toBe('failed');
    expect(w.file()).toBe(`DB_PASSWORD=${w.live}\n`);
    expect(gh.secretValue({ repository: 'acme/ops', name: 'DB_PASSWORD' })).toBe(w.live);
    expect(result.record.notes.join('\n')).toContain(`no current value given, but the value file ${FILE} DB_PASSWORD holds does`);
    const again = await w.rotate(undefined);
    expect(again.status, again.summary).toBe('rotated');
    expect(await w.logsIn(gh.secretValue({ repository: 'acme/ops', name: 'DB_PASSWORD' }))).toBe(true);
  });

  it('the exact prior content of a file comes back: other lines, blank lines, order, two targets in one file', async () => {
    const url = (p: string) => `postgresql://app:${p}@127.0.0.1:5432/odoo`;
    const w = await world(
      `${FILE_TARGET}      - file: { path: ${FILE}, key: DATABASE_URL, format: "postgresql://app:{password}@127.0.0.1:5432/odoo" }\n${GITHUB_A}`,
    );
    const before = `# written by hand\nOTHER=1\n\nDATABASE_URL=${url(w.live)}\nDB_PASSWORD=${w.live}\nLAST=x`;
    w.seedFile(before);
    failSecondTarget();
    const result = await w.rotate(w.live);
    expect(result.status).toBe('failed');
    expect(w.file()).toBe(before);
  });

  it('nothing known to log in: a readable target comes back exactly (here: no file), a write-only one is not claimed restored, and a rerun repairs', async () => {
    const w = await world(FILE_TARGET + GITHUB_A + GITHUB_B);
    const stale = 'stale-password-from-an-old-variable-0002';
    gh.failNext({ method: 'PUT', path: /DB_PASSWORD_COPY$/ }, { status: 502, message: 'Bad gateway' }, 4);
    const result = await w.rotate(stale);
    expect(result.status).toBe('failed');
    // The file did not exist before the run: it does not exist after it.
    expect(w.file()).toBeUndefined();
    // The stale value is never written anywhere; the GitHub secret that took the new value keeps
    // it, and the record says so instead of "restored".
    const held = gh.secretValue({ repository: 'acme/ops', name: 'DB_PASSWORD' })!;
    expect(held).not.toBe(stale);
    expect(await w.logsIn(held)).toBe(false);
    expect(gh.secretValue({ repository: 'acme/ops', name: 'DB_PASSWORD_COPY' })).toBeUndefined();
    expect(storeEntry(result, `file ${FILE} DB_PASSWORD`)).toMatchObject({
      holds: 'restored',
      detail: 'new value written, then taken out again (it held no file before)',
    });
    expect(storeEntry(result, 'github acme/ops DB_PASSWORD')).toMatchObject({ outcome: 'ok', holds: 'new value (never live)' });
    expect(storeEntry(result, 'github acme/ops DB_PASSWORD').detail).toMatch(
      /never went live: the target is write-only and no value that logs in was known/,
    );
    expect(storeEntry(result, 'github acme/ops DB_PASSWORD_COPY')).toMatchObject({ outcome: 'failed', holds: 'unknown' });
    expect(result.summary).toContain(
      'Store targets now: file .secrets/app.env DB_PASSWORD: restored; github acme/ops DB_PASSWORD: new value (never live); github acme/ops DB_PASSWORD_COPY: unknown.',
    );
    expect(await w.logsIn(w.live)).toBe(true);

    // The rerun the workflow would make, with what the GitHub secret now holds: it converges.
    const again = await w.rotate(held);
    expect(again.status, again.summary).toBe('rotated');
    const fresh = gh.secretValue({ repository: 'acme/ops', name: 'DB_PASSWORD' })!;
    expect(await w.logsIn(fresh)).toBe(true);
    expect(gh.secretValue({ repository: 'acme/ops', name: 'DB_PASSWORD_COPY' })).toBe(fresh);
    expect(w.file()).toBe(`DB_PASSWORD=${fresh}\n`);
    expect(again.record.stores.map((s) => s.holds)).toEqual(['new value', 'new value', 'new value']);
  });

  it('a write-only target that refused the write outright (403) is left as it was, and said to be unchanged', async () => {
    const w = await world(FILE_TARGET + GITHUB_A);
    w.seedFile(`DB_PASSWORD=${w.live}\n`);
    gh.failNext({ method: 'PUT', path: /DB_PASSWORD$/ }, { status: 403, message: 'Resource not accessible by integration' });
    const result = await w.rotate('stale-password-from-an-old-variable-0003');
    expect(result.status).toBe('failed');
    expect(w.file()).toBe(`DB_PASSWORD=${w.live}\n`);
    expect(gh.count({ method: 'PUT' })).toBe(1);
    expect(gh.secretValue({ repository: 'acme/ops', name: 'DB_PASSWORD' })).toBeUndefined();
    expect(storeEntry(result, 'github acme/ops DB_PASSWORD')).toMatchObject({ outcome: 'failed', holds: 'unchanged' });
    expect(result.summary).toContain(
      'Store targets now: file .secrets/app.env DB_PASSWORD: restored; github acme/ops DB_PASSWORD: unchanged.',
    );
  });
});
