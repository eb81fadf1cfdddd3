// The fault-injection matrix: every named point of the checklist (src/engine/failpoints.ts) × every
// fault kind, for one method per test file. Each cell runs a real rotation with the fault injected
// at that point, then checks the no-lockout invariant: every store target holds a value that logs
// in, or a rerun given what the store now holds repairs it with no other input. And no secret the
// run masked shows up on any surface.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { SetupServer } from 'msw/node';
import type { RotationResult } from '../../src/engine/rotate.js';
import { failpoints, type Failpoint } from '../../src/engine/failpoints.js';
import { httpError, networkError } from '../../src/http/http-error.js';
import { createGitHubClient } from '../../src/github/client.js';
import { githubStore } from '../../src/stores/github.js';
import { Secret } from '../../src/secret/secret.js';
import { GITHUB_BASE_URL, targetSpec, testContext, testRuntime, type TestRuntime } from '../helpers/runtime.js';
import type { PostgresFixture } from '../helpers/postgres.js';

export const KINDS = ['5xx', '429', '401', '403', '404', '422', 'timeout', 'reset', 'pg-lost', 'killed'] as const;
export type Kind = (typeof KINDS)[number];
const STATUS: Partial<Record<Kind, number>> = { '5xx': 503, '429': 429, '401': 401, '403': 403, '404': 404, '422': 422 };
/** Transient faults last two tries, so the retry paths run and recover; the rest fail once. */
const TRANSIENT: Kind[] = ['5xx', '429', 'timeout', 'reset'];

type ModelFault = { status: number; headers?: Record<string, string> } | 'network';
export interface FaultModel {
  failNext(matcher: Record<string, never>, fault: ModelFault, times?: number): void;
  clearFaults(): void;
  /** What the provider answers a request it refuses as invalid, for the '422' kind (default 422; Supabase 400). */
  validationStatus?: number;
}

/** The network of one cell: runtime.fetch and Octokit go through it, so a timeout can be injected. */
export interface Net {
  timeouts: number;
  calls: number;
}

/** One method's world, built fresh for each cell: a fresh role or key, fresh models, stores seeded. */
export interface World {
  /** The value every store and the source hold before the run. */
  initial: string;
  /** The store a rerun reads `current` from: the GitHub secret the workflow passes. */
  rerunFrom: number;
  rotate(current: string | undefined, runtime: TestRuntime): Promise<RotationResult>;
  /** What each store target holds now, in policy order. */
  stored(): Promise<(string | undefined)[]>;
  logsIn(value: string): Promise<boolean>;
  /** Cuts the run's database connections, as a lost network or a killed process does; how many. */
  cutConnections(): Promise<number>;
  /** The model answering a host, to arm a fault on. */
  modelFor(host: string): FaultModel | undefined;
  clearFaults(): void;
  /** Surfaces besides the reporter, the workspace and the result: server log, request logs. */
  surfaces(): string[];
}

/**
 * What the first run is given as `current`: the live value (`given`), a stale variable while the
 * file target holds the live value (`stale`), or nothing (`none`): issue 9 §2, where a stale
 * `current` was restored over a working file, and a file was left holding a value never applied.
 */
export type CurrentMode = 'given' | 'stale' | 'none';
export const STALE_CURRENT = 'stale-value-of-an-outdated-variable-000';

export interface Suite {
  method: string;
  server: SetupServer;
  points: string[];
  build(runtime: TestRuntime): Promise<World>;
  /** Further matrices with another `current` (the full one runs with `given`). */
  currents?: { mode: Exclude<CurrentMode, 'given'>; points: string[]; kinds: Kind[] }[];
}

type Via = 'model' | 'fetch' | 'thrown' | 'pg' | 'kill' | 'n/a';
export interface Cell {
  point: string;
  kind: Kind;
  current: CurrentMode;
  via: Via;
  first: string;
  rerun?: string;
  held: boolean;
  /** Store targets the first run's record calls restored or holding the (live) new value, whose value does not log in. */
  misreported: string[];
  leaked: string[];
}

/** The points for a policy with this many stores, consumers and probes, in checklist order. */
export function pointsFor(stores: number, consumers: number, probes: number): Failpoint[] {
  return failpoints({ stores, consumers, probes });
}

/** A runtime on the fake clock whose fetch (and Octokit's) goes through `net`, recording what it masks. */
export function cellRuntime(net: Net, masked: string[], workspace?: string): TestRuntime {
  const fetch: typeof globalThis.fetch = (input, init) => {
    net.calls++;
    if (net.timeouts > 0) {
      net.timeouts--;
      return Promise.reject(new DOMException('The operation was aborted due to timeout', 'TimeoutError'));
    }
    return globalThis.fetch(input, init);
  };
  const runtime = testRuntime({
    fetch,
    github: async (token, run) => createGitHubClient(token, GITHUB_BASE_URL, run),
    ...(workspace ? { workspace } : {}),
  });
  const mask = runtime.reporter.mask.bind(runtime.reporter);
  runtime.reporter.mask = (secret) => {
    masked.push(secret.reveal());
    mask(secret);
  };
  return runtime;
}

export function defineFaultSuite(suite: Suite): void {
  const { server } = suite;
  const hosts: string[] = [];
  server.events.on('request:start', ({ request }) => void hosts.push(new URL(request.url).host));
  /** Per point: the host of the request right after it (before the next point), and whether a fetch call follows. */
  const next = new Map<string, { host?: string; fetch: boolean }>();
  const cells: Cell[] = [];

  beforeAll(async () => {
    // A clean run marks where each point falls among the requests.
    const net: Net = { timeouts: 0, calls: 0 };
    const runtime = cellRuntime(net, []);
    const world = await suite.build(runtime);
    const marks: { name: string; host: number; fetch: number }[] = [];
    runtime.failpoint = async (name) => void marks.push({ name, host: hosts.length, fetch: net.calls });
    const result = await world.rotate(world.initial, runtime);
    expect(result.summary).toMatch(/^rotated/);
    expect(marks.map((m) => m.name)).toEqual(suite.points);
    marks.forEach((m, i) => {
      const after = marks[i + 1] ?? { host: hosts.length, fetch: net.calls };
      next.set(m.name, { host: after.host > m.host ? hosts[m.host] : undefined, fetch: after.fetch > m.fetch });
    });
  });

  afterAll(() => {
    if (cells.length === 0) return;
    const table = renderTable(
      suite.method,
      suite.points,
      cells.filter((c) => c.current === 'given'),
    );
    console.log(table.text);
    const more = (suite.currents ?? []).map(({ mode, points, kinds }) => {
      const t = renderTable(
        `${suite.method}, current ${mode}`,
        points,
        cells.filter((c) => c.current === mode),
        kinds,
      );
      console.log(t.text);
      return { current: mode, points, kinds, totals: t.totals };
    });
    mkdirSync('bench-results', { recursive: true });
    writeFileSync(
      join('bench-results', `faults-${suite.method}.json`),
      `${JSON.stringify({ method: suite.method, kinds: KINDS, points: suite.points, totals: table.totals, currents: more, cells }, null, 2)}\n`,
    );
  });

  const matrix = [
    ...suite.points.flatMap((point) => KINDS.map((kind) => ({ point, kind, current: 'given' as CurrentMode }))),
    ...(suite.currents ?? []).flatMap(({ mode, points, kinds }) =>
      points.flatMap((point) => kinds.map((kind) => ({ point, kind, current: mode as CurrentMode }))),
    ),
  ];
  it.each(matrix)(`${suite.method}: $kind at $point, current $current`, async ({ point, kind, current }) => {
    const cell = await runCell(suite, point, kind, next.get(point)!, current);
    cells.push(cell);
    expect(cell.leaked, `secret found at ${point} × ${kind}`).toEqual([]);
    expect(cell.misreported, `${point} × ${kind}: first run ${cell.first}`).toEqual([]);
    expect(cell.held, `${point} × ${kind}: first run ${cell.first}; rerun ${cell.rerun ?? 'not run'}`).toBe(true);
  });
}

async function runCell(
  suite: Suite,
  point: string,
  kind: Kind,
  after: { host?: string; fetch: boolean },
  current: CurrentMode,
): Promise<Cell> {
  const net: Net = { timeouts: 0, calls: 0 };
  const masked: string[] = [];
  const runtime = cellRuntime(net, masked);
  const world = await suite.build(runtime);
  let via: Via = 'n/a';
  let onKill!: () => void;
  const killed = new Promise<'killed'>((resolve) => (onKill = () => resolve('killed')));

  runtime.failpoint = async (name) => {
    if (name !== point) return;
    const what = `injected at ${point}`;
    if (kind === 'killed') {
      via = 'kill';
      onKill();
      return new Promise<never>(() => {}); // the process is gone: nothing after this point runs
    }
    if (kind === 'pg-lost') {
      via = (await world.cutConnections()) > 0 ? 'pg' : 'n/a';
      return;
    }
    const times = TRANSIENT.includes(kind) ? 2 : 1;
    if (kind === 'timeout') {
      if (after.fetch) {
        via = 'fetch';
        net.timeouts = times;
        return;
      }
      via = 'thrown';
      throw networkError(what, new DOMException('The operation was aborted due to timeout', 'TimeoutError'));
    }
    const model = after.host ? world.modelFor(after.host) : undefined;
    const status = kind === '422' ? (model?.validationStatus ?? 422) : STATUS[kind]!;
    const fault: ModelFault = kind === 'reset' ? 'network' : { status, headers: kind === '429' ? { 'retry-after': '3' } : undefined };
    if (model) {
      via = 'model';
      model.failNext({}, fault, times);
      return;
    }
    via = 'thrown';
    throw fault === 'network'
      ? networkError(what, new TypeError('fetch failed (ECONNRESET)'))
      : httpError(what, fault.status, fault.headers ?? {}, undefined, { now: Date.now });
  };

  const given = current === 'given' ? world.initial : current === 'stale' ? STALE_CURRENT : undefined;
  const outcome = await Promise.race([world.rotate(given, runtime), killed]);
  if (outcome === 'killed') await world.cutConnections();
  world.clearFaults();
  net.timeouts = 0;

  const results: unknown[] = outcome === 'killed' ? [] : [outcome];
  const first = outcome === 'killed' ? 'killed' : `${outcome.status}: ${outcome.summary}`;
  const reporters = [runtime];
  let values = await world.stored();
  // The first run's word on each target must be true: "restored" or "new value" means it works.
  const misreported: string[] = [];
  if (outcome !== 'killed') {
    for (const [i, entry] of outcome.record.stores.entries()) {
      // Only the targets `stored()` reports hold a credential (a DB_USER beside it does not log in).
      if (i >= values.length || (entry.holds !== 'restored' && entry.holds !== 'new value')) continue;
      const value = values[i];
      if (value === undefined || !(await world.logsIn(value))) misreported.push(`${entry.target}: ${entry.holds}`);
    }
  }
  let held = await allLogIn(world, values);
  let rerun: string | undefined;
  if (!held) {
    // The repair: a plain rerun, given what the store holds now as `current`, nothing else.
    const again = cellRuntime(net, masked, runtime.workspace);
    reporters.push(again);
    const second = await world.rotate(values[world.rerunFrom], again);
    results.push(second);
    rerun = `${second.status}: ${second.summary}`;
    values = await world.stored();
    held = await allLogIn(world, values);
  }

  const haystack = [
    ...reporters.flatMap((r) => r.reporter.lines),
    ...evidenceFiles(runtime.workspace),
    JSON.stringify(results),
    ...world.surfaces(),
  ].join('\n');
  const secrets = new Set([world.initial, ...masked, ...values.filter((v): v is string => v !== undefined)].filter((s) => s.length >= 8));
  const leaked = [...secrets].filter((s) => haystack.includes(s)).map((s) => `${s.slice(0, 3)}… (${s.length} chars)`);
  return { point, kind, current, via, first: first.slice(0, 300), rerun: rerun?.slice(0, 300), held, misreported, leaked };
}

async function allLogIn(world: World, values: (string | undefined)[]): Promise<boolean> {
  for (const value of values) if (value === undefined || !(await world.logsIn(value))) return false;
  return true;
}

function evidenceFiles(workspace: string): string[] {
  const dir = join(workspace, 'docs/evidence');
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => readFileSync(join(e.parentPath, e.name), 'utf8'));
}

/** ✓ held as the run left it, ↻ held after the rerun, ✗ not held, · the fault has nothing to hit there. */
export function renderTable(method: string, points: string[], cells: Cell[], kinds: readonly Kind[] = KINDS) {
  const mark = (c: Cell | undefined) =>
    !c ? '?' : !c.held || c.leaked.length || c.misreported.length ? '✗' : c.via === 'n/a' ? '·' : c.rerun ? '↻' : '✓';
  const width = Math.max(...points.map((p) => p.length));
  const lines = [`${'point'.padEnd(width)} | ${kinds.map((k) => k.padEnd(7)).join(' | ')}`];
  for (const point of points)
    lines.push(
      `${point.padEnd(width)} | ${kinds.map((k) => mark(cells.find((c) => c.point === point && c.kind === k)).padEnd(7)).join(' | ')}`,
    );
  const count = (m: string) => cells.filter((c) => mark(c) === m).length;
  const totals = {
    cells: cells.length,
    held: count('✓') + count('↻'),
    heldAsLeft: count('✓'),
    heldAfterRerun: count('↻'),
    notHeld: count('✗'),
    notApplicable: count('·'),
    leaks: cells.filter((c) => c.leaked.length).length,
  };
  lines.push(
    `${method}: ${totals.cells} cells: ${totals.held} held (${totals.heldAsLeft} as the run left them, ${totals.heldAfterRerun} after a rerun), ${totals.notHeld} not held, ${totals.notApplicable} not applicable; ${totals.leaks} with a leak`,
    '✓ held as left  ↻ held after a rerun given what the store holds  ✗ not held  · nothing for this fault to hit at this point',
  );
  return { text: `\nFault matrix: ${method}\n${lines.join('\n')}\n`, totals };
}

/**
 * The stores hold the live value before the run, as they would in production: `key` in the
 * workspace's `.secrets/<file>` and the acme/ops GitHub secret of the same name.
 */
export async function seedStores(runtime: TestRuntime, file: string, key: string, value: string): Promise<void> {
  mkdirSync(join(runtime.workspace, '.secrets'), { recursive: true });
  writeFileSync(join(runtime.workspace, '.secrets', file), `${key}=${value}\n`);
  await githubStore(targetSpec('github', { repository: 'acme/ops', secret: key }), testContext(runtime)).write(new Secret(value));
}

/** The policy text as a run given no `current` reads it: without the `current:` line. */
export function policyWithCurrent(text: string, current: string | undefined): string {
  return current === undefined ? text.replace(/\n +current: .*\n/, '\n') : text;
}

/** What `key` holds in the workspace's `.secrets/<file>`, or undefined when there is no such file. */
export function secretsFileValue(workspace: string, file: string, key: string): string | undefined {
  const path = join(workspace, '.secrets', file);
  return existsSync(path) ? new RegExp(`^${key}=(.*)$`, 'm').exec(readFileSync(path, 'utf8'))?.[1] : undefined;
}

/** Terminates the tool's backends (the admin connection) and waits until they are gone. */
export async function cutConnections(f: PostgresFixture): Promise<number> {
  const db = await f.server.client();
  try {
    const { rows } = await db.query<{ pid: number }>(
      `WITH tool AS MATERIALIZED (SELECT pid FROM pg_stat_activity WHERE application_name = 'credential-rotation' AND pid <> pg_backend_pid())
       SELECT pid FROM tool WHERE pg_terminate_backend(pid)`,
    );
    const pids = rows.map((r) => r.pid);
    for (let i = 0; i < 200 && pids.length > 0; i++) {
      const left = await db.query('SELECT 1 FROM pg_stat_activity WHERE pid = ANY($1)', [pids]);
      if (left.rowCount === 0) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    return pids.length;
  } finally {
    await db.end();
  }
}
