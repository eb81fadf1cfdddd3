// The consumer failure window with a realistic consumer (issue 12): a stand-in app that re-reads
// its credentials only when its deploy finishes, the deploy taking seconds, while a prober opens a
// new connection every few milliseconds with the credentials the app holds. alter-role commits the
// new password before the consumers step, so every login during the deploy fails; alternating-roles
// keeps the old login working until after health, so none should.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LocalPostgres } from '../src/demo/local-postgres.js';
import { provisionAlternating, type Platform } from '../src/demo/platform.js';
import { parsePolicy } from '../src/registry/load-policy.js';
import { rotateCredential } from '../src/engine/rotate.js';
import { MemoryReporter } from '../src/report/reporter.js';
import { connectionConfig, tryLogin } from '../src/postgres/connect.js';
import { Secret } from '../src/secret/secret.js';
import { formatTable } from '../src/cli/plan.js';
import type { Runtime } from '../src/runtime/runtime.js';

const HOOK_KEY = 'bench-webhook-signing-key-000000';

interface Pair {
  user: string;
  password: string;
}

/** The app: holds a pair; on a `rotated` webhook it "deploys" for deployMs, then re-reads the store. */
async function standInApp(storeFile: string, deployMs: number, initial: Pair) {
  const app = { held: initial, deploys: 0 };
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      if (!body.includes('"rotated"')) return void res.writeHead(200).end('{}');
      setTimeout(() => {
        app.held = readPair(storeFile);
        app.deploys++;
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"deployed":true}');
      }, deployMs);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    app,
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}/hooks/rotated`,
    close: () => new Promise((r) => server.close(r)),
  };
}

function readPair(file: string): Pair {
  const text = readFileSync(file, 'utf8');
  return { user: /^DB_USER=(.*)$/m.exec(text)![1], password: /^DB_PASSWORD=(.*)$/m.exec(text)![1] };
}

function policyFor(method: 'alter-role' | 'alternating-roles', role: string, hookUrl: string, deployMs: number): string {
  return `version: 1
systems:
  sor: { type: postgres, admin_url: "\${ADMIN_URL}" }
credentials:
  ${role}:
    system: sor
    method: ${method}
    cadence: quarterly
    current: \${CURRENT}
    store:
      - file: { path: .secrets/app.env, key: DB_PASSWORD }
      - file: { path: .secrets/app.env, key: DB_USER, format: "{user}" }
    consumers:
      - http: { url: "${hookUrl}", secret: "${HOOK_KEY}", timeout_seconds: ${Math.ceil(deployMs / 1000) + 30} }
    health:
      - postgres-login: {}
`;
}

const runtimeFor = (workspace: string): Runtime => ({
  env: {},
  reporter: new MemoryReporter(),
  workspace,
  now: () => new Date(),
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
  fetch: globalThis.fetch,
  github: () => {
    throw new Error('no GitHub in this bench');
  },
});

/** Failed logins per rotation for one method and one deploy duration. */
async function measure(
  method: 'alter-role' | 'alternating-roles',
  role: string,
  start: Pair,
  platform: Platform,
  deployMs: number,
  rotations: number,
  intervalMs: number,
) {
  const workspace = mkdtempSync(join(tmpdir(), 'bench-window-'));
  const storeFile = join(workspace, '.secrets/app.env');
  mkdirSync(join(workspace, '.secrets'), { recursive: true });
  writeFileSync(storeFile, `DB_PASSWORD=${start.password}\nDB_USER=${start.user}\n`, { mode: 0o600 });
  const { app, url, close } = await standInApp(storeFile, deployMs, start);
  const perRotation: { attempts: number; failed: number; longestGapMs: number }[] = [];
  try {
    for (let i = 0; i < rotations; i++) {
      const current = readPair(storeFile);
      const policy = parsePolicy(policyFor(method, role, url, deployMs), 'bench.yaml', {
        ADMIN_URL: platform.adminUrl,
        CURRENT: current.password,
      });
      const stats = { attempts: 0, failed: 0, longestGapMs: 0 };
      let running = true;
      let lastOk = performance.now();
      const prober = (async () => {
        while (running) {
          const { user, password } = app.held;
          stats.attempts++;
          const login = await tryLogin(connectionConfig(new Secret(platform.adminUrl), { user, password: new Secret(password) }));
          const now = performance.now();
          if (login.ok) lastOk = now;
          else {
            stats.failed++;
            stats.longestGapMs = Math.max(stats.longestGapMs, Math.round(now - lastOk));
          }
          await new Promise((r) => setTimeout(r, intervalMs));
        }
      })();
      const result = await rotateCredential(
        policy,
        { credential: role, reason: 'manual', dryRun: false, trigger: { event: 'bench', actor: 'bench' } },
        runtimeFor(workspace),
      );
      await new Promise((r) => setTimeout(r, 50));
      running = false;
      await prober;
      if (result.status !== 'rotated') throw new Error(`${method}: ${result.summary}`);
      perRotation.push(stats);
    }
  } finally {
    await close();
  }
  return { perRotation, end: readPair(storeFile), deploys: app.deploys };
}

export async function consumerWindow(pg: LocalPostgres, platform: Platform) {
  const rotations = Number(process.env.BENCH_WINDOW_ROTATIONS ?? 3);
  const deploys = (process.env.BENCH_DEPLOY_SECONDS ?? '3,10').split(',').map(Number);
  const intervalMs = 5;
  const { a } = await provisionAlternating(pg, 'bench_alt');
  let alterPair: Pair = { user: 'odoo_app', password: platform.passwords.odoo_app.reveal() };
  let altPair: Pair = { user: 'bench_alt_a', password: a.reveal() };
  const out: Record<string, Record<string, number[]>> = {};
  const rows: string[][] = [];
  for (const seconds of deploys) {
    const alter = await measure('alter-role', 'odoo_app', alterPair, platform, seconds * 1000, rotations, intervalMs);
    alterPair = alter.end;
    const alt = await measure('alternating-roles', 'bench_alt', altPair, platform, seconds * 1000, rotations, intervalMs);
    altPair = alt.end;
    out[`deploy_${seconds}s`] = {
      'alter-role': alter.perRotation.map((r) => r.failed),
      'alternating-roles': alt.perRotation.map((r) => r.failed),
    };
    for (let i = 0; i < rotations; i++) {
      const [x, y] = [alter.perRotation[i], alt.perRotation[i]];
      rows.push([
        `${seconds} s`,
        String(i + 1),
        `${x.failed} / ${x.attempts}`,
        `${x.longestGapMs} ms`,
        `${y.failed} / ${y.attempts}`,
        `${y.longestGapMs} ms`,
      ]);
    }
  }
  platform.passwords.odoo_app = new Secret(alterPair.password);
  console.log(
    `\nConsumer failure window: an app that re-reads its credentials when its deploy finishes; a new connection every ${intervalMs} ms with what it holds\n`,
  );
  console.log(
    formatTable(
      ['deploy', 'rotation', 'alter-role failed / logins', 'longest gap', 'alternating-roles failed / logins', 'longest gap'],
      rows,
    ),
  );
  const zero = Object.values(out).every((m) => m['alternating-roles'].every((n) => n === 0));
  console.log(`alternating-roles: ${zero ? '0 failed logins in every rotation' : 'FAILED LOGINS SEEN (target: 0)'}`);
  return { intervalMs, rotations, failedLogins: out, alternatingZero: zero };
}
