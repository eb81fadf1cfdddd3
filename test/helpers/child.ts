import { spawn, type ChildProcess } from 'node:child_process';

/**
 * The one way the tests run a child process (dist/index.js, dist/post.js, dist/cli.js, npm):
 * collects stdout and stderr, and lets the caller watch stdout as it arrives (to kill the child
 * at a given line, deterministically) or close it at once (a reader that went away).
 */
export interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface StartOptions {
  env: NodeJS.ProcessEnv;
  cwd?: string;
  /** Killed after this long (ms), as a hung child would be by the runner. */
  timeout?: number;
  /** Called with everything read so far on each chunk of stdout. */
  onStdout?: (stdout: string, child: ChildProcess) => void;
  /** Destroys the child's stdout at once, like `| head` having exited. */
  closeStdout?: boolean;
}

export function startChild(command: string, args: string[], options: StartOptions): { child: ChildProcess; done: Promise<ChildResult> } {
  const child = spawn(command, args, { cwd: options.cwd, env: options.env, timeout: options.timeout, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  if (options.closeStdout) child.stdout!.destroy();
  else {
    child.stdout!.on('data', (d) => {
      stdout += d;
      options.onStdout?.(stdout, child);
    });
  }
  child.stderr!.on('data', (d) => (stderr += d));
  const done = new Promise<ChildResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, done };
}

export const runChild = (command: string, args: string[], options: StartOptions): Promise<ChildResult> =>
  startChild(command, args, options).done;

/** `node <args>` on the Node that runs the tests (the action's runtime). */
export const runNode = (args: string[], options: StartOptions): Promise<ChildResult> => runChild(process.execPath, args, options);
