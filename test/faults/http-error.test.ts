import { describe, expect, it } from 'vitest';
import { httpError } from '../../src/http/http-error.js';

describe('which HTTP failures are retried', () => {
  const retry = (status: number, headers: Record<string, string> = {}, body?: string) => {
    const e = httpError('GitHub: write secret X', status, headers, body, { now: Date.now }) as ReturnType<typeof httpError> & {
      retryAfterMs?: number;
    };
    return { retryable: e.retryable, after: e.retryAfterMs };
  };

  it('retries 429 and 5xx, honouring Retry-After', () => {
    expect(retry(429, { 'retry-after': '7' })).toEqual({ retryable: true, after: 7000 });
    expect(retry(502)).toEqual({ retryable: true, after: undefined });
  });

  it("retries GitHub's secondary rate limit, with or without headers, and no other 403", () => {
    expect(retry(403, { 'retry-after': '30' }).retryable).toBe(true);
    expect(retry(403, {}, JSON.stringify({ message: 'You have exceeded a secondary rate limit. Please wait a few minutes.' }))).toEqual({
      retryable: true,
      after: 60_000,
    });
    expect(retry(403, {}, JSON.stringify({ message: 'Resource not accessible by integration' })).retryable).toBe(false);
  });

  it('never retries the other 4xx', () => {
    for (const status of [400, 401, 404, 409, 422]) expect(retry(status).retryable).toBe(false);
  });
});
