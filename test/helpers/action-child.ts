import type { ChildProcess } from 'node:child_process';
import { startChild } from './child.js';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { getResponse, http, type RequestHandler } from 'msw';
import { login, type PostgresFixture } from './postgres.js';
import { createGitHubModel, type GitHubModel } from '../models/github.js';
import { FAILPOINT_ENV, type Failpoint } from '../../src/engine/failpoints.js';
import { STEPS, type StepName } from '../../src/engine/steps.js';

/**
 * Runs the bundled action (dist/index.js) or its post step (dist/post.js) as a child process
 * with the runner's environment, as test/action/action-dist.test.ts does, and can kill it when its
 * stdout shows a given line (deterministic: a checklist step's ::group:: line).
 */
export const DIST_TOKEN = 'ghs_dist_child_token_abcdefghijklmno';

/**
 * What test/fixtures/spec-policy.yaml needs around a child: the GitHub stand-in (acme/ops with a
 * production environment and deploy-odoo.yml) and Odoo's /web/health after the deploy, healthy
 * when the password GitHub's production secret holds logs in. The policy points at that page;
 * the caller closes `health`.
 */
export async function specPolicyWorld(fx: () => PostgresFixture): Promise<{ github: GitHubModel; health: Server; policy: string }> {
  const github = createGitHubModel({
    token: DIST_TOKEN,
    repos: [{ full_name: 'acme/ops', environments: ['production'], workflows: [{ file: 'deploy-odoo.yml', pollsToComplete: 1 }] }],
  });
  const health = createServer(async (_req, res) => {
    const value = github.secretValue({ repository: 'acme/ops', environment: 'production', name: 'ODOO_DB_PASSWORD' });
    const ok = value !== undefined && (await login(fx(), 'odoo_app', value)).ok;
    res.writeHead(ok ? 200 : 500).end(ok ? 'pass' : 'fail');
  });
  await new Promise<void>((r) => health.listen(0, '127.0.0.1', r));
  const policy = readFileSync(new URL('../fixtures/spec-policy.yaml', import.meta.url), 'utf8').replace(
    'https://erp.example.com/web/health',
    `http://127.0.0.1:${(health.address() as { port: number }).port}/web/health`,
  );
  return { github, health, policy };
}

export interface ChildRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  summary: string;
  /** GITHUB_STATE as the runner reads it (name → value), for the post step's STATE_* variables. */
  state: Record<string, string>;
  stateFile: string;
  workspace: string;
}

export interface ChildOptions {
  apiUrl: string;
  workspace: string;
  inputs?: Record<string, string>;
  env?: Record<string, string>;
  entry?: 'dist/index.js' | 'dist/post.js';
  /** Sends `signal` when stdout first contains `pattern`. */
  killOn?: { pattern: string; signal: NodeJS.Signals };
  /** Runner state from the main step (the post step gets it as STATE_<name>). */
  state?: Record<string, string>;
}

let counter = 0;

/** A fresh workspace holding the policy at .github/rotation.yaml. */
export function newWorkspace(policy: string): string {
  const workspace = mkdtempSync(join(tmpdir(), 'dist-child-'));
  mkdirSync(join(workspace, '.github'));
  writeFileSync(join(workspace, '.github/rotation.yaml'), policy);
  return workspace;
}

export function startAction(options: ChildOptions): { child: ChildProcess; done: Promise<ChildRun> } {
  const base = `${options.workspace}.${++counter}`;
  const files = { GITHUB_OUTPUT: `${base}.out`, GITHUB_STEP_SUMMARY: `${base}.summary`, GITHUB_STATE: `${base}.state` };
  for (const f of Object.values(files)) writeFileSync(f, '');
  const inputs = { credential: 'odoo_app', reason: 'manual', 'github-token': DIST_TOKEN, 'dry-run': 'false', ...options.inputs };
  let killed = false;
  const started = startChild(process.execPath, [options.entry ?? 'dist/index.js'], {
    timeout: 90_000,
    env: {
      PATH: process.env.PATH,
      GITHUB_ACTIONS: 'true',
      GITHUB_API_URL: options.apiUrl,
      GITHUB_REPOSITORY: 'acme/ops',
      GITHUB_WORKSPACE: options.workspace,
      GITHUB_RUN_ID: '4242',
      GITHUB_ACTOR: 'octocat',
      GITHUB_EVENT_NAME: 'workflow_dispatch',
      ...files,
      ...Object.fromEntries(Object.entries(inputs).map(([k, v]) => [`INPUT_${k.toUpperCase()}`, v])),
      ...Object.fromEntries(Object.entries(options.state ?? {}).map(([k, v]) => [`STATE_${k}`, v])),
      ...options.env,
    },
    onStdout: (stdout, child) => {
      if (options.killOn && !killed && stdout.includes(options.killOn.pattern)) {
        killed = true;
        child.kill(options.killOn.signal);
      }
    },
  });
  const done = started.done.then(({ code, signal, stdout, stderr }): ChildRun => ({
    code,
    signal,
    stdout,
    stderr,
    outputs: parseFileCommands(readFileSync(files.GITHUB_OUTPUT, 'utf8')),
    summary: readFileSync(files.GITHUB_STEP_SUMMARY, 'utf8'),
    state: parseFileCommands(readFileSync(files.GITHUB_STATE, 'utf8')),
    stateFile: files.GITHUB_STATE,
    workspace: options.workspace,
  }));
  return { child: started.child, done };
}

export const runAction = (options: ChildOptions) => startAction(options).done;

/** `name<<DELIM\nvalue\nDELIM` blocks, as @actions/core writes GITHUB_OUTPUT and GITHUB_STATE. */
function parseFileCommands(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of text.matchAll(/^([\w-]+)<<(\S+)\n([\s\S]*?)\n\2$/gm)) out[m[1]] = m[3];
  return out;
}

/** stdout without the `::add-mask::` lines: the only place a value may appear (to be masked). */
export const withoutMasks = (stdout: string) => stdout.replace(/^::add-mask::.*$/gm, '');

/** Every value the child masked (`::add-mask::` lines, unescaped): what must appear nowhere else. */
export const maskedValues = (stdout: string): string[] =>
  [...stdout.matchAll(/^::add-mask::(.*)$/gm)].map((m) => m[1].replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%'));

/**
 * A gate in front of a model: the first request that matches is answered by the model (so its
 * effect happens) but the reply is held until `release()`; `reached` resolves when it arrives.
 */
export function holdReply(model: RequestHandler[], baseUrl: string, match: (method: string, path: string) => boolean) {
  let release!: () => void;
  let arrived!: () => void;
  const released = new Promise<void>((r) => (release = r));
  const reached = new Promise<void>((r) => (arrived = r));
  let used = false;
  const handler = http.all(`${baseUrl}/*`, async ({ request }) => {
    const path = new URL(request.url).pathname;
    if (used || !match(request.method, path)) return undefined;
    used = true;
    const response = await getResponse(model, request);
    arrived();
    await released;
    return response;
  });
  return { handler, reached, release: () => release() };
}

/** Waits (bounded) until Postgres has closed every session the tool opened, e.g. after a kill. */
export async function rotationSessionsGone(fx: PostgresFixture): Promise<number> {
  const db = await fx.server.client();
  try {
    for (let i = 0; i < 100; i++) {
      const { rows } = await db.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'credential-rotation'",
      );
      if (rows[0].n === 0) return 0;
      await new Promise((r) => setTimeout(r, 100));
    }
    const { rows } = await db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'credential-rotation'",
    );
    return rows[0].n;
  } finally {
    await db.end();
  }
}

/** Transaction state of the tool's admin sessions, e.g. ['idle in transaction']. */
export async function adminSessionStates(fx: PostgresFixture): Promise<string[]> {
  const db = await fx.server.client();
  try {
    const { rows } = await db.query<{ state: string }>(
      "SELECT state FROM pg_stat_activity WHERE application_name = 'credential-rotation' AND usename = 'rotation_admin'",
    );
    return rows.map((r) => r.state);
  } finally {
    await db.end();
  }
}

/** The environment that makes the child SIGKILL itself at a named checkpoint (src/engine/failpoints.ts). */
export const killAt = (point: Failpoint): Record<string, string> => ({ [FAILPOINT_ENV]: `${point}:kill` });

/** The checklist step a checkpoint sits in (store.after.1 → store, consumer.before.0 → consumers). */
export function stepOfPoint(point: string): StepName {
  const stem = point.split('.')[0];
  const step = ({ consumer: 'consumers' } as Record<string, string>)[stem] ?? stem;
  if (!(step in STEPS)) throw new Error(`no checklist step for checkpoint ${point}`);
  return step as StepName;
}

/** The title of the last checklist step the child opened a log group for: where it stopped. */
export const lastGroup = (stdout: string): string | undefined => [...stdout.matchAll(/^::group::(.*)$/gm)].at(-1)?.[1];

export { pg };
