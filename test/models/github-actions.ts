import { HttpResponse } from 'msw';
import type { OpenApiChecker } from './openapi/validator.js';
import { errorResponse, type Permission, type Repo, type RepoSpec, type TokenPermissions } from './github.js';

/** The workflow part of the GitHub model: workflows, `workflow_dispatch`, runs and their polling. */

export interface WorkflowSpec {
  /** File name under .github/workflows, e.g. deploy-odoo.yml */
  file: string;
  id?: number;
  name?: string;
  /** active | disabled_manually | disabled_inactivity | deleted (default active) */
  state?: string;
  /** How a dispatched run concludes (default success). */
  conclusion?: string;
  /** GETs of a run before it reports completed (default 2; Infinity never completes). */
  pollsToComplete?: number;
  /** Declared workflow_dispatch inputs; when given, others are refused with 422 like GitHub does. */
  inputs?: string[];
  /** List calls before a new run shows up in the run list (GitHub's list lags behind). */
  listDelay?: number;
  /** Runs that exist before the test starts (completed). */
  existingRuns?: { created_at: string; branch?: string; event?: string; conclusion?: string }[];
}

export interface ModelRun {
  id: number;
  workflow_id: number;
  repository: string;
  head_branch: string;
  event: string;
  status: string;
  conclusion: string | null;
  created_at: string;
  html_url: string;
  url: string;
  inputs?: Record<string, unknown>;
  polls: number;
  pollsToComplete: number;
  finalConclusion: string;
  listsUntilVisible: number;
}

interface Workflow extends Required<Omit<WorkflowSpec, 'inputs' | 'existingRuns' | 'listDelay' | 'name'>> {
  name: string;
  repository: string;
  inputs?: string[];
  listDelay: number;
}

export function createWorkflowModel(o: {
  baseUrl: string;
  now: () => Date;
  openapi: OpenApiChecker;
  specs: RepoSpec[];
  dispatchReturnsRunDetails: boolean | 'rejects-key';
  allowed: (area: keyof TokenPermissions, need: Permission) => Response | undefined;
  repo: (owner: string, name: string) => Repo | undefined;
}) {
  let nextWorkflowId = 5000;
  let nextRunId = 90000;
  const workflows: Workflow[] = [];
  const runs: ModelRun[] = [];
  const dispatches: { repository: string; workflow: string; ref: string; inputs?: Record<string, unknown>; runId: number }[] = [];
  const stamp = (d: Date) => d.toISOString().replace(/\.\d+Z$/, 'Z');

  const newRun = (
    wf: Workflow,
    branch: string,
    event: string,
    created: Date,
    conclusion: string,
    pollsToComplete: number,
    completed: boolean,
  ): ModelRun => {
    const id = nextRunId++;
    const run: ModelRun = {
      id,
      workflow_id: wf.id,
      repository: wf.repository,
      head_branch: branch,
      event,
      status: completed ? 'completed' : 'queued',
      conclusion: completed ? conclusion : null,
      created_at: stamp(created),
      html_url: `https://github.com/${wf.repository}/actions/runs/${id}`,
      url: `${o.baseUrl}/repos/${wf.repository}/actions/runs/${id}`,
      polls: 0,
      pollsToComplete,
      finalConclusion: conclusion,
      listsUntilVisible: completed ? 0 : wf.listDelay,
    };
    runs.push(run);
    return run;
  };

  for (const repo of o.specs) {
    for (const spec of repo.workflows ?? []) {
      const wf: Workflow = {
        file: spec.file,
        id: spec.id ?? nextWorkflowId++,
        name: spec.name ?? spec.file.replace(/\.ya?ml$/, ''),
        state: spec.state ?? 'active',
        conclusion: spec.conclusion ?? 'success',
        pollsToComplete: spec.pollsToComplete ?? 2,
        inputs: spec.inputs,
        listDelay: spec.listDelay ?? 0,
        repository: repo.full_name,
      };
      workflows.push(wf);
      for (const r of spec.existingRuns ?? []) {
        newRun(wf, r.branch ?? 'main', r.event ?? 'workflow_dispatch', new Date(r.created_at), r.conclusion ?? 'success', 0, true);
      }
    }
  }

  const find = (repo: Repo, key: string) =>
    workflows.find(
      (w) =>
        w.repository.toLowerCase() === repo.full_name.toLowerCase() &&
        (String(w.id) === key || w.file === key || `.github/workflows/${w.file}` === key),
    );
  const view = (run: ModelRun) => {
    const { polls, pollsToComplete, finalConclusion, listsUntilVisible, repository, inputs, ...rest } = run;
    return { ...rest, name: workflows.find((w) => w.id === run.workflow_id)?.name, run_attempt: 1 };
  };

  async function route(
    request: Request,
    method: string,
    repo: Repo,
    rest: string[],
    query: URLSearchParams,
  ): Promise<Response | undefined> {
    if (rest[0] === 'workflows' && rest.length >= 2) {
      const wf = find(repo, rest[1]);
      if (rest.length === 2 && method === 'GET') {
        const denied = o.allowed('actions', 'read');
        if (denied) return denied;
        if (!wf) return errorResponse(404, 'Not Found');
        return HttpResponse.json(
          o.openapi.complete('actions/get-workflow', 200, {
            id: wf.id,
            name: wf.name,
            path: `.github/workflows/${wf.file}`,
            state: wf.state,
            html_url: `https://github.com/${wf.repository}/blob/main/.github/workflows/${wf.file}`,
          }),
        );
      }
      if (rest.length === 3 && rest[2] === 'dispatches' && method === 'POST') {
        const denied = o.allowed('actions', 'write');
        if (denied) return denied;
        if (!wf) return errorResponse(404, 'Not Found');
        const body = (await request.json().catch(() => undefined)) as
          { ref?: unknown; inputs?: Record<string, unknown>; return_run_details?: unknown } | undefined;
        if (!body || typeof body.ref !== 'string') return errorResponse(422, 'Invalid request. "ref" wasn\'t supplied.');
        if (body.return_run_details !== undefined && o.dispatchReturnsRunDetails === 'rejects-key') {
          return errorResponse(422, 'Invalid request.\n\n"return_run_details" is not a permitted key.');
        }
        if (wf.state !== 'active') return errorResponse(422, `Cannot trigger a 'workflow_dispatch' on a disabled workflow`);
        const ref = body.ref.replace(/^refs\/heads\//, '');
        if (!repo.branches.includes(ref)) return errorResponse(422, `No ref found for: ${body.ref}`);
        const unexpected = wf.inputs ? Object.keys(body.inputs ?? {}).filter((k) => !wf.inputs!.includes(k)) : [];
        if (unexpected.length) return errorResponse(422, `Unexpected inputs provided: ${JSON.stringify(unexpected)}`);
        const run = newRun(wf, ref, 'workflow_dispatch', o.now(), wf.conclusion, wf.pollsToComplete, false);
        run.inputs = body.inputs;
        dispatches.push({ repository: repo.full_name, workflow: wf.file, ref, inputs: body.inputs, runId: run.id });
        if (body.return_run_details === true && o.dispatchReturnsRunDetails) {
          return HttpResponse.json(
            o.openapi.complete('actions/create-workflow-dispatch', 200, {
              workflow_run_id: run.id,
              run_url: run.url,
              html_url: run.html_url,
            }),
          );
        }
        return new HttpResponse(null, { status: 204 });
      }
      if (rest.length === 3 && rest[2] === 'runs' && method === 'GET') {
        const denied = o.allowed('actions', 'read');
        if (denied) return denied;
        if (!wf) return errorResponse(404, 'Not Found');
        const created = createdFilter(query.get('created'));
        const listed = runs
          .filter((r) => r.workflow_id === wf.id)
          .filter((r) => {
            if (r.listsUntilVisible > 0) {
              r.listsUntilVisible--;
              return false;
            }
            return true;
          })
          .filter(
            (r) =>
              (!query.get('event') || r.event === query.get('event')) && (!query.get('branch') || r.head_branch === query.get('branch')),
          )
          .filter((r) => created(Date.parse(r.created_at)))
          .sort((a, b) => Date.parse(b.created_at) - Date.parse(a.created_at) || b.id - a.id);
        const perPage = Math.min(Number(query.get('per_page') ?? 30) || 30, 100);
        return HttpResponse.json(
          o.openapi.complete('actions/list-workflow-runs', 200, {
            total_count: listed.length,
            workflow_runs: listed.slice(0, perPage).map(view),
          }),
        );
      }
    }
    if (rest[0] === 'runs' && rest.length === 2 && method === 'GET') {
      const denied = o.allowed('actions', 'read');
      if (denied) return denied;
      const run = runs.find((r) => String(r.id) === rest[1] && r.repository.toLowerCase() === repo.full_name.toLowerCase());
      if (!run) return errorResponse(404, 'Not Found');
      if (run.status !== 'completed') {
        run.polls++;
        if (run.polls >= run.pollsToComplete) {
          run.status = 'completed';
          run.conclusion = run.finalConclusion;
        } else run.status = 'in_progress';
      }
      return HttpResponse.json(o.openapi.complete('actions/get-workflow-run', 200, view(run)));
    }
    return undefined;
  }

  return { route, runs, dispatches, workflows };
}

export type WorkflowModel = ReturnType<typeof createWorkflowModel>;

/** GitHub's `created` query: `>=T`, `>T`, `<=T`, `<T`, `T1..T2` or a date. */
function createdFilter(value: string | null): (t: number) => boolean {
  if (!value) return () => true;
  const m = /^(>=|<=|>|<)?(.+)$/.exec(value)!;
  if (value.includes('..')) {
    const [a, b] = value.split('..').map((s) => (s === '*' ? NaN : Date.parse(s)));
    return (t) => (Number.isNaN(a) || t >= a) && (Number.isNaN(b) || t <= b);
  }
  const at = Date.parse(m[2]);
  switch (m[1]) {
    case '>=':
      return (t) => t >= at;
    case '>':
      return (t) => t > at;
    case '<=':
      return (t) => t <= at;
    case '<':
      return (t) => t < at;
    default:
      return (t) => t >= at && t < at + 86_400_000;
  }
}
