import { existsSync } from 'node:fs';
import { access, constants, mkdir, open, readFile, rename, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { AdapterFactory } from '../adapters/context.js';
import { RotationError } from '../engine/errors.js';
import { Secret } from '../secret/secret.js';
import type { Store } from './store.js';
import { realTarget, workspacePath } from '../policy/workspace-paths.js';

/**
 * A dotenv file (`KEY=value` lines) for local runs and the demo. Other lines are kept. Written
 * atomically (a temporary file with mode 0600, fsynced, then renamed over the old one), so a crash
 * leaves either the old file or the new one, never half of one.
 */
export const fileStore: AdapterFactory<Store> = (spec, ctx) => {
  const key = String(spec.options.key);
  // Checked on every use, before anything is read or written (see workspacePath).
  const target = () =>
    workspacePath(ctx.runtime.workspace, String(spec.options.path), `${spec.path}.path`, spec.options.allow_outside_workspace === true || ctx.policy.allowOutsideWorkspace === true);
  return {
    label: `file ${String(spec.options.path)} ${key}`,

    async check() {
      // Creates nothing (a dry run leaves no trace): the nearest existing folder must let us create
      // what is missing below it, and write there.
      const dir = dirname(target());
      const existing = nearestExisting(dir);
      const info = await stat(existing);
      if (!info.isDirectory()) throw new RotationError(`${spec.path}: cannot create folder ${dir}: ${existing} is not a folder`);
      await access(existing, constants.W_OK | constants.X_OK).catch((error: NodeJS.ErrnoException) => {
        throw new RotationError(`${spec.path}: folder ${existing} is not writable (${error.code})`);
      });
    },

    async write(value) {
      const path = target();
      await mkdir(dirname(path), { recursive: true, mode: 0o700 }).catch((error: NodeJS.ErrnoException) => {
        throw new RotationError(`${spec.path}: cannot create folder ${dirname(path)} (${error.code})`);
      });
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
      const line = (await readLines(target())).find((l) => l.startsWith(`${key}=`));
      const value = line?.slice(key.length + 1);
      return value ? new Secret(value) : undefined;
    },
  };
};

/** The path itself or its closest ancestor that exists (following symlinks). */
function nearestExisting(path: string): string {
  let current = realTarget(path);
  while (!existsSync(current) && dirname(current) !== current) current = dirname(current);
  return current;
}

async function readLines(path: string): Promise<string[]> {
  try {
    await stat(path);
  } catch {
    return [];
  }
  return (await readFile(path, 'utf8')).split('\n').filter((line) => line.length > 0);
}
