// The overall deadline of a run: a consumer that would be waited on forever, or a rate limit that
// asks for more time than is left, ends the run with a clear message, and the credential consistent.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setupServer } from 'msw/node';
import { parsePolicy } from '../../src/registry/load-policy.js';
import { rotateCredential } from '../../src/engine/rotate.js';
import { createSupabaseModel } from '../models/supabase.js';
import { createGitHubModel } from '../models/github.js';
import { GITHUB_TEST_TOKEN, testRuntime } from '../helpers/runtime.js';
import { REF, supabaseSystemYaml } from '../helpers/supabase.js';
import { rotationRequest } from '../helpers/request.js';

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledFrame: 'error' }));
afterAll(() => server.close());

const PAT = 'sbp_deadline0123456789abcdef0123456789abcdef';
const POLICY = `
version: 1
systems:
${supabaseSystemYaml(REF)}credentials:
  service_key:
    system: supabase-ssot
    method: supabase-secret-key
    key_name: service_key
    cadence: quarterly
    current: \${CURRENT}
    store:
      - github: { repository: acme/ops, secret: SUPABASE_SECRET_KEY }
    consumers:
      # Ten hours: far past the run's deadline.
      - github-workflow: { repository: acme/ops, workflow: deploy.yml, timeout_minutes: 600 }
`;

function world(pollsToComplete: number) {
  const runtime = testRuntime();
  runtime.deadline = runtime.now().getTime() + 30 * 60_000;
  const sb = createSupabaseModel({
    token: PAT,
    now: runtime.now,
    projects: [{ ref: REF, keys: [{ name: 'service_key', type: 'secret' }] }],
  });
  const gh = createGitHubModel({
    token: GITHUB_TEST_TOKEN,
    now: runtime.now,
    repos: [{ full_name: 'acme/ops', workflows: [{ file: 'deploy.yml', pollsToComplete }] }],
  });
  server.resetHandlers(...sb.handlers, ...gh.handlers);
  const old = sb.key(REF, 'service_key')!.api_key;
  const policy = parsePolicy(POLICY, '.github/rotation.yaml', { SUPABASE_ACCESS_TOKEN: PAT, CURRENT: old });
  const run = () => rotateCredential(policy, rotationRequest('service_key'), runtime);
  const live = (value: string | undefined) => value !== undefined && sb.project(REF).keys.some((k) => k.api_key === value);
  const stored = () => gh.secretValue({ repository: 'acme/ops', name: 'SUPABASE_SECRET_KEY' });
  return { runtime, sb, gh, old, run, live, stored };
}

describe('the run deadline', () => {
  it('stops a run that would wait on a workflow forever, says so, and leaves the credential consistent', async () => {
    const w = world(Infinity);
    const result = await w.run();

    expect(result.status).toBe('failed');
    expect(result.summary).toMatch(
      /^refreshing github-workflow acme\/ops deploy\.yml@main failed: the run's deadline \(2026-03-01T03:30:00\.000Z\) passed at a wait of 5 s/,
    );
    expect(result.summary).toContain('raise the deadline (input deadline-minutes');
    // It waited up to the deadline and not a moment past it.
    const waited = w.runtime.sleeps.reduce((a, b) => a + b, 0);
    expect(waited).toBeLessThanOrEqual(30 * 60_000);
    expect(waited).toBeGreaterThan(29 * 60_000);
    // Consistent: the store holds the new key, which works; the old one still works too (not revoked).
    const fresh = w.stored();
    expect(fresh).not.toBe(w.old);
    expect(w.live(fresh)).toBe(true);
    expect(w.live(w.old)).toBe(true);
    expect(result.record.steps.map((s) => `${s.step}:${s.outcome}`)).toEqual([
      'preflight:ok',
      'generate:ok',
      'store:ok',
      'apply:ok',
      'verify:ok',
      'consumers:failed',
      'health:skipped',
      'revoke:skipped',
      'evidence:ok',
    ]);
    expect(result.evidencePath).toBeDefined();
    expect(JSON.stringify(result) + w.runtime.reporter.lines.join('\n')).not.toContain(fresh!);
  });

  it('fails at once when a rate limit asks for a wait past the deadline, before anything is written', async () => {
    const w = world(1);
    w.runtime.deadline = w.runtime.now().getTime() + 30_000;
    // GitHub's secondary rate limit on the secret write: come back in 90 s, with 30 s left.
    w.gh.failNext(
      { method: 'PUT' },
      { status: 403, headers: { 'retry-after': '90' }, message: 'You have exceeded a secondary rate limit' },
    );
    const result = await w.run();

    expect(result.status).toBe('failed');
    expect(result.summary).toMatch(/writing github acme\/ops SUPABASE_SECRET_KEY failed: the run's deadline .* passed at a wait of 90 s/);
    expect(w.runtime.sleeps).toEqual([]);
    // Backed out: the unused new key is deleted, the store and the old key as before.
    expect(w.stored()).toBeUndefined();
    expect(w.live(w.old)).toBe(true);
    expect(w.sb.project(REF).keys.filter((k) => k.type === 'secret')).toHaveLength(1);
  });

  it('a run with time left waits out the same rate limit and rotates', async () => {
    const w = world(1);
    w.gh.failNext(
      { method: 'PUT' },
      { status: 403, headers: { 'retry-after': '90' }, message: 'You have exceeded a secondary rate limit' },
    );
    const result = await w.run();
    expect(result.summary).toMatch(/^rotated/);
    expect(w.runtime.sleeps).toContain(90_000);
    expect(w.live(w.stored())).toBe(true);
    expect(w.live(w.old)).toBe(false);
  });
});
