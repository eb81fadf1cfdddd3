/**
 * At most `limit` calls in any `windowMs`: take() waits, on the run's clock, until one more fits.
 * For GitHub's secondary rate limit on content-creating requests (POST, PATCH, PUT, DELETE: 80 a
 * minute, "Rate limits for the REST API"): a burst of updates is paced before GitHub has to refuse
 * it, rather than retried after a 403 that asks for a minute's wait.
 */
export class RateWindow {
  private readonly times: number[] = [];

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly clock: { now: () => number; sleep: (ms: number) => Promise<void> },
  ) {}

  async take(): Promise<void> {
    for (;;) {
      const now = this.clock.now();
      while (this.times.length > 0 && this.times[0] <= now - this.windowMs) this.times.shift();
      if (this.times.length < this.limit) {
        this.times.push(now);
        return;
      }
      await this.clock.sleep(this.times[0] + this.windowMs - now);
    }
  }
}
