import { runNode } from './child.js';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const CLI = join(ROOT, 'dist/cli.js');

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `node dist/cli.js <args>` (run `npm run build` first) with only the given environment (plus PATH). */
export function cli(args: string[], env: Record<string, string> = {}, cwd = ROOT): Promise<CliRun> {
  return runNode([CLI, ...args], { cwd, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env } });
}
