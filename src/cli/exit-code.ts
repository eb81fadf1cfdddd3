import { CommanderError } from 'commander';
import { PolicyError } from '../policy/errors.js';
import { RotationError } from '../errors/errors.js';

/**
 * The exit codes of every command (README, docs/troubleshooting.md): 0 done, 1 a check or a change
 * failed, 2 bad usage or a bad policy (the command could not start).
 */

/**
 * RotationError codes that mean bad usage or a bad policy, wherever they are found: `USAGE` (an
 * unknown credential or system, an option value the command cannot take), `OUTSIDE_WORKSPACE`.
 */
export const USAGE_CODES = new Set(['USAGE', 'OUTSIDE_WORKSPACE']);

/** A failure of a command's work (a connection, a query, a write), once it has started: exit 1. */
export class WorkFailed extends Error {
  constructor(readonly failure: unknown) {
    super(failure instanceof Error ? failure.message : String(failure));
    this.name = 'WorkFailed';
  }
}

function isUsage(error: unknown): boolean {
  return (
    error instanceof CommanderError || error instanceof PolicyError || (error instanceof RotationError && USAGE_CODES.has(error.code ?? ''))
  );
}

/**
 * Runs the part of a command that talks to servers and writes: what fails there is a failed
 * change or check (exit 1), except bad usage found on the way (an unknown credential: exit 2).
 */
export async function commandWork<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw isUsage(error) ? error : new WorkFailed(error);
  }
}

/**
 * The exit code of what a command threw. Commander has printed its own message (and help exits
 * 0); a failure inside commandWork exits 1; anything else stopped the command before it started.
 */
export function exitCodeOf(error: unknown): number {
  if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
  return error instanceof WorkFailed ? 1 : 2;
}
