import { closeSync, constants, fstatSync, lstatSync, mkdirSync, openSync, readdirSync, readSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import type { Policy } from '../policy/types.js';
import { workspacePath } from '../policy/workspace-paths.js';
import { RotationError } from '../errors/errors.js';

/**
 * The evidence folder is read as untrusted input: it is committed to the repository, so a pull
 * request can put anything there (a symlink to /dev/zero, a FIFO, a huge file). Only regular files
 * are read, never through a symlink, each up to a size, and all of them up to a total.
 */

/** A record is a few kilobytes; a file past this is not one. */
export const MAX_RECORD_BYTES = 1024 * 1024;
/** Years of weekly rotations of dozens of credentials fit many times over. */
export const MAX_FOLDER_BYTES = 64 * 1024 * 1024;

export interface FolderLimits {
  fileBytes: number;
  totalBytes: number;
}

export const DEFAULT_LIMITS: FolderLimits = { fileBytes: MAX_RECORD_BYTES, totalBytes: MAX_FOLDER_BYTES };

export interface FolderFile {
  /** The path below the evidence folder, split into its parts. */
  parts: string[];
  /** The path relative to the workspace, for messages. */
  path: string;
  text: string;
}

export interface ReadOptions {
  /** Which folders to enter and which `*.json` files to read, by their parts below the evidence folder. */
  include: (parts: string[], folder: boolean) => boolean;
  /** Called once per entry that is not read, with its path and why. */
  warn?: (message: string) => void;
  limits?: FolderLimits;
}

/**
 * The absolute evidence folder, refused (OUTSIDE_WORKSPACE) when it resolves outside the workspace
 * and the policy did not opt in: plan, status and audit read and write there as rotations do.
 */
export function evidenceRoot(policy: Policy, workspace: string): string {
  return workspacePath(workspace, policy.evidenceDir, 'evidence_dir', policy.allowOutsideWorkspace === true);
}

/**
 * Every regular `*.json` file under `root` that `include` takes, newest folder first (stamps sort
 * by time), so the total limit leaves out the oldest. Symlinks, FIFOs, sockets and devices are
 * named through `warn` and not opened; a missing folder is an empty history.
 */
export function readEvidenceFiles(root: string, workspace: string, options: ReadOptions): FolderFile[] {
  const limits = options.limits ?? DEFAULT_LIMITS;
  const out: FolderFile[] = [];
  const state = { total: 0, skipped: 0 };
  const visit = (parts: string[]) => {
    const dir = join(root, ...parts);
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? 1 : a.name > b.name ? -1 : 0));
    } catch {
      return;
    }
    for (const entry of entries) {
      const at = [...parts, entry.name];
      const path = relative(workspace, join(root, ...at));
      if (entry.isDirectory()) {
        if (options.include(at, true)) visit(at);
        continue;
      }
      if (!entry.name.endsWith('.json') || !options.include(at, false)) continue;
      if (!entry.isFile()) {
        options.warn?.(`${path}: ignored, not a regular file (${kindOf(entry)}); the evidence folder is read without following links`);
        continue;
      }
      if (state.total >= limits.totalBytes) {
        state.skipped++;
        continue;
      }
      const text = readRegularFile(join(root, ...at), path, limits.fileBytes, options.warn);
      if (text === undefined) continue;
      if (state.total + Buffer.byteLength(text) > limits.totalBytes) {
        state.total = limits.totalBytes;
        state.skipped++;
        continue;
      }
      state.total += Buffer.byteLength(text);
      out.push({ parts: at, path, text });
    }
  };
  visit([]);
  if (state.skipped > 0) {
    options.warn?.(
      `${relative(workspace, root) || '.'}: ${state.skipped} older file(s) not read: the files read so far reach the limit of ${limits.totalBytes} bytes for the whole folder`,
    );
  }
  return out;
}

/**
 * A regular file's text, opened without following a link and without blocking (a FIFO swapped in
 * after the listing opens at once and is refused by fstat); undefined, with a warning, when it is
 * not a regular file or is larger than `fileBytes`.
 */
function readRegularFile(file: string, path: string, fileBytes: number, warn?: (message: string) => void): string | undefined {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    warn?.(`${path}: ignored, cannot be opened (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    return undefined;
  }
  try {
    const info = fstatSync(fd);
    if (!info.isFile()) {
      warn?.(`${path}: ignored, not a regular file`);
      return undefined;
    }
    // At most fileBytes + 1 bytes, whatever the size said: a file that grew since is cut short.
    const buffer = Buffer.alloc(Math.min(info.size, fileBytes) + 1);
    let length = 0;
    for (let n; length < buffer.length && (n = readSync(fd, buffer, length, buffer.length - length, null)) > 0;) length += n;
    if (length > fileBytes) {
      warn?.(`${path}: ignored, over the limit of ${fileBytes} bytes for one record`);
      return undefined;
    }
    return buffer.subarray(0, length).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

function kindOf(entry: {
  isSymbolicLink(): boolean;
  isFIFO(): boolean;
  isSocket(): boolean;
  isBlockDevice(): boolean;
  isCharacterDevice(): boolean;
}): string {
  if (entry.isSymbolicLink()) return 'a symbolic link';
  if (entry.isFIFO()) return 'a FIFO';
  if (entry.isSocket()) return 'a socket';
  if (entry.isBlockDevice() || entry.isCharacterDevice()) return 'a device';
  return 'not a file';
}

/**
 * `<root>/<part>/<part>…`, created folder by folder, each checked to be a real folder: a symlink
 * committed inside the evidence folder must not carry a record (rotation or audit) elsewhere.
 */
export function recordFolder(root: string, ...parts: string[]): string {
  let dir = resolve(root);
  mkdirSync(dir, { recursive: true });
  for (const part of parts) {
    dir = join(dir, part);
    try {
      mkdirSync(dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    if (!lstatSync(dir).isDirectory()) {
      throw new RotationError(
        `${dir}: not a folder (a symbolic link or a file) inside the evidence folder: no record is written through it`,
        {
          hint: 'remove it; records are written only into real folders below evidence_dir',
          code: 'OUTSIDE_WORKSPACE',
        },
      );
    }
  }
  return dir;
}
