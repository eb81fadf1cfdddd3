// The bench's start-up and size figures, each printed beside its target: `node dist/index.js` with a
// missing input against a bare `node -e 0`, the code an alter-role + GitHub run loads, dist/post.js
// and a no-op post step, and a full rotation of the platform's odoo_app (three GitHub secret targets,
// one http health check) by dist/index.js against bench/baseline.mjs (the same bare steps with the
// same libraries and nothing else), run alternately in the same world, with what each phase costs.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LocalPostgres } from '../src/demo/local-postgres.js';
import type { Platform } from '../src/demo/platform.js';
import { formatTable } from '../src/cli/plan.js';
import { Secret } from '../src/secret/secret.js';
import { githubStandIn, TOKEN } from './world.js';

const RUNS = Number(process.env.BENCH_START_RUNS ?? 11);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const kib = (bytes: number) => `${(bytes / 1024).toFixed(0)} KiB`;

interface Child {
  firstOutputMs: number;
  /** The first checklist line (`::group::Preflight…`): policy read, adapters loaded. */
  firstStepMs: number;
  totalMs: number;
  code: number | null;
  stdout: string;
}

/** Spawns node with `args`, timing the first byte on stdout and the exit. */
function run(args: string[], env: NodeJS.ProcessEnv): Promise<Child> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    let first = Number.NaN;
    let firstStep = Number.NaN;
    let stdout = '';
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'inherit'] });
    child.stdout.on('data', (d) => {
      if (Number.isNaN(first)) first = performance.now() - t0;
      stdout += d;
      if (Number.isNaN(firstStep) && stdout.includes('::group::')) firstStep = performance.now() - t0;
    });
    child.on('close', (code) => resolve({ firstOutputMs: first, firstStepMs: firstStep, totalMs: performance.now() - t0, code, stdout }));
  });
}

/** The runner's environment for one rotation of odoo_app in `workspace` (the policy written there). */
function runnerEnv(
  workspace: string,
  apiUrl: string,
  adminUrl: string,
  current: string,
  extra: Record<string, string> = {},
): NodeJS.ProcessEnv {
  const files = Object.fromEntries(
    ['GITHUB_OUTPUT', 'GITHUB_STEP_SUMMARY', 'GITHUB_STATE'].map((name) => [name, join(workspace, `${name}.txt`)]),
  );
  for (const f of Object.values(files)) writeFileSync(f, '');
  return {
    PATH: process.env.PATH,
    GITHUB_ACTIONS: 'true',
    GITHUB_API_URL: apiUrl,
    GITHUB_REPOSITORY: 'acme/ops',
    GITHUB_WORKSPACE: workspace,
    GITHUB_EVENT_NAME: 'workflow_dispatch',
    INPUT_CREDENTIAL: 'odoo_app',
    INPUT_REASON: 'manual',
    'INPUT_GITHUB-TOKEN': TOKEN,
    'INPUT_DRY-RUN': 'false',
    ADMIN_URL: adminUrl,
    CURRENT_odoo_app: current,
    ...files,
    ...extra,
  };
}

function workspaceWith(policy: string): string {
  const ws = mkdtempSync(join(tmpdir(), 'bench-start-'));
  mkdirSync(join(ws, '.github'));
  writeFileSync(join(ws, '.github/rotation.yaml'), policy);
  return ws;
}

/** The platform's odoo_app as issue 19 measures it: three GitHub secret targets, one http health check. */
function odooPolicy(pg: LocalPostgres, healthUrl: string): string {
  return `version: 1
systems:
  sor: { type: postgres, admin_url: "\${ADMIN_URL}" }
credentials:
  odoo_app:
    system: sor
    method: alter-role
    cadence: quarterly
    current: \${CURRENT_odoo_app}
    store:
      - github: { repository: acme/ops, secret: ODOO_DB_PASSWORD }
      - github: { repository: acme/ops, environment: production, secret: ODOO_DB_PASSWORD }
      - github: { repository: acme/odoo, secret: ODOO_DB_PASSWORD }
    health:
      - http: { url: "${healthUrl}", expect_status: 200 }
`;
}

/** Odoo's /web/health stand-in: 200 on loopback. */
async function healthStandIn(): Promise<{ url: string; server: Server }> {
  const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"pass"}'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}/web/health`, server };
}

/** The step durations of the evidence record a run left in `ws`. */
function stepDurations(ws: string): Record<string, number> {
  const root = join(ws, 'docs/evidence');
  const [stamp] = readdirSync(root);
  const record = JSON.parse(readFileSync(join(root, stamp, 'db-rotation/odoo_app.json'), 'utf8')) as {
    steps: { step: string; duration_ms: number }[];
  };
  return Object.fromEntries(record.steps.map((s) => [s.step, s.duration_ms]));
}

export async function startUp(pg: LocalPostgres, platform: Platform) {
  const { api, model } = await githubStandIn(0, ['acme/ops', 'acme/odoo']);
  const health = await healthStandIn();
  const policy = odooPolicy(pg, health.url);
  const storedValue = () => model.secretValue({ repository: 'acme/ops', name: 'ODOO_DB_PASSWORD' })!;
  let current = platform.passwords.odoo_app.reveal();
  try {
    // Bare node, the floor of the start-up figures, alternately with `node dist/index.js` missing
    // its input (the cost of starting the action before any work), so both see the same load.
    const bare: number[] = [];
    const missing: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      bare.push((await run(['-e', '0'], { PATH: process.env.PATH })).totalMs);
      const ws = workspaceWith(policy);
      const env = runnerEnv(ws, api.url, platform.adminUrl, current);
      delete env.INPUT_CREDENTIAL;
      const result = await run(['dist/index.js'], env);
      if (result.code !== 1 || !result.stdout.includes('Input required and not supplied: credential'))
        throw new Error(`dist/index.js without a credential:\n${result.stdout}`);
      missing.push(result.totalMs);
      rmSync(ws, { recursive: true, force: true });
    }

    // Full rotations, dist/index.js and the baseline alternately, each in its own workspace.
    const ours: Child[] = [];
    const base: Child[] = [];
    const phases: Record<string, number[]> = {};
    for (let i = 0; i < RUNS; i++) {
      for (const [entry, out] of [
        ['dist/index.js', ours],
        ['bench/baseline.mjs', base],
      ] as const) {
        const ws = workspaceWith(policy);
        const result = await run([entry], runnerEnv(ws, api.url, platform.adminUrl, current));
        if (result.code !== 0) throw new Error(`${entry} failed:\n${result.stdout}`);
        current = storedValue();
        out.push(result);
        if (entry === 'dist/index.js') {
          const steps = stepDurations(ws);
          const inSteps = Object.values(steps).reduce((a, b) => a + b, 0);
          for (const [k, v] of Object.entries({
            'start-up (to the first checklist line)': result.firstStepMs,
            ...steps,
            'the rest (outputs, summary, exit)': result.totalMs - result.firstStepMs - inSteps,
          }))
            (phases[k] ??= []).push(v);
        }
        rmSync(ws, { recursive: true, force: true });
      }
    }

    // The code one alter-role + GitHub run loads, traced by a module hook.
    const ws = workspaceWith(policy);
    const trace = join(ws, 'loads.txt');
    const traced = await run(
      ['--import', './bench/trace-loads.mjs', 'dist/index.js'],
      runnerEnv(ws, api.url, platform.adminUrl, current, { TRACE_LOADS: trace }),
    );
    if (traced.code !== 0) throw new Error(`traced run failed:\n${traced.stdout}`);
    current = storedValue();
    const loaded = readFileSync(trace, 'utf8')
      .trim()
      .split('\n')
      .map((u) => fileURLToPath(u))
      .filter((f) => !/trace-loads(-hooks)?\.mjs$/.test(f));
    const loadedBytes = loaded.reduce((sum, f) => sum + statSync(f).size, 0);
    const outsideDist = loaded.filter((f) => !relative(process.cwd(), f).startsWith('dist'));
    const meta = JSON.parse(readFileSync('bench-results/meta.json', 'utf8')) as {
      outputs: Record<string, { inputs: Record<string, unknown> }>;
    };
    const inputs = loaded.flatMap((f) => Object.keys(meta.outputs[relative(process.cwd(), f)]?.inputs ?? {}));
    const packageOf = (p: string) => {
      const rest = p.split('node_modules/').pop()!.split('/');
      return rest.slice(0, rest[0].startsWith('@') ? 2 : 1).join('/');
    };
    const libraries = new Set(inputs.filter((p) => p.includes('node_modules/')).map(packageOf));
    // What an alter-role + GitHub run must not parse: other adapters' libraries, the OIDC client's
    // undici, ajv's compiler (its standalone runtime helpers are fine), the run-time schema.
    const unwanted = [
      ...new Set(
        inputs
          .filter((p) =>
            /dots-wrapper|axios|mime-db|undici|ajv\/dist\/(core|compile|vocabularies)|src\/(supabase|superset|digitalocean)\/|rotation\.schema\.json/.test(
              p,
            ),
          )
          .map((p) => (p.includes('node_modules/') ? packageOf(p) : p)),
      ),
    ];

    // The post step after a main step that finished: what it loads and what it costs.
    const postWs = workspaceWith(policy);
    const postTrace = join(postWs, 'loads.txt');
    const postEnv = { ...runnerEnv(postWs, api.url, platform.adminUrl, current), STATE_started: 'true', STATE_finished: 'rotated' };
    await run(['--import', './bench/trace-loads.mjs', 'dist/post.js'], { ...postEnv, TRACE_LOADS: postTrace });
    const postLoaded = readFileSync(postTrace, 'utf8')
      .trim()
      .split('\n')
      .map((u) => fileURLToPath(u))
      .filter((f) => !/trace-loads(-hooks)?\.mjs$/.test(f));
    const postBytes = postLoaded.reduce((sum, f) => sum + statSync(f).size, 0);
    // Alternately with bare node, so both see the same load on the machine.
    const post: number[] = [];
    const postBare: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      post.push((await run(['dist/post.js'], postEnv)).totalMs);
      postBare.push((await run(['-e', '0'], { PATH: process.env.PATH })).totalMs);
    }

    const figures = {
      bareNodeMs: median(bare),
      missingInputMs: median(missing),
      phasesMs: Object.fromEntries(Object.entries(phases).map(([k, v]) => [k, Math.round(median(v))])),
      firstOutputMs: median(ours.map((r) => r.firstOutputMs)),
      firstStepMs: median(ours.map((r) => r.firstStepMs)),
      rotationMs: median(ours.map((r) => r.totalMs)),
      baselineMs: median(base.map((r) => r.totalMs)),
      loadedBytes,
      loadedFiles: loaded.length,
      outsideDist: outsideDist.length,
      libraries: [...libraries].sort(),
      unwanted,
      postSize: statSync('dist/post.js').size,
      postLoadedBytes: postBytes,
      postMs: median(post),
      postBareMs: median(postBare),
    };
    const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;
    const verdict = (ok: boolean) => (ok ? 'met' : 'NOT met');
    const rows = [
      [
        'node dist/index.js with a missing input',
        `${figures.missingInputMs.toFixed(0)} ms = ${ratio(figures.missingInputMs, figures.bareNodeMs)} bare node (${figures.bareNodeMs.toFixed(0)} ms)`,
        '≤ 3× bare node',
        verdict(figures.missingInputMs <= 3 * figures.bareNodeMs),
      ],
      [
        'start to first output of dist/index.js (a rotation)',
        `${figures.firstOutputMs.toFixed(0)} ms = ${ratio(figures.firstOutputMs, figures.bareNodeMs)} bare node`,
        '(for reference)',
        '',
      ],
      [
        'code an alter-role + GitHub run loads',
        `${kib(loadedBytes)} in ${loaded.length} files (${outsideDist.length} outside dist/)`,
        '< 1 MB',
        verdict(loadedBytes < 1024 * 1024),
      ],
      [
        'first checklist line (policy read, adapters loaded)',
        `${figures.firstStepMs.toFixed(0)} ms = ${ratio(figures.firstStepMs, figures.bareNodeMs)} bare node`,
        '(for reference)',
        '',
      ],
      [
        'libraries it parses',
        `${libraries.size} packages (bench.json lists them); unwanted: ${unwanted.join(', ') || 'none'}`,
        'no dots-wrapper, axios, Supabase, Superset, undici, ajv compiler',
        verdict(unwanted.length === 0),
      ],
      [
        'dist/post.js',
        `${kib(figures.postSize)}; a no-op post step loads ${kib(postBytes)}`,
        '< 200 KB',
        verdict(figures.postSize < 200 * 1024 && postBytes < 200 * 1024),
      ],
      [
        'no-op post step',
        `${figures.postMs.toFixed(0)} ms = bare node + ${(figures.postMs - figures.postBareMs).toFixed(0)} ms (${ratio(figures.postMs, figures.postBareMs)})`,
        'almost nothing (≤ bare node + 20 ms)',
        verdict(figures.postMs - figures.postBareMs <= 20),
      ],
      [
        'full rotation, dist/index.js vs bench/baseline.mjs',
        `${figures.rotationMs.toFixed(0)} ms vs ${figures.baselineMs.toFixed(0)} ms = ${ratio(figures.rotationMs, figures.baselineMs)}`,
        '≤ 1.25×',
        verdict(figures.rotationMs <= 1.25 * figures.baselineMs),
      ],
    ];
    console.log(`\nStart-up and size, median of ${RUNS} child runs each (odoo_app: alter-role, 3 GitHub targets, an http health check)\n`);
    console.log(formatTable(['figure', 'measured', 'target', ''], rows));
    console.log(
      `\nWhere a rotation by dist/index.js spends its time (median ms of ${RUNS}; the baseline's whole run: ${figures.baselineMs.toFixed(0)} ms)\n`,
    );
    console.log(
      formatTable(
        ['phase', 'median'],
        Object.entries(figures.phasesMs).map(([k, v]) => [k, `${v} ms`]),
      ),
    );
    platform.passwords.odoo_app = new Secret(current);
    return figures;
  } finally {
    await api.close();
    health.server.close();
  }
}
