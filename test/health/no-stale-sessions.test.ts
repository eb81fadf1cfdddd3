// The no-stale-sessions probe after an alter-role rotation, with an admin that may read other
// roles' statistics (pg_read_all_stats): a session opened with the old password that outlives the
// grace period fails the run (whatever application_name it gives); sessions that drain in time do not.
// The tool's own rotation-lock session of the role is spared (test/methods/digitalocean.test.ts).
import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { parsePolicy } from '../../src/registry/load-policy.js';
import { rotateCredential, type RotationResult } from '../../src/engine/rotate.js';
import { connect, connectionConfig } from '../../src/postgres/connect.js';
import { Secret } from '../../src/secret/secret.js';
import { testRuntime, type TestRuntime } from '../helpers/runtime.js';
import { alterRolePolicy, leakHaystack, login, makeRole, usePostgres } from '../helpers/postgres.js';

const fx = usePostgres();
const PROBE_INTERVAL_MS = 5_000;

beforeAll(async () => {
  const su = await fx().server.client();
  try {
    await su.query('GRANT pg_read_all_stats TO rotation_admin');
  } finally {
    await su.end();
  }
});

const probe = (grace: number) => `    health:\n      - no-stale-sessions: { grace_seconds: ${grace} }\n`;

async function rotate(role: string, current: Secret, grace: number, runtime: TestRuntime): Promise<RotationResult & { stored: string }> {
  const policy = parsePolicy(alterRolePolicy(fx(), role, probe(grace)), 'rotation.yaml', {
    ROTATION_ADMIN_URL: fx().platform.adminUrl,
    CURRENT: current.reveal(),
  });
  const result = await rotateCredential(
    policy,
    { credential: role, reason: 'scheduled', dryRun: false, trigger: { event: 'schedule', actor: 'vitest' } },
    runtime,
  );
  const stored = /^DB_PASSWORD=(.*)$/m.exec(readFileSync(join(runtime.workspace, '.secrets/app.env'), 'utf8'))?.[1] ?? '';
  return { ...result, stored };
}

/** A consumer's connection as the role, e.g. an Odoo container that was not restarted. */
async function session(role: string, password: Secret | string, application: string): Promise<pg.Client> {
  const secret = typeof password === 'string' ? new Secret(password) : password;
  return connect(
    { ...connectionConfig(new Secret(fx().platform.adminUrl), { user: role, password: secret }), application_name: application },
    application,
  );
}

/** The probe's waits: the interval between its looks at pg_stat_activity. */
const probeWaits = (runtime: TestRuntime) => runtime.sleeps.filter((ms) => ms === PROBE_INTERVAL_MS).length;

function expectNoLeak(runtime: TestRuntime, result: RotationResult, secrets: string[]) {
  const { stored: _ours, ...seen } = result as RotationResult & { stored?: string };
  const haystack = leakHaystack(runtime.reporter.lines, JSON.stringify(seen), fx().server.log);
  for (const s of [...secrets, new URL(fx().platform.adminUrl).password]) expect(haystack).not.toContain(s);
}

describe('no-stale-sessions after alter-role, with an admin that holds pg_read_all_stats', () => {
  it('a session opened with the old password that stays open fails the run, naming its pid and application', async () => {
    const old = await makeRole(fx(), 'app_stale');
    const stale = await session('app_stale', old, 'odoo-web');
    const pid = (await stale.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
    try {
      const runtime = testRuntime();
      const result = await rotate('app_stale', old, 30, runtime);
      expect(result.status).toBe('failed');
      expect(result.summary).toMatch(
        new RegExp(
          `no-stale-sessions of role app_stale: 1 session\\(s\\) of app_stale opened before the rotation remain: pid ${pid} application 'odoo-web' from 127\\.0\\.0\\.1`,
        ),
      );
      expect(result.summary).toContain(`restart it (or end the sessions: SELECT pg_terminate_backend(pid) for pids ${pid})`);
      expect(result.record.health).toEqual([expect.objectContaining({ target: 'no-stale-sessions of role app_stale', outcome: 'failed' })]);
      // It looked for the whole grace period (30 s), every 5 s, before failing.
      expect(probeWaits(runtime)).toBe(6);
      // No lockout: the stored value works, the old one is refused, the stale session still runs.
      expect(await login(fx(), 'app_stale', result.stored)).toEqual({ ok: true });
      expect(await login(fx(), 'app_stale', old)).toMatchObject({ ok: false, rejected: true });
      expect((await stale.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
      expectNoLeak(runtime, result, [old.reveal(), result.stored]);
    } finally {
      await stale.end();
    }
  });

  it('passes when no session of the role predates the rotation; one kept open into the next rotation fails it', async () => {
    const old = await makeRole(fx(), 'app_clean');
    // Another role's old session is none of this credential's business.
    const other = await session('odoo_app', fx().platform.passwords.odoo_app, 'odoo-web');
    try {
      const runtime = testRuntime();
      const first = await rotate('app_clean', old, 30, runtime);
      expect(first.status).toBe('rotated');
      expect(first.record.health).toEqual([
        expect.objectContaining({ outcome: 'ok', detail: expect.stringMatching(/^no session of app_clean opened before \S+ remains$/) }),
      ]);
      expect(probeWaits(runtime)).toBe(0);

      // A consumer restarted on the first rotation's value, still connected when the next one runs.
      const restarted = await session('app_clean', first.stored, 'odoo-web');
      try {
        const second = await rotate('app_clean', new Secret(first.stored), 0, testRuntime());
        expect(second.status).toBe('failed');
        expect(second.summary).toMatch(/1 session\(s\) of app_clean opened before the rotation remain: pid \d+ application 'odoo-web'/);
      } finally {
        await restarted.end();
      }
    } finally {
      await other.end();
    }
  });

  it('a session opened with the old password that calls itself the tool (application_name credential-rotation) is counted', async () => {
    const old = await makeRole(fx(), 'app_own');
    // Any client sets application_name: an attacker's session must not pass as the tool's own.
    const spoof = await session('app_own', old, 'credential-rotation');
    const pid = (await spoof.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
    try {
      const runtime = testRuntime();
      const result = await rotate('app_own', old, 0, runtime);
      expect(result.status).toBe('failed');
      expect(result.summary).toMatch(
        new RegExp(`1 session\\(s\\) of app_own opened before the rotation remain: pid ${pid} application 'credential-rotation'`),
      );
      // It was really live on the old password, and still is: the verdict is the true one.
      expect((await spoof.query('SELECT 1 AS ok')).rows[0].ok).toBe(1);
    } finally {
      await spoof.end();
    }
  });

  it('honours grace_seconds: a session that drains within it passes, grace_seconds 0 fails at the first look', async () => {
    const old = await makeRole(fx(), 'app_grace');
    let draining = await session('app_grace', old, 'odoo-worker');
    // The container is replaced while the probe waits: its session ends during the second wait.
    const runtime = testRuntime();
    const fakeSleep = runtime.sleep;
    runtime.sleep = async (ms) => {
      await fakeSleep(ms);
      if (ms === PROBE_INTERVAL_MS && probeWaits(runtime) === 2) await draining.end();
    };
    const drained = await rotate('app_grace', old, 30, runtime);
    expect(drained.status).toBe('rotated');
    expect(drained.record.health[0]).toMatchObject({ outcome: 'ok' });
    expect(probeWaits(runtime)).toBe(2);

    // With no grace the same situation fails without waiting.
    draining = await session('app_grace', drained.stored, 'odoo-worker');
    try {
      const strict = testRuntime();
      const result = await rotate('app_grace', new Secret(drained.stored), 0, strict);
      expect(result.status).toBe('failed');
      expect(result.summary).toMatch(/no-stale-sessions of role app_grace: 1 session\(s\) .* application 'odoo-worker'/);
      expect(probeWaits(strict)).toBe(0);
      expect(await login(fx(), 'app_grace', result.stored)).toEqual({ ok: true });
    } finally {
      await draining.end().catch(() => undefined);
    }
  });
});
