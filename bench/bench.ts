// `npm run bench`: the numbers of SPEC section 5, measured on the local stack (a real
// PostgreSQL 16, a local GitHub stand-in over loopback HTTP). Prints tables, writes JSON.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startLocalPostgres, type LocalPostgres } from '../src/demo/local-postgres.js';
import { provisionPlatform, type Platform } from '../src/demo/platform.js';
import { parsePolicy } from '../src/registry/load-policy.js';
import { rotateCredential } from '../src/engine/rotate.js';
import { MemoryReporter } from '../src/report/reporter.js';
import { connectionConfig, tryLogin } from '../src/postgres/connect.js';
import { Secret } from '../src/secret/secret.js';
import { formatTable } from '../src/cli/plan.js';
import { githubStandIn, policyText, runtimeFor } from './world.js';
import { startUp } from './start-up.js';
import { consumerWindow } from './consumer-window.js';
import { exposureResponse } from './exposure.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  const results: Record<string, unknown> = { runs: RUNS, node: process.version, date: new Date().toISOString() };
  const pg = await startLocalPostgres({ logStatements: false });
  const platform = await provisionPlatform(pg);
  try {
    // BENCH_ONLY=startUp (a section's key) runs only that section.
    const only = process.env.BENCH_ONLY;
    if (!only || only === 'criticalPath') results.criticalPath = await criticalPath(pg, platform);
    if (!only || only === 'failureWindow') results.failureWindow = await failureWindow(pg, platform);
    if (!only || only === 'consumerWindow') results.consumerWindow = await consumerWindow(pg, platform);
    if (!only || only === 'fanOut') results.fanOut = await fanOut(pg, platform);
    if (!only || only === 'startUp') results.startUp = await startUp(pg, platform);
    if (!only || only === 'exposure') results.exposure = await exposureResponse(pg, platform);
  } finally {
    await pg.stop();
  }
  mkdirSync('bench-results', { recursive: true });
  writeFileSync('bench-results/bench.json', `${JSON.stringify(results, null, 2)}\n`);
  console.log('\nwritten to bench-results/bench.json');
}

/** Per-step and total time of a whole rotation (2 GitHub targets + a file, a login probe). */
async function criticalPath(pg: LocalPostgres, platform: Platform) {
  const { api } = await githubStandIn();
  let current = platform.passwords.odoo_app.reveal();
  const perStep: Record<string, number[]> = {};
  const totals: number[] = [];
  try {
    for (let i = 0; i < RUNS; i++) {
      const runtime = runtimeFor(api.url);
      const policy = parsePolicy(policyText(pg, ['odoo_app'], 2), 'bench.yaml', {
        ADMIN_URL: platform.adminUrl,
        CURRENT_odoo_app: current,
      });
      const t0 = performance.now();
      const result = await rotateCredential(
        policy,
        { credential: 'odoo_app', reason: 'manual', dryRun: false, trigger: { event: 'bench', actor: 'bench' } },
        runtime,
      );
      totals.push(performance.now() - t0);
      if (result.status !== 'rotated') throw new Error(`bench rotation failed: ${result.summary}`);
      for (const s of result.record.steps) (perStep[s.step] ??= []).push(s.duration_ms);
      current = readFileSync(join(runtime.workspace, '.secrets/odoo_app.env'), 'utf8').trim().split('=')[1];
    }
  } finally {
    await api.close();
  }
  platform.passwords.odoo_app = new Secret(current);
  const rows = Object.entries(perStep).map(([step, xs]) => [step, `${median(xs)} ms`, `${Math.max(...xs)} ms`]);
  rows.push(['total (wall)', `${median(totals).toFixed(1)} ms`, `${Math.max(...totals).toFixed(1)} ms`]);
  console.log(`\nCritical path, median of ${RUNS} rotations (real PostgreSQL 16, GitHub stand-in on loopback)\n`);
  console.log(formatTable(['step', 'median', 'max'], rows));
  return { steps: Object.fromEntries(Object.entries(perStep).map(([k, v]) => [k, median(v)])), totalMs: median(totals) };
}

/**
 * Logins as the role at a fixed rate during rotations. A "restarting consumer" keeps the password
 * it started with until the consumer step has run (as an app that is restarted does); a
 * "re-reading consumer" reads the store before every login.
 */
async function failureWindow(pg: LocalPostgres, platform: Platform) {
  const { api } = await githubStandIn();
  const intervalMs = 5;
  const out: Record<string, { attempts: number; failed: number; longestGapMs: number }> = {};
  for (const kind of ['restarting', 're-reading'] as const) {
    let current = platform.passwords.odoo_app.reveal();
    let attempts = 0;
    let failed = 0;
    let longestGap = 0;
    for (let i = 0; i < 5; i++) {
      const runtime = runtimeFor(api.url);
      const policy = parsePolicy(policyText(pg, ['odoo_app'], 2), 'bench.yaml', {
        ADMIN_URL: platform.adminUrl,
        CURRENT_odoo_app: current,
      });
      const storeFile = join(runtime.workspace, '.secrets/odoo_app.env');
      mkdirSync(join(runtime.workspace, '.secrets'), { recursive: true });
      writeFileSync(storeFile, `PASSWORD=${current}\n`, { mode: 0o600 });
      let held = current;
      let running = true;
      let lastOk = performance.now();
      const prober = (async () => {
        while (running) {
          const password = kind === 're-reading' ? readFileSync(storeFile, 'utf8').trim().split('=')[1] : held;
          attempts++;
          const login = await tryLogin(
            connectionConfig(new Secret(platform.adminUrl), { user: 'odoo_app', password: new Secret(password) }),
          );
          const now = performance.now();
          if (login.ok) lastOk = now;
          else {
            failed++;
            longestGap = Math.max(longestGap, now - lastOk);
          }
          await new Promise((r) => setTimeout(r, intervalMs));
        }
      })();
      // The restarting consumer picks up the stored value when the consumers step runs.
      const reporter = runtime.reporter as MemoryReporter;
      const origGroup = reporter.group.bind(reporter);
      reporter.group = async (title, fn) => {
        if (title.startsWith('5.')) held = readFileSync(storeFile, 'utf8').trim().split('=')[1];
        return origGroup(title, fn);
      };
      const result = await rotateCredential(
        policy,
        { credential: 'odoo_app', reason: 'manual', dryRun: false, trigger: { event: 'bench', actor: 'bench' } },
        runtime,
      );
      await new Promise((r) => setTimeout(r, 50));
      running = false;
      await prober;
      if (result.status !== 'rotated') throw new Error(result.summary);
      current = readFileSync(storeFile, 'utf8').trim().split('=')[1];
    }
    platform.passwords.odoo_app = new Secret(current);
    out[kind] = { attempts, failed, longestGapMs: Math.round(longestGap) };
  }
  await api.close();
  console.log(`\nConsumer failure window: logins as odoo_app every ${intervalMs} ms during 5 rotations\n`);
  console.log(
    formatTable(
      ['consumer', 'logins', 'failed', 'longest gap'],
      Object.entries(out).map(([k, v]) => [k, String(v.attempts), String(v.failed), `${v.longestGapMs} ms`]),
    ),
  );
  return out;
}

/** K credentials × M GitHub targets, with 50 ms of latency per request: wall time and requests. */
async function fanOut(pg: LocalPostgres, platform: Platform) {
  const K = 4;
  const M = 4;
  const latency = 50;
  const roles = Array.from({ length: K }, (_, i) => `fan_${i}`);
  const db = await pg.client();
  const { scramVerifier } = await import('../src/postgres/scram.js');
  const { generatePassword } = await import('../src/secret/generate.js');
  const env: Record<string, string> = { ADMIN_URL: platform.adminUrl };
  for (const role of roles) {
    const pw = generatePassword();
    env[`CURRENT_${role}`] = pw.reveal();
    await db.query(`CREATE ROLE ${role} LOGIN PASSWORD '${scramVerifier(pw)}'`);
    await db.query(`GRANT ${role} TO rotation_admin WITH ADMIN OPTION, INHERIT FALSE, SET FALSE`);
  }
  await db.end();
  const { model, api } = await githubStandIn(latency);
  const policy = parsePolicy(policyText(pg, roles, M), 'bench.yaml', env);
  const t0 = performance.now();
  // One runtime per credential, as one action run per credential (the matrix) would have.
  const results = await Promise.all(
    roles.map((role) =>
      rotateCredential(
        policy,
        { credential: role, reason: 'manual', dryRun: false, trigger: { event: 'bench', actor: 'bench' } },
        runtimeFor(api.url),
      ),
    ),
  );
  const wall = performance.now() - t0;
  await api.close();
  const failed = results.filter((r) => r.status !== 'rotated');
  if (failed.length) throw new Error(failed.map((r) => r.summary).join('; '));
  const keyReads = model.count({ method: 'GET', path: /public-key$/ });
  const writes = model.count({ method: 'PUT' });
  const row = {
    credentials: K,
    targetsEach: M,
    latencyMs: latency,
    wallMs: Math.round(wall),
    requests: model.requests.length,
    publicKeyReads: keyReads,
    secretWrites: writes,
  };
  console.log(`\nFan-out: ${K} credentials × ${M} GitHub targets (+1 file each), ${latency} ms per request, in parallel\n`);
  console.log(formatTable(Object.keys(row), [Object.values(row).map(String)]));
  console.log(
    `public-key reads: ${keyReads} for ${K} runs × 2 scopes (repository, environment); secret writes: ${writes} (GitHub's limit: 80 content-creating requests a minute)`,
  );
  return row;
}

await main();
