// SPEC 5, exposure response (issue 17): from the start of `exposures --apply` to the alert
// resolved (and the leaked value proven refused), for one alert, and for 50 alerts on 5
// credentials; each printed beside its target: one alert under 2× one rotation of the same
// credential, and no more rotations than credentials for the 50.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LocalPostgres } from '../src/demo/local-postgres.js';
import type { Platform } from '../src/demo/platform.js';
import { formatTable } from '../src/cli/plan.js';
import { rotateCredential } from '../src/engine/rotate.js';
import { runExposures } from '../src/exposure/run.js';
import { parsePolicy } from '../src/registry/load-policy.js';
import { generatePassword } from '../src/secret/generate.js';
import { scramVerifier } from '../src/postgres/scram.js';
import { githubStandIn, policyText, runtimeFor } from './world.js';

const RUNS = Number(process.env.BENCH_EXPOSURE_RUNS ?? 5);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const TRIGGER = { event: 'bench', actor: 'bench' };
const REPO = 'acme/ops';
const leaked = (pg: LocalPostgres, role: string, password: string) =>
  `postgresql://${role}:${encodeURIComponent(password)}@127.0.0.1:${pg.port}/odoo`;

/** Roles the platform's admin may rotate, with their first passwords. */
async function roles(pg: LocalPostgres, names: string[]): Promise<Record<string, string>> {
  const db = await pg.client();
  const out: Record<string, string> = {};
  try {
    for (const role of names) {
      const password = generatePassword();
      out[role] = password.reveal();
      await db.query(`CREATE ROLE ${role} LOGIN PASSWORD ${db.escapeLiteral(scramVerifier(password))}`);
      await db.query(
        `GRANT CONNECT ON DATABASE odoo TO ${role}; GRANT ${role} TO rotation_admin WITH ADMIN OPTION, INHERIT FALSE, SET FALSE`,
      );
    }
  } finally {
    await db.end();
  }
  return out;
}

export async function exposureResponse(pg: LocalPostgres, platform: Platform) {
  const { model, api } = await githubStandIn();
  const text = (names: string[]) => `${policyText(pg, names, 2)}exposure:\n  repositories: [${REPO}]\n`;
  const env = (current: Record<string, string>) => ({
    ADMIN_URL: platform.adminUrl,
    ...Object.fromEntries(Object.entries(current).map(([r, p]) => [`CURRENT_${r}`, p])),
  });
  const stored = (workspace: string, role: string) =>
    readFileSync(join(workspace, `.secrets/${role}.env`), 'utf8')
      .trim()
      .split('=')[1];
  try {
    // One rotation of the credential, reason exposure, as the baseline.
    const current = await roles(pg, ['exp_one']);
    const rotation: number[] = [];
    const oneAlert: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const runtime = runtimeFor(api.url);
      const t0 = performance.now();
      const result = await rotateCredential(
        parsePolicy(text(['exp_one']), 'bench.yaml', env(current)),
        { credential: 'exp_one', reason: 'exposure', dryRun: false, trigger: TRIGGER },
        runtime,
      );
      rotation.push(performance.now() - t0);
      if (result.status !== 'rotated') throw new Error(`bench rotation failed: ${result.summary}`);
      current.exp_one = stored(runtime.workspace, 'exp_one');

      const number = model.secretScanning.addAlert(REPO, {
        secret_type: 'postgres_connection_string',
        secret: leaked(pg, 'exp_one', current.exp_one),
      });
      const responder = runtimeFor(api.url);
      const t1 = performance.now();
      const report = await runExposures(
        parsePolicy(text(['exp_one']), 'bench.yaml', env(current), { optionalCurrent: true }),
        { apply: true, trigger: TRIGGER },
        responder,
      );
      oneAlert.push(performance.now() - t1);
      if (model.secretScanning.alert(REPO, number)?.state !== 'resolved' || report.exitCode !== 0)
        throw new Error(`bench exposure failed: ${JSON.stringify(report.rows)}`);
      current.exp_one = stored(responder.workspace, 'exp_one');
    }

    // 50 alerts on 5 credentials (10 each, the same leaked string in several places).
    const names = Array.from({ length: 5 }, (_, i) => `exp_many_${i}`);
    const many = await roles(pg, names);
    for (let i = 0; i < 50; i++)
      model.secretScanning.addAlert(REPO, {
        secret_type: 'postgres_connection_string',
        secret: leaked(pg, names[i % 5], many[names[i % 5]]),
      });
    let rotations = 0;
    const t2 = performance.now();
    const report = await runExposures(
      parsePolicy(text(names), 'bench.yaml', env(many), { optionalCurrent: true }),
      {
        apply: true,
        trigger: TRIGGER,
        rotate: (policy, request, runtime) => {
          rotations++;
          return rotateCredential(policy, request, runtime);
        },
      },
      runtimeFor(api.url),
    );
    const fiftyMs = performance.now() - t2;
    const resolved = report.rows.filter((r) => r.outcome === 'resolved').length;
    if (resolved !== 50)
      throw new Error(
        `bench exposure (50 alerts) resolved ${resolved}: ${JSON.stringify(report.rows.filter((r) => r.outcome !== 'resolved'))}`,
      );

    const row = {
      oneRotationMs: Math.round(median(rotation)),
      oneAlertMs: Math.round(median(oneAlert)),
      ratio: Number((median(oneAlert) / median(rotation)).toFixed(2)),
      fiftyAlertsMs: Math.round(fiftyMs),
      fiftyAlertsRotations: rotations,
      fiftyAlertsRequests: model.requests.length,
    };
    console.log(
      `\nExposure response: start of exposures --apply to the alert resolved (leaked value refused), median of ${RUNS} (real PostgreSQL 16, GitHub stand-in on loopback)\n`,
    );
    console.log(
      formatTable(
        ['case', 'measured', 'target', 'verdict'],
        [
          ['one rotation (reason exposure)', `${row.oneRotationMs} ms`, '(baseline)', ''],
          ['1 alert → resolved', `${row.oneAlertMs} ms (${row.ratio}× one rotation)`, '< 2× one rotation', row.ratio < 2 ? 'ok' : 'MISSED'],
          [
            '50 alerts on 5 credentials → resolved',
            `${row.fiftyAlertsMs} ms, ${rotations} rotation(s)`,
            '≤ 5 rotations',
            rotations <= 5 ? 'ok' : 'MISSED',
          ],
        ],
      ),
    );
    return row;
  } finally {
    await api.close();
  }
}
