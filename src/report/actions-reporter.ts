import * as core from '@actions/core';
import type { Secret } from '../secret/secret.js';
import { Scrubber } from '../secret/scrubber.js';
import type { Reporter } from './reporter.js';

/** The GitHub Actions log: `::add-mask::`, `::group::`, `::warning::` and `::error::` annotations. */
export class ActionsReporter implements Reporter {
  private readonly scrubber = new Scrubber();

  mask(secret: Secret): void {
    core.setSecret(secret.reveal());
    this.scrubber.add(secret);
  }
  scrub(text: string): string {
    return this.scrubber.scrub(text);
  }
  info(message: string): void {
    core.info(this.scrubber.scrub(message));
  }
  warning(message: string): void {
    core.warning(this.scrubber.scrub(message));
  }
  error(message: string): void {
    core.error(this.scrubber.scrub(message));
  }
  async group<T>(title: string, fn: () => Promise<T>): Promise<T> {
    return core.group(this.scrubber.scrub(title), fn);
  }
}
