import type { Octokit } from '@octokit/rest';
import type { AdapterFactory } from '../adapters/context.js';
import { RotationError } from '../errors/errors.js';
import { githubCall } from '../github/errors.js';
import { statusOf, type StatusHints } from '../http/http-error.js';
import { optionsOf } from '../adapters/options.js';
import type { Consumer } from './consumer.js';

interface Run {
  id: number;
  status: string | null;
  conclusion: string | null;
  html_url: string;
  created_at: string;
}

/** A run may be stamped up to this much before our clock read the dispatch time. */
const CLOCK_SKEW_MS = 10_000;
/** Empty run-list polls before a run inside the skew window is accepted. */
const LIST_GRACE_POLLS = 3;

/**
 * Refreshes a consumer by dispatching a workflow (a deploy that reads the rotated secret) and
 * waiting for that run to conclude. The dispatch asks for the run id (`return_run_details`);
 * where the API does not return it (older GitHub Enterprise Server), the run is found among the
 * workflow's `workflow_dispatch` runs on the ref created at or after the dispatch.
 */
export const githubWorkflow: AdapterFactory<Consumer> = (spec, ctx) => {
  const { runtime } = ctx;
  const o = optionsOf(spec, runtime);
  const repository = o.string('repository');
  const match = /^([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+)$/.exec(repository);
  if (!match) throw new RotationError(`${spec.path}.repository: expected owner/name, got '${repository}'`);
  const [, owner, repo] = match;
  const workflowOption = o.value('workflow');
  const workflow = typeof workflowOption === 'number' ? String(workflowOption) : o.string('workflow');
  // A numeric id goes into the URL as a number; a file name as itself (Octokit URL-encodes it).
  const workflow_id: string | number = /^\d+$/.test(workflow) ? Number(workflow) : workflow;
  const ref = o.optionalString('ref') ?? 'main';
  const inputs = parseInputs(o.mapping('inputs'), spec.path);
  const timeoutMs = o.number('timeout_minutes', 30) * 60_000;
  const pollMs = o.number('poll_seconds', 5) * 1000;
  const label = `github-workflow ${owner}/${repo} ${workflow}@${ref}`;
  const where = `workflow ${workflow} in ${owner}/${repo}`;
  const hints: StatusHints = {
    401: 'GitHub rejected the token (bad credentials, expired or revoked)',
    403: `the token may not run workflows in ${owner}/${repo}: it needs the repository permission "actions: write"`,
    404: `${where} was not found: check the file name under .github/workflows (or the id) and that the token can see ${owner}/${repo}`,
  };

  let octokit: Promise<Octokit> | undefined;
  const client = (): Promise<Octokit> => {
    if (!runtime.githubToken) {
      throw new RotationError(`${spec.path}: no GitHub token to dispatch ${where}`, {
        hint: 'pass github-token: a token with "actions: write" on the repository',
        code: 'NO_GITHUB_TOKEN',
      });
    }
    return (octokit ??= runtime.github(runtime.githubToken, runtime));
  };

  const getRun = async (id: number): Promise<Run> =>
    (
      await githubCall(
        runtime,
        `GitHub: read run ${id} of ${where}`,
        async () => (await client()).rest.actions.getWorkflowRun({ owner, repo, run_id: id }),
        hints,
      )
    ).data as Run;

  /**
   * The fallback: the run this dispatch started, from the workflow's list of runs. GitHub stamps
   * runs to the second, so the dispatch time is floored to the second. A run stamped just before
   * it (clock skew between this machine and GitHub) is taken only after `grace` empty polls,
   * since the list lags and an earlier dispatch by someone else may be what sits in that window.
   */
  const findRun = async (dispatchedAt: number, lenient: boolean): Promise<Run | undefined> => {
    const threshold = Math.floor(dispatchedAt / 1000) * 1000;
    const since = new Date(threshold - CLOCK_SKEW_MS).toISOString().replace(/\.\d+Z$/, 'Z');
    const response = await githubCall(
      runtime,
      `GitHub: list runs of ${where}`,
      async () =>
        (await client()).rest.actions.listWorkflowRuns({
          owner,
          repo,
          workflow_id,
          event: 'workflow_dispatch',
          branch: ref,
          created: `>=${since}`,
          per_page: 50,
        }),
      hints,
    );
    const runs = (response.data.workflow_runs as Run[])
      .filter((run) => Date.parse(run.created_at) >= threshold - CLOCK_SKEW_MS)
      .sort(byCreated);
    const after = runs.filter((run) => Date.parse(run.created_at) >= threshold);
    return after[0] ?? (lenient ? runs.at(-1) : undefined);
  };

  /** The run the last refresh waited for, re-read by prove(). */
  let proven: Run | undefined;

  return {
    label,

    // GitHub offers no call that proves "actions: write" without dispatching a run (no dry run,
    // no permission read for installation tokens): the preflight proves the workflow exists, the
    // token can read it, and it is active. docs/consumers.md says so.
    async check() {
      const response = await githubCall(
        runtime,
        `GitHub: read ${where}`,
        async () => (await client()).rest.actions.getWorkflow({ owner, repo, workflow_id }),
        hints,
      );
      if (response.data.state !== 'active') {
        throw new RotationError(`${where} cannot be dispatched: its state is '${response.data.state}'`, {
          hint: `enable it (Actions tab, or: gh workflow enable ${workflow} -R ${owner}/${repo})`,
        });
      }
    },

    async refresh() {
      const gh = await client();
      const started = runtime.now().getTime();
      const deadline = started + timeoutMs;
      // Retried like every GitHub call, though a dispatch is not idempotent: a retry after a lost
      // answer may start a second run, which deploys the same stored value, and the run followed
      // is one this refresh started either way (the id returned, or the first listed after `started`).
      const dispatchOnce = (askForRun: boolean) =>
        githubCall(
          runtime,
          `GitHub: dispatch ${where} on ${ref}`,
          () =>
            gh.rest.actions.createWorkflowDispatch({
              owner,
              repo,
              workflow_id,
              ref,
              inputs,
              ...(askForRun ? { return_run_details: true } : {}),
            }),
          {
            ...hints,
            422: `GitHub refused to dispatch ${where}: the workflow needs a workflow_dispatch trigger, the ref '${ref}' must exist, and inputs must be declared by the workflow`,
          },
        );
      // A server that predates `return_run_details` and validates keys refuses it with 422, and
      // starts no run: dispatch again without it and find the run in the list.
      const dispatch = await dispatchOnce(true).catch((error: unknown) => {
        if (statusOf(error) === 422 && error instanceof Error && error.message.includes('return_run_details')) return dispatchOnce(false);
        throw error;
      });
      const details =
        (dispatch.status as number) === 200 ? (dispatch.data as { workflow_run_id?: number; html_url?: string } | undefined) : undefined;
      let runId = details?.workflow_run_id;
      let runUrl = details?.html_url;

      const expired = () => runtime.now().getTime() >= deadline;
      const wait = async () => {
        if (runtime.signal?.aborted) throw new RotationError(`waiting for ${where}: cancelled`, { code: 'CANCELLED' });
        await runtime.sleep(Math.max(0, Math.min(pollMs, deadline - runtime.now().getTime())));
      };

      for (let polls = 0; runId === undefined; polls++) {
        const run = await findRun(started, polls >= LIST_GRACE_POLLS);
        if (run) {
          runId = run.id;
          runUrl = run.html_url;
          break;
        }
        if (expired()) {
          throw new RotationError(`${where}: no run started by the dispatch on ${ref} appeared within ${timeoutMs / 60_000} min`, {
            hint: `look for it under https://github.com/${owner}/${repo}/actions`,
            code: 'TIMEOUT',
          });
        }
        await wait();
      }

      for (;;) {
        const run = await getRun(runId);
        runUrl = run.html_url || runUrl;
        if (run.status === 'completed') {
          if (run.conclusion === 'success') {
            proven = run;
            return `${workflow} run ${run.id} concluded success (${runUrl})`;
          }
          throw new RotationError(`${where}: run ${run.id} concluded ${run.conclusion ?? 'without a conclusion'} (${runUrl})`, {
            hint: 'the consumer did not pick up the new value: read the run log, fix, and rerun the rotation',
          });
        }
        if (expired()) {
          throw new RotationError(
            `${where}: run ${runId} did not complete within ${timeoutMs / 60_000} min, last status '${run.status}' (${runUrl})`,
            {
              hint: 'raise timeout_minutes or check why the run is slow or waiting (environment approval, runner queue)',
              code: 'TIMEOUT',
            },
          );
        }
        await wait();
      }
    },

    async prove() {
      if (!proven) throw new RotationError(`${where}: no concluded run to prove`);
      // Read back from GitHub: the run that read the stored secret, as GitHub records it now.
      const run = await getRun(proven.id);
      if (run.conclusion !== 'success')
        throw new RotationError(`${where}: run ${run.id} reads back as ${run.conclusion ?? run.status}, not success`);
      return {
        proof: 'read-back',
        detail: `run ${run.id} of ${workflow}, which reads the stored secret, reads back as concluded success (${run.html_url || proven.html_url})`,
      };
    },
  };
};

function byCreated(a: Run, b: Run): number {
  return Date.parse(a.created_at) - Date.parse(b.created_at) || a.id - b.id;
}

function parseInputs(value: Record<string, unknown> | undefined, path: string): Record<string, string> | undefined {
  if (value === undefined) return undefined;
  const out: Record<string, string> = {};
  for (const [key, v] of Object.entries(value)) {
    if (!['string', 'number', 'boolean'].includes(typeof v))
      throw new RotationError(`${path}.inputs.${key}: expected a string, number or boolean`);
    out[key] = String(v);
  }
  return out;
}
