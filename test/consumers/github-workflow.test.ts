import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { setupServer } from 'msw/node';
import { githubWorkflow } from '../../src/consumers/github-workflow.js';
import { RotationError, describeError } from '../../src/errors/errors.js';
import { Secret } from '../../src/secret/secret.js';
import { createGitHubModel, type GitHubModelOptions } from '../models/github.js';
import type { WorkflowSpec } from '../models/github-actions.js';
import { GITHUB_TEST_TOKEN, targetSpec, testContext, testRuntime } from '../helpers/runtime.js';

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledFrame: 'error' }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

const VALUE = new Secret('value-the-workflow-reads-from-secrets');

function setup(workflow: Partial<WorkflowSpec> = {}, options: Partial<GitHubModelOptions> = {}) {
  const runtime = testRuntime();
  const model = createGitHubModel({
    token: GITHUB_TEST_TOKEN,
    now: runtime.now,
    repos: [{ full_name: 'acme/ops', branches: ['main', 'release'], workflows: [{ file: 'deploy-odoo.yml', id: 4242, ...workflow }] }],
    ...options,
  });
  server.use(...model.handlers);
  const consumer = (opts: Record<string, unknown> = {}) =>
    githubWorkflow(
      targetSpec(
        'github-workflow',
        { repository: 'acme/ops', workflow: 'deploy-odoo.yml', ...opts },
        'credentials.odoo_app.consumers[0].github-workflow',
      ),
      testContext(runtime),
    );
  return { model, runtime, consumer };
}

describe('github-workflow consumer', () => {
  it('dispatches the workflow and waits for its run to succeed', async () => {
    const { model, runtime, consumer } = setup({ pollsToComplete: 3, inputs: ['credential', 'dry'] });
    const c = consumer({ inputs: { credential: 'odoo_app', dry: false } });
    expect(c.label).toBe('github-workflow acme/ops deploy-odoo.yml@main');
    await c.check();
    const result = await c.refresh(VALUE);
    const run = model.workflows.runs[0];
    expect(result).toBe(`deploy-odoo.yml run ${run.id} concluded success (https://github.com/acme/ops/actions/runs/${run.id})`);
    expect(model.workflows.dispatches).toEqual([
      { repository: 'acme/ops', workflow: 'deploy-odoo.yml', ref: 'main', inputs: { credential: 'odoo_app', dry: 'false' }, runId: run.id },
    ]);
    expect(model.count({ method: 'GET', path: `/repos/acme/ops/actions/runs/${run.id}` })).toBe(3);
    expect(runtime.sleeps).toEqual([5000, 5000]);
    expect(JSON.stringify(model.requests)).not.toContain(VALUE.reveal());
  });

  it('accepts a workflow id and a poll interval', async () => {
    const { runtime, consumer } = setup({ pollsToComplete: 2 });
    const c = consumer({ workflow: '4242', ref: 'release', poll_seconds: 2 });
    await c.check();
    await expect(c.refresh(VALUE)).resolves.toMatch(/^4242 run \d+ concluded success/);
    expect(runtime.sleeps).toEqual([2000]);
  });

  it('finds its run in the run list where the API does not return the run id', async () => {
    const { model, consumer } = setup(
      {
        listDelay: 2,
        existingRuns: [
          { created_at: '2026-03-01T02:59:58Z' }, // an earlier dispatch, inside the skew window
          { created_at: '2026-03-01T02:00:00Z' },
          { created_at: '2026-03-01T03:00:01Z', branch: 'release' },
        ],
      },
      { dispatchReturnsRunDetails: false },
    );
    const result = await consumer().refresh(VALUE);
    const dispatched = model.workflows.dispatches[0].runId;
    expect(result).toContain(`run ${dispatched} concluded success`);
    expect(model.count({ method: 'GET', path: '/repos/acme/ops/actions/workflows/deploy-odoo.yml/runs' })).toBe(3);
    const list = model.requests.find((r) => r.path.includes('/runs?'))!;
    expect(decodeURIComponent(list.path)).toMatch(/event=workflow_dispatch&branch=main&created=>=2026-03-01T02:59:50/);
  });

  it('dispatches again without return_run_details where the server refuses that key', async () => {
    const { model, consumer } = setup({}, { dispatchReturnsRunDetails: 'rejects-key' });
    const result = await consumer().refresh(VALUE);
    expect(model.requests.filter((r) => r.method === 'POST').map((r) => r.status)).toEqual([422, 204]);
    expect(model.workflows.dispatches).toHaveLength(1);
    expect(result).toContain(`run ${model.workflows.dispatches[0].runId} concluded success`);
  });

  it('fails with the run URL and conclusion when the run does not succeed', async () => {
    const { model, consumer } = setup({ conclusion: 'failure' });
    const error = await consumer()
      .refresh(VALUE)
      .catch((e: unknown) => e);
    const run = model.workflows.runs[0];
    expect(error).toBeInstanceOf(RotationError);
    expect(describeError(error)).toContain(`run ${run.id} concluded failure (https://github.com/acme/ops/actions/runs/${run.id})`);
  });

  it('times out waiting for a run that never completes, naming the run', async () => {
    const { model, runtime, consumer } = setup({ pollsToComplete: Infinity });
    const error = await consumer({ timeout_minutes: 1, poll_seconds: 10 })
      .refresh(VALUE)
      .catch((e: unknown) => e);
    const run = model.workflows.runs[0];
    expect((error as RotationError).code).toBe('TIMEOUT');
    expect(describeError(error)).toMatch(
      new RegExp(
        `run ${run.id} did not complete within 1 min, last status 'in_progress' \\(https://github.com/acme/ops/actions/runs/${run.id}\\)`,
      ),
    );
    expect(runtime.sleeps.reduce((a, b) => a + b, 0)).toBe(60_000);
  });

  it('times out when no run appears for the dispatch', async () => {
    const { consumer } = setup({ listDelay: 1000 }, { dispatchReturnsRunDetails: false });
    const error = await consumer({ timeout_minutes: 0.5 })
      .refresh(VALUE)
      .catch((e: unknown) => e);
    expect(describeError(error)).toMatch(/no run started by the dispatch on main appeared within 0.5 min/);
  });

  it('retries a transient error while polling', async () => {
    const { model, consumer } = setup({ pollsToComplete: 2 });
    model.failNext({ method: 'GET', path: /\/actions\/runs\/\d+$/ }, { status: 502 });
    model.failNext({ method: 'POST' }, { status: 429, headers: { 'retry-after': '1' } });
    await expect(consumer().refresh(VALUE)).resolves.toContain('concluded success');
    expect(model.workflows.dispatches).toHaveLength(1);
  });

  it('reports an unknown workflow (404) and a disabled one in check()', async () => {
    const { consumer } = setup({ state: 'disabled_manually' });
    const missing = await consumer({ workflow: 'deploy.yml' })
      .check()
      .catch((e: unknown) => e);
    expect(describeError(missing)).toMatch(/workflow deploy\.yml in acme\/ops: HTTP 404.*not found/);
    const disabled = await consumer()
      .check()
      .catch((e: unknown) => e);
    expect(describeError(disabled)).toMatch(/cannot be dispatched: its state is 'disabled_manually'.*gh workflow enable/);
  });

  it('reports a refused dispatch (unknown ref, 422) without retrying', async () => {
    const { model, consumer } = setup();
    const error = await consumer({ ref: 'nope' })
      .refresh(VALUE)
      .catch((e: unknown) => e);
    expect(describeError(error)).toMatch(/HTTP 422 \(No ref found for: nope\)/);
    expect(model.count({ method: 'POST' })).toBe(1);
  });

  it('names the permission when the token may not dispatch (403)', async () => {
    const { consumer } = setup({}, { permissions: { actions: 'read' } });
    const c = consumer();
    await c.check();
    const error = await c.refresh(VALUE).catch((e: unknown) => e);
    expect(describeError(error)).toMatch(/HTTP 403.*"actions: write"/);
  });
});
