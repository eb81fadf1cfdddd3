import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { AdapterFactory } from '../adapters/context.js';
import { RotationError } from '../engine/errors.js';
import { Secret } from '../secret/secret.js';
import type { Store } from './store.js';

/**
 * A dotenv file (`KEY=value` lines) for local runs and the demo. Other lines are kept. Written
 * atomically (a temporary file with mode 0600, fsynced, then renamed over the old one), so a crash
 * leaves either the old file or the new one, never half of one.
 */
export const fileStore: AdapterFactory<Store> = (spec, ctx) => {
  const path = resolve(ctx.runtime.workspace, String(spec.options.path));
  const key = String(spec.options.key);
  return {
    label: `file ${String(spec.options.path)} ${key}`,

    async check() {
      const dir = dirname(path);
      await mkdir(dir, { recursive: true, mode: 0o700 }).catch((error: NodeJS.ErrnoException) => {
        throw new RotationError(`${spec.path}: cannot create folder ${dir} (${error.code})`);
      });
      const probe = resolve(dir, `.${key}.check-${randomBytes(4).toString('hex')}`);
      try {
        await (await open(probe, 'wx', 0o600)).close();
      } catch (error) {
        throw new RotationError(`${spec.path}: folder ${dir} is not writable (${(error as NodeJS.ErrnoException).code})`);
      } finally {
        await rm(probe, { force: true });
      }
    },

    async write(value) {
      const lines = (await readLines(path)).filter((line) => !line.startsWith(`${key}=`));
      lines.push(`${key}=${value.reveal()}`);
      const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
      const handle = await open(tmp, 'wx', 0o600);
      try {
        await handle.writeFile(`${lines.join('\n')}\n`);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(tmp, path);
    },

    async read() {
      const line = (await readLines(path)).find((l) => l.startsWith(`${key}=`));
      const value = line?.slice(key.length + 1);
      return value ? new Secret(value) : undefined;
    },
  };
};

async function readLines(path: string): Promise<string[]> {
  try {
    await stat(path);
  } catch {
    return [];
  }
  return (await readFile(path, 'utf8')).split('\n').filter((line) => line.length > 0);
}
