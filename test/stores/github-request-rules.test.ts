import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import { githubStore } from '../../src/stores/github.js';
import { describeError, type RotationError } from '../../src/errors/errors.js';
import { boundedRuntime } from '../../src/runtime/deadline.js';
import { Secret } from '../../src/secret/secret.js';
import { createGitHubModel, type Fault } from '../models/github.js';
import { GITHUB_BASE_URL, GITHUB_TEST_TOKEN, targetSpec, testContext, testRuntime } from '../helpers/runtime.js';

/**
 * GitHub's calls follow the rules of every HTTP call of a run (src/http/request.ts, retry.ts): a
 * rate limit is waited out on the run's clock and never past its deadline, and a redirect is not
 * followed, so the token never reaches the host it points to.
 */
const server = setupServer();
beforeAll(() => server.listen({ onUnhandledFrame: 'error' }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

const PLAIN = 'n3w-Pa55word-for-odoo_app-7f3a9c';
const START = new Date('2026-03-01T03:00:00Z');

function setup(deadlineAfterMs?: number) {
  const model = createGitHubModel({ token: GITHUB_TEST_TOKEN, repos: [{ full_name: 'acme/ops' }] });
  server.use(...model.handlers);
  const test = testRuntime({ startAt: START, ...(deadlineAfterMs ? { deadline: START.getTime() + deadlineAfterMs } : {}) });
  const runtime = boundedRuntime(test);
  const store = githubStore(targetSpec('github', { repository: 'acme/ops', secret: 'ODOO_DB_PASSWORD' }), testContext(runtime));
  return { model, test, store };
}

describe('GitHub calls: the run’s deadline and redirects', () => {
  it.each<[string, Fault]>([
    ['429 with Retry-After', { status: 429, headers: { 'retry-after': '60' } }],
    [
      'a 403 secondary rate limit with Retry-After',
      { status: 403, message: 'You have exceeded a secondary rate limit. Please wait a few minutes.', headers: { 'retry-after': '60' } },
    ],
  ])('a secret write answered %s is retried on the run’s clock and stops at its deadline', async (_name, fault) => {
    const { model, test, store } = setup(150_000);
    model.failNext({ method: 'PUT' }, fault, 10);
    const error = await store.write(new Secret(PLAIN)).catch((e: unknown) => e);
    expect((error as RotationError).code).toBe('DEADLINE');
    expect(describeError(error)).toMatch(/the run's deadline \(2026-03-01T03:02:30\.000Z\) passed at a wait of 60 s/);
    // Two waits of 60 s on the run's (fake) clock; the third would end past the deadline.
    expect(test.sleeps).toEqual([60_000, 60_000]);
    expect(test.now().getTime() - START.getTime()).toBe(120_000);
    expect(model.count({ method: 'PUT' })).toBe(3);
    expect(test.reporter.lines.filter((l) => /warning: GitHub: write secret ODOO_DB_PASSWORD .*retry \d in 60s/.test(l))).toHaveLength(3);
    expect(model.secretValue({ repository: 'acme/ops', name: 'ODOO_DB_PASSWORD' })).toBeUndefined();
  });

  it('does not follow a redirect to another host: the call fails, and that host sees no request (nor the token)', async () => {
    const { model, test, store } = setup();
    const elsewhere: Request[] = [];
    server.use(
      http.put(`${GITHUB_BASE_URL}/repos/acme/ops/actions/secrets/:name`, () =>
        HttpResponse.text('', { status: 302, headers: { location: 'https://collector.example.net/secrets' } }),
      ),
      http.all('https://collector.example.net/*', ({ request }) => {
        elsewhere.push(request);
        return HttpResponse.json({}, { status: 201 });
      }),
    );
    const error = await store.write(new Secret(PLAIN)).catch((e: unknown) => e);
    expect(describeError(error)).toMatch(
      /GitHub: write secret ODOO_DB_PASSWORD in repository acme\/ops: HTTP 302.*redirect, which is not followed/,
    );
    expect((error as RotationError).retryable).toBe(false);
    expect(elsewhere).toEqual([]);
    expect(test.sleeps).toEqual([]);
    expect(model.secretValue({ repository: 'acme/ops', name: 'ODOO_DB_PASSWORD' })).toBeUndefined();
  });
});
