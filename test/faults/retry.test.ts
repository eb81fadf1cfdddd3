// The retry policy every adapter shares: transient failures retried with jittered backoff, the
// server's Retry-After honoured, every other 4xx thrown at once, every wait bounded.
import { describe, expect, it } from 'vitest';
import { withRetry } from '../../src/http/retry.js';
import { httpError, networkError } from '../../src/http/http-error.js';

function failing(errors: Error[]) {
  let calls = 0;
  const fn = async () => {
    const error = errors[calls++];
    if (error) throw error;
    return 'ok';
  };
  return { fn, calls: () => calls };
}
const sleeps = () => {
  const waits: number[] = [];
  return { waits, sleep: async (ms: number) => void waits.push(ms) };
};

describe('withRetry', () => {
  it.each([401, 403, 404, 422])('never retries HTTP %i', async (status) => {
    const { fn, calls } = failing([httpError('GitHub: write secret X', status, {}, undefined, { now: Date.now })]);
    const { waits, sleep } = sleeps();
    await expect(withRetry(fn, { now: Date.now, sleep })).rejects.toThrow(`HTTP ${status}`);
    expect(calls()).toBe(1);
    expect(waits).toEqual([]);
  });

  it('retries 5xx, resets and timeouts with jittered exponential backoff, each wait under its bound', async () => {
    const errors = [
      httpError('x', 502, {}, undefined, { now: Date.now }),
      networkError('x', new TypeError('fetch failed')),
      networkError('x', new DOMException('t', 'TimeoutError')),
    ];
    const { fn, calls } = failing(errors);
    const { waits, sleep } = sleeps();
    expect(await withRetry(fn, { now: Date.now, sleep, baseDelayMs: 1000, maxDelayMs: 3000 })).toBe('ok');
    expect(calls()).toBe(4);
    expect(waits).toHaveLength(3);
    waits.forEach((w, i) => expect(w).toBeLessThanOrEqual(Math.min(3000, 1000 * 2 ** i)));
  });

  it('gives up after the attempts it was given, with the last error', async () => {
    const { fn, calls } = failing(Array.from({ length: 9 }, (_, i) => httpError(`try ${i + 1}`, 503, {}, undefined, { now: Date.now })));
    await expect(withRetry(fn, { now: Date.now, attempts: 3, sleep: sleeps().sleep })).rejects.toThrow('try 3: HTTP 503');
    expect(calls()).toBe(3);
  });

  it("waits exactly what a 429's Retry-After asks", async () => {
    const { fn } = failing([httpError('x', 429, { 'retry-after': '7' }, undefined, { now: Date.now })]);
    const { waits, sleep } = sleeps();
    await withRetry(fn, { now: Date.now, sleep });
    expect(waits).toEqual([7000]);
  });

  it("honours GitHub's rate limits: a 403 with retry-after, or with x-ratelimit-remaining 0 until the reset", async () => {
    const reset = Math.ceil(Date.now() / 1000) + 20;
    const { fn, calls } = failing([
      httpError('x', 403, { 'retry-after': '60' }, undefined, { now: Date.now }),
      httpError('x', 403, { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(reset) }, undefined, { now: Date.now }),
    ]);
    const { waits, sleep } = sleeps();
    expect(await withRetry(fn, { now: Date.now, sleep })).toBe('ok');
    expect(calls()).toBe(3);
    expect(waits[0]).toBe(60_000);
    expect(waits[1]).toBeGreaterThan(15_000);
    expect(waits[1]).toBeLessThanOrEqual(21_000);
  });

  it('does not wait out a Retry-After longer than its bound: it fails at once', async () => {
    const { fn, calls } = failing([httpError('GitHub: write secret X', 429, { 'retry-after': '3600' }, undefined, { now: Date.now })]);
    const { waits, sleep } = sleeps();
    await expect(withRetry(fn, { now: Date.now, sleep })).rejects.toThrow('HTTP 429');
    expect([calls(), waits]).toEqual([1, []]);
  });

  it('never waits past the deadline', async () => {
    const { fn, calls } = failing([httpError('x', 429, { 'retry-after': '30' }, undefined, { now: Date.now })]);
    const { waits, sleep } = sleeps();
    await expect(withRetry(fn, { sleep, now: () => 1_000, deadline: 20_000 })).rejects.toThrow('HTTP 429');
    expect([calls(), waits]).toEqual([1, []]);
  });
});
