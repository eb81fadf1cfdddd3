import type { Secret } from '../secret/secret.js';
import { Scrubber } from '../secret/scrubber.js';
import type { Reporter } from './reporter.js';

/** A terminal: plain lines on stdout, warnings and errors on stderr. */
export class ConsoleReporter implements Reporter {
  private readonly scrubber = new Scrubber();
  private indent = '';

  constructor(
    private readonly out: NodeJS.WritableStream = process.stdout,
    private readonly err: NodeJS.WritableStream = process.stderr,
  ) {}

  mask(secret: Secret): void {
    this.scrubber.add(secret);
  }
  scrub(text: string): string {
    return this.scrubber.scrub(text);
  }
  info(message: string): void {
    this.out.write(`${this.indent}${this.scrubber.scrub(message)}\n`);
  }
  warning(message: string): void {
    this.err.write(`${this.indent}warning: ${this.scrubber.scrub(message)}\n`);
  }
  error(message: string): void {
    this.err.write(`${this.indent}error: ${this.scrubber.scrub(message)}\n`);
  }
  async group<T>(title: string, fn: () => Promise<T>): Promise<T> {
    this.out.write(`${this.indent}▸ ${this.scrubber.scrub(title)}\n`);
    const previous = this.indent;
    this.indent += '  ';
    try {
      return await fn();
    } finally {
      this.indent = previous;
    }
  }
}
