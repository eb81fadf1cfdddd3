import type { Secret } from '../secret/secret.js';

/**
 * Where a run tells people what it does: the Actions log (annotations, groups, masks) or a
 * terminal. Every message passes through `scrub`, so a masked value never leaves, whatever the
 * caller wrote.
 */
export interface Reporter {
  /** Registers a value that must never be printed (and `::add-mask::` on a runner). */
  mask(secret: Secret): void;
  info(message: string): void;
  warning(message: string): void;
  error(message: string): void;
  /** Runs `fn` inside a collapsible log group. */
  group<T>(title: string, fn: () => Promise<T>): Promise<T>;
}

/** The masking both reporters share. */
export class Scrubber {
  private readonly values = new Set<string>();

  add(secret: Secret): void {
    const plain = secret.reveal();
    this.values.add(plain);
    // Also the forms a value takes inside URLs and JSON.
    this.values.add(encodeURIComponent(plain));
    this.values.add(JSON.stringify(plain).slice(1, -1));
  }

  scrub(text: string): string {
    let out = text;
    for (const value of this.values) if (value.length >= 4) out = out.split(value).join('***');
    return out;
  }
}

/** Collects messages in memory: for tests and for callers that render their own output. */
export class MemoryReporter implements Reporter {
  readonly lines: string[] = [];
  private readonly scrubber = new Scrubber();

  mask(secret: Secret): void {
    this.scrubber.add(secret);
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
