import { execFileSync } from 'node:child_process';
import { mkdirSync, statSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fileStore } from '../../src/stores/file.js';
import { Secret } from '../../src/secret/secret.js';
import { parsePolicy } from '../../src/registry/load-policy.js';
import { rotateCredential } from '../../src/engine/rotate.js';
import { testContext, testRuntime } from '../helpers/runtime.js';
import { alterRolePolicy, leakHaystack, login, makeRole, usePostgres } from '../helpers/postgres.js';
import { rotationRequest } from '../helpers/request.js';

/** A file store target at `.secrets/app.env`, key DB_PASSWORD, in a fresh workspace. */
function target() {
  const runtime = testRuntime();
  const spec = { kind: 'file', options: { path: '.secrets/app.env', key: 'DB_PASSWORD' }, path: 'credentials.odoo_app.store[0].file' };
  const store = fileStore(spec, testContext(runtime));
  const file = join(runtime.workspace, '.secrets/app.env');
  mkdirSync(join(runtime.workspace, '.secrets'));
  return { runtime, store, file };
}

describe('file store: what is not a dotenv file is refused before it is read', () => {
  it('a FIFO where the file should be: check and read refuse at once instead of waiting for a writer', async () => {
    const { store, file } = target();
    execFileSync('mkfifo', [file]);
    await expect(store.check()).rejects.toThrow(/file\.path: the path is a FIFO, not a file/);
    await expect(store.read!()).rejects.toThrow(/the path is a FIFO, not a file/);
    // A capture has nothing to put back, and the write refuses without replacing the FIFO.
    expect(await store.capture!()).toBeUndefined();
    await expect(store.write(new Secret('never-written-value-1'))).rejects.toThrow(/a FIFO/);
    expect(statSync(file).isFIFO()).toBe(true);
  });

  it('a file over 1 MiB (sparse: no disk is used) is refused, not read whole', async () => {
    const { store, file } = target();
    writeFileSync(file, 'DB_PASSWORD=huge-file-value-2\n');
    truncateSync(file, 64 * 1024 * 1024);
    await expect(store.check()).rejects.toThrow(/the file is 67108864 bytes, more than a dotenv file of secrets/);
    await expect(store.read!()).rejects.toThrow(/67108864 bytes/);
  });

  it('a folder where the file should be is named as such when it is read or written', async () => {
    const { store, file } = target();
    mkdirSync(file);
    await expect(store.read!()).rejects.toThrow(/the path is a folder, not a file/);
    await expect(store.write(new Secret('never-written-value-4'))).rejects.toThrow(/the path is a folder, not a file/);
  });

  it('a symlink to a dotenv file inside the workspace reads through; one to a FIFO is refused like the FIFO', async () => {
    const { runtime, store, file } = target();
    writeFileSync(join(runtime.workspace, 'real.env'), 'DB_PASSWORD=linked-value-3\n');
    symlinkSync(join(runtime.workspace, 'real.env'), file);
    expect((await store.read!())?.reveal()).toBe('linked-value-3');
    const other = target();
    execFileSync('mkfifo', [join(other.runtime.workspace, 'pipe')]);
    symlinkSync(join(other.runtime.workspace, 'pipe'), other.file);
    await expect(other.store.check()).rejects.toThrow(/a FIFO/);
  });
});

describe('file store: a rotation whose file target is a FIFO', () => {
  const fx = usePostgres();
  it('fails in preflight at once, changes nothing at the source, and leaks nothing', async () => {
    const old = await makeRole(fx(), 'app_fifo');
    const runtime = testRuntime({ now: () => new Date() });
    mkdirSync(join(runtime.workspace, '.secrets'));
    execFileSync('mkfifo', [join(runtime.workspace, '.secrets/app.env')]);
    const policy = parsePolicy(alterRolePolicy(fx(), 'app_fifo'), 'rotation.yaml', {
      ROTATION_ADMIN_URL: fx().platform.adminUrl,
      CURRENT: old.reveal(),
    });
    const logStart = fx().server.log.length;
    const result = await rotateCredential(policy, rotationRequest('app_fifo'), runtime);
    expect(result.status).toBe('failed');
    expect(result.summary).toMatch(/store\[0\]\.file\.path: the path is a FIFO, not a file/);
    expect(result.record.steps.find((s) => s.step === 'preflight')?.outcome).toBe('failed');
    expect(result.evidencePath).toBeUndefined();
    // Nothing changed: the old password still logs in; no ALTER ROLE reached the server.
    expect((await login(fx(), 'app_fifo', old)).ok).toBe(true);
    const serverLog = fx().server.log.slice(logStart).join('\n');
    expect(serverLog).not.toMatch(/ALTER ROLE "app_fifo" PASSWORD/);
    expect(leakHaystack(runtime.reporter.lines, JSON.stringify(result), serverLog)).not.toContain(old.reveal());
    // The target is as it was: still the FIFO, not replaced.
    expect(statSync(join(runtime.workspace, '.secrets/app.env')).isFIFO()).toBe(true);
  });
});
