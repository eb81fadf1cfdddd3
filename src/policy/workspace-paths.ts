import { lstatSync, readlinkSync, realpathSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { RotationError } from '../errors/errors.js';

/**
 * Where a path of the policy really lands: the realpath of its nearest existing ancestor (so a
 * symlink anywhere on the way counts, dangling ones too), plus the parts still to be created.
 * Hand-written: Node's realpath needs the whole path to exist.
 */
export function realTarget(path: string): string {
  let current = resolve(path);
  const rest: string[] = [];
  for (let hops = 0; hops < 64; hops++) {
    try {
      return join(realpathSync(current), ...rest);
    } catch (error) {
      // Missing, or a file where a folder should be (reported by the store's check).
      if (!['ENOENT', 'ENOTDIR'].includes((error as NodeJS.ErrnoException).code ?? '')) throw error;
    }
    const link = lstatOrUndefined(current);
    if (link?.isSymbolicLink()) {
      // A dangling symlink: what is created through it lands where it points.
      current = resolve(dirname(current), readlinkSync(current));
      continue;
    }
    const parent = dirname(current);
    if (parent === current) return join(current, ...rest);
    rest.unshift(basename(current));
    current = parent;
  }
  throw new RotationError(`${path}: too many symbolic links on the way`);
}

function lstatOrUndefined(path: string) {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}

/**
 * The absolute path of `path` (relative to the workspace), refused before anything is written when
 * it resolves outside the workspace and the policy did not opt in: a policy changed in a pull
 * request must not make a runner write secrets or evidence elsewhere on its disk.
 */
export function workspacePath(workspace: string, path: string, key: string, allowOutside = false): string {
  const absolute = resolve(workspace, path);
  if (allowOutside) return absolute;
  const root = realTarget(workspace);
  const real = realTarget(absolute);
  const rel = relative(root, real);
  if (rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel))) return absolute;
  throw new RotationError(`${key}: ${JSON.stringify(path)} resolves to ${real}, outside the workspace ${root}`, {
    hint: 'use a path inside the workspace, or set allow_outside_workspace: true (on the file target, or at the top of the policy) if that is intended; nothing was changed',
    code: 'OUTSIDE_WORKSPACE',
  });
}
