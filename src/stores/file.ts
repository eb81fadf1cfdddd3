import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { AdapterFactory } from '../engine/adapters.js';
import { RotationError } from '../engine/errors.js';
import { Secret } from '../secret/secret.js';
import type { Store } from './store.js';

/**
 * A dotenv file (`KEY=value` lines) for local runs and the demo. Other lines are kept as they are,
 * and the key's line keeps its place. Written atomically (a temporary file with mode 0600,
 * fsynced, then renamed over the old one), so a crash leaves either the old file or the new one,
 * never half of one. capture() remembers the file as it was (absent, without the key, or the
 * key's exact line) so a back-out puts exactly that back.
 */
export const fileStore: AdapterFactory<Store> = (spec, ctx) => {
  const path = resolve(ctx.runtime.workspace, String(spec.options.path));
  const key = String(spec.options.key);
  /** The file's text right after this target's last write: when it still reads so, nothing else changed it. */
  let lastWritten: string | undefined;

  const replace = async (line: string | undefined, before?: string | null) => {
    const now = await readText(path);
    // Nothing else touched the file since our write: put back the whole text (or its absence).
    if (before !== undefined && lastWritten !== undefined && now === lastWritten) {
      if (before === null) await rm(path, { force: true });
      else await writeAtomically(path, before);
      return;
    }
    const text = withKeyLine(now ?? '', key, line);
    if (text === '' && before === null) await rm(path, { force: true });
    else if (text !== now) await writeAtomically(path, text);
  };

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
      await replace(`${key}=${value.reveal()}`);
      lastWritten = await readText(path);
    },

    async read() {
      const line = keyLine(await readText(path), key);
      const value = line?.slice(key.length + 1);
      return value ? new Secret(value) : undefined;
    },

    async capture() {
      // Unreadable (a folder where the file should be, no permission): nothing to put back; the
      // write reports the problem.
      const before = await readText(path).then((text) => text ?? null, () => undefined);
      if (before === undefined) return undefined;
      const line = keyLine(before ?? undefined, key);
      const value = line?.slice(key.length + 1);
      return {
        value: value ? new Secret(value) : undefined,
        describe: before === null ? 'no file' : line === undefined ? `no ${key} line` : value ? 'a value' : `an empty ${key}`,
        restore: () => replace(line, before),
      };
    },
  };
};

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

function keyLine(text: string | undefined, key: string): string | undefined {
  return text?.split('\n').find((l) => l.startsWith(`${key}=`));
}

/** `text` with the key's line set to `line` where it was (appended when new), or removed when `line` is undefined. */
function withKeyLine(text: string, key: string, line: string | undefined): string {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  const at = lines.findIndex((l) => l.startsWith(`${key}=`));
  const rest = lines.filter((l) => !l.startsWith(`${key}=`));
  if (line !== undefined) rest.splice(at === -1 ? rest.length : at, 0, line);
  // A file that did not end with a newline still does not.
  return rest.length === 0 ? '' : `${rest.join('\n')}${text === '' || text.endsWith('\n') ? '\n' : ''}`;
}

async function writeAtomically(path: string, text: string): Promise<void> {
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await open(tmp, 'wx', 0o600);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmp, path);
}
