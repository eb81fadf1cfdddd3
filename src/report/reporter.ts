import type { Secret } from '../secret/secret.js';
import { Scrubber } from '../secret/scrubber.js';

/**
 * Where a run tells people what it does: the Actions log (annotations, groups, masks) or a
 * terminal. Every message passes through `scrub`, so a masked value never leaves, whatever the
 * caller wrote.
 */
export interface Reporter {
  /** Registers a value that must never be printed (and `::add-mask::` on a runner). */
  mask(secret: Secret): void;
  /**
   * The run's one scrubber (src/secret/scrubber.ts) applied to text bound for any other sink: the
   * job summary, outputs, state, evidence, a thrown message.
   */
  scrub(text: string): string;
  info(message: string): void;
  warning(message: string): void;
  error(message: string): void;
  /** Runs `fn` inside a collapsible log group. */
  group<T>(title: string, fn: () => Promise<T>): Promise<T>;
}

export { Scrubber } from '../secret/scrubber.js';

/** Collects messages in memory: for tests and for callers that render their own output. */
export class MemoryReporter implements Reporter {
  readonly lines: string[] = [];
  private readonly scrubber = new Scrubber();

  mask(secret: Secret): void {
    this.scrubber.add(secret);
  }
  scrub(text: string): string {
    return this.scrubber.scrub(text);
  }
  info(message: string): void {
    this.lines.push(this.scrubber.scrub(message));
  }
  warning(message: string): void {
    this.lines.push(`warning: ${this.scrubber.scrub(message)}`);
  }
  error(message: string): void {
    this.lines.push(`error: ${this.scrubber.scrub(message)}`);
  }
  async group<T>(title: string, fn: () => Promise<T>): Promise<T> {
    this.lines.push(`[${this.scrubber.scrub(title)}]`);
    return fn();
  }
}
