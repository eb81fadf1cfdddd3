import { existsSync, type Stats } from 'node:fs';
import { access, constants, mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { AdapterFactory } from '../adapters/context.js';
import { RotationError } from '../errors/errors.js';
import { Secret } from '../secret/secret.js';
import type { Store } from './store.js';
import { optionsOf } from '../adapters/options.js';
import { realTarget, workspacePath } from '../policy/workspace-paths.js';

/**
 * A dotenv file (`KEY=value` lines) for local runs and the demo. Other lines are kept as they are,
 * and the key's line keeps its place. Written atomically (a temporary file with mode 0600,
 * fsynced, then renamed over the old one), so a crash leaves either the old file or the new one,
 * never half of one. capture() remembers the file as it was (absent, without the key, or the
 * key's exact line) so a back-out puts exactly that back.
 */
export const fileStore: AdapterFactory<Store> = (spec, ctx) => {
  const o = optionsOf(spec, ctx.runtime);
  const key = o.string('key');
  const path = o.string('path');
  const outside = o.flag('allow_outside_workspace') || ctx.policy.allowOutsideWorkspace === true;
  // Checked on every use, before anything is read or written (see workspacePath).
  const target = () => workspacePath(ctx.runtime.workspace, path, o.path('path'), outside);
  const where = o.path('path');
  const readText = (file: string) => readDotenv(file, where);
  /** The file's text right after this target's last write: when it still reads so, nothing else changed it. */
  let lastWritten: string | undefined;

  /** Sets the key's line (or removes it); `before` (a capture's text, null: no file) allows putting the whole file back. */
  const replace = async (line: string | undefined, before?: string | null) => {
    const path = target();
    const now = await readText(path);
    if (before !== undefined && lastWritten !== undefined && now === lastWritten) {
      // Nothing else touched the file since our write: put back the whole text (or its absence).
      if (before === null) await rm(path, { force: true });
      else await writeAtomically(path, before);
      return;
    }
    const text = withKeyLine(now ?? '', key, line);
    if (text === '' && before === null) await rm(path, { force: true });
    else if (text !== now) await writeAtomically(path, text);
  };

  return {
    label: `file ${path} ${key}`,

    async check() {
      // Creates nothing (a dry run leaves no trace): the nearest existing folder must let us create
      // what is missing below it, and write there.
      const dir = dirname(target());
      const existing = nearestExisting(dir);
      const info = await stat(existing);
      if (!info.isDirectory()) throw new RotationError(`${spec.path}: cannot create folder ${dir}: ${existing} is not a folder`);
      // What is there already must not hold the run: a FIFO would block the first read, a huge
      // file would be read whole. (A folder fails the first read at once, and the write says so.)
      const there = await stat(target()).catch(() => undefined);
      if (there && !there.isDirectory()) refuseUnlikeDotenv(there, where);
      await access(existing, constants.W_OK | constants.X_OK).catch((error: NodeJS.ErrnoException) => {
        throw new RotationError(`${spec.path}: folder ${existing} is not writable (${error.code})`);
      });
    },

    async write(value) {
      const path = target();
      await mkdir(dirname(path), { recursive: true, mode: 0o700 }).catch((error: NodeJS.ErrnoException) => {
        throw new RotationError(`${spec.path}: cannot create folder ${dirname(path)} (${error.code})`);
      });
      await replace(`${key}=${value.reveal()}`);
      lastWritten = await readText(path);
    },

    async read() {
      const line = keyLine(await readText(target()), key);
      const value = line?.slice(key.length + 1);
      return value ? new Secret(value) : undefined;
    },

    async capture() {
      // Unreadable (a folder where the file should be, no permission): nothing to put back; the
      // write reports the problem.
      const before = await readText(target()).then(
        (text) => text ?? null,
        () => undefined,
      );
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

/** The path itself or its closest ancestor that exists (following symlinks). */
function nearestExisting(path: string): string {
  let current = realTarget(path);
  while (!existsSync(current) && dirname(current) !== current) current = dirname(current);
  return current;
}

/** A dotenv file is small: a bigger one is not one, and reading it whole would hold the run. */
export const MAX_DOTENV_BYTES = 1024 * 1024;

/** Refuses what is not a dotenv file: a folder, a FIFO, a device or socket, or a file over MAX_DOTENV_BYTES. */
function refuseUnlikeDotenv(info: Stats, where: string): void {
  if (!info.isFile()) {
    const kind = info.isDirectory() ? 'a folder' : info.isFIFO() ? 'a FIFO' : info.isSocket() ? 'a socket' : 'a device';
    throw new RotationError(`${where}: the path is ${kind}, not a file`, {
      hint: 'point path at a dotenv file (KEY=value lines), or where one may be created',
    });
  }
  if (info.size > MAX_DOTENV_BYTES)
    throw new RotationError(`${where}: the file is ${info.size} bytes, more than a dotenv file of secrets (${MAX_DOTENV_BYTES} at most)`);
}

/** The file's text, or undefined when there is no file; what is not a dotenv file is refused before it is read. */
async function readDotenv(path: string, where: string): Promise<string | undefined> {
  let handle;
  try {
    // O_NONBLOCK: opening a FIFO to read would otherwise wait, without end, for a writer.
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    // Checked on the opened file, so what is read is what was checked.
    refuseUnlikeDotenv(await handle.stat(), where);
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
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
