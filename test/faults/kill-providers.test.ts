import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGitHubModel, type GitHubModel } from '../models/github.js';
import { ALL_SCOPES, createDigitalOceanModel, type DigitalOceanModel } from '../models/digitalocean.js';
import { createSupabaseModel, type SupabaseModel } from '../models/supabase.js';
import { serveHandlers } from '../models/serve.js';
import { leakHaystack, login, makeRole, usePostgres } from '../helpers/postgres.js';
import { APP, clusterOn, doSystemYaml } from '../helpers/digitalocean.js';
import { SERVICE_KEY_CREDENTIAL, supabaseSystemYaml } from '../helpers/supabase.js';
import {
  DIST_TOKEN,
  killAt,
  lastGroup,
  maskedValues,
  newWorkspace,
  rotationSessionsGone,
  runAction,
  stepOfPoint,
  withoutMasks,
  type ChildRun,
} from '../helpers/action-child.js';
import { pointsFor } from './harness.js';
import type { Failpoint } from '../../src/engine/failpoints.js';
import { STEPS } from '../../src/engine/steps.js';
import { formatTable } from '../../src/cli/plan.js';

/**
 * Invariant 1 under SIGKILL for the provider methods: dist/index.js, with
 * CREDENTIAL_ROTATION_FAILPOINT=<point>:kill, kills itself at each named checkpoint of a
 * digitalocean-reset rotation (the DigitalOcean model resetting a role on a real PostgreSQL 16)
 * and of a supabase-secret-key rotation (the Supabase model's Management API and project API).
 * The models live in this process, so their state outlives the killed child, as DigitalOcean's and
 * Supabase's do. A plain rerun, passing what the GitHub secret now holds as `current`, converges.
 * Only the URLs are pointed at the models; nothing else in the child is faked.
 */
const fx = usePostgres();
const DO_TOKEN = 'dop_v1_kill_test_token_0123456789abcdef0123456789abcdef';
const PAT = 'sbp_kill0123456789abcdef0123456789abcdef01234';
// 20 lower-case letters, as the Management API's description requires of a ref.
const REF = 'kilwtktxdalcfigzeqrz';
const ROLE = 'do_app';
/** The stand-in of the Supabase project's `postgres` role, whose password the Supabase model really sets. */
const SB_ROLE = 'sb_postgres';

let github: GitHubModel;
let doModel: DigitalOceanModel;
let sb: SupabaseModel;
const servers: { url: string; close: () => Promise<void> }[] = [];
let urls: { github: string; digitalocean: string; supabase: string; project: string };
const policies: Record<string, string> = {};
let doSeed: string;
let sbSeed: string;
/** One row per cell for the printed table; a cell that fails an assertion stays 'not converged'. */
const cells: { method: string; point: string; diedAt: string; converged: boolean }[] = [];

const SYSTEMS = (projectUrl: string) => `
version: 1
systems:
${doSystemYaml({ database: 'odoo' })}${supabaseSystemYaml(REF, projectUrl)}credentials:`;
const DO_CREDENTIAL = `
  ${ROLE}:
    system: do-pg
    method: digitalocean-reset
    cadence: annually
    current: \${CURRENT}
    store:
      - file: { path: .secrets/do.env, key: DB_PASSWORD }
      - github: { repository: acme/ops, secret: DB_PASSWORD }
    consumers:
      - digitalocean-app: { app_id: ${APP}, poll_seconds: 0.05 }
    health:
      - no-stale-sessions: { grace_seconds: 10 }
`;
const SUPABASE_DB_CREDENTIAL = `
  supabase_db:
    system: supabase-db
    method: supabase-db-password
    role: ${SB_ROLE}
    cadence: quarterly
    current: \${CURRENT}
    store:
      - file: { path: .secrets/supabase-db.env, key: SUPABASE_DB_PASSWORD }
      - github: { repository: acme/ops, secret: SUPABASE_DB_PASSWORD }
    health:
      - postgres-login: {}
`;

beforeAll(async () => {
  github = createGitHubModel({ token: DIST_TOKEN, repos: [{ full_name: 'acme/ops' }] });
  doSeed = (await makeRole(fx(), ROLE)).reveal();
  doModel = createDigitalOceanModel({
    tokens: { [DO_TOKEN]: ALL_SCOPES },
    clusters: [clusterOn(fx().server, { [ROLE]: doSeed }, { database: 'odoo' })],
    apps: [{ id: APP, name: 'odoo' }],
  });
  sbSeed = (await makeRole(fx(), SB_ROLE)).reveal();
  sb = createSupabaseModel({
    token: PAT,
    projects: [
      {
        ref: REF,
        keys: [
          { name: 'service_key', type: 'secret' },
          { name: 'other_tool', type: 'secret' },
        ],
        database: { host: '127.0.0.1', adminUrl: fx().platform.adminUrl, role: SB_ROLE },
      },
    ],
  });
  // One loopback server per host the child talks to, each rewriting onto the host its model serves.
  const serve = async (handlers: Parameters<typeof serveHandlers>[0], rewriteTo: string) => {
    const s = await serveHandlers(handlers, { rewriteTo });
    servers.push(s);
    return s.url;
  };
  urls = {
    github: await serve(github.handlers, github.baseUrl),
    digitalocean: await serve(doModel.handlers, doModel.baseUrl),
    supabase: await serve(sb.handlers, sb.apiUrl),
    project: await serve(sb.handlers, sb.project(REF).url),
  };
  policies[ROLE] = SYSTEMS(urls.project) + DO_CREDENTIAL;
  policies.service_key = SYSTEMS(urls.project) + SERVICE_KEY_CREDENTIAL;
  const dbSystem = supabaseSystemYaml(REF, undefined, {
    id: 'supabase-db',
    dbUrl: `postgresql://${SB_ROLE}@127.0.0.1:${fx().server.port}/odoo?sslmode=disable`,
  });
  policies.supabase_db = SYSTEMS(urls.project).replace(/credentials:$/, `${dbSystem}credentials:`) + SUPABASE_DB_CREDENTIAL;
});
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  const rows = cells.map((c) => [c.method, c.point, c.diedAt, c.converged ? 'converged' : 'NOT converged']);
  if (rows.length)
    console.log(
      `provider methods, dist/index.js killed at each checkpoint:\n${formatTable(['method', 'point', 'died at', 'plain rerun'], rows)}`,
    );
});

const ghSecret = (name: string) => github.secretValue({ repository: 'acme/ops', name });
const fileValue = (ws: string, file: string, key: string) => {
  const path = join(ws, '.secrets', file);
  return existsSync(path) ? new RegExp(`^${key}=(.*)$`, 'm').exec(readFileSync(path, 'utf8'))?.[1] : undefined;
};
const evidenceFiles = (ws: string) => {
  const dir = join(ws, 'docs/evidence');
  return existsSync(dir)
    ? readdirSync(dir, { recursive: true, withFileTypes: true })
        .filter((e) => e.isFile())
        .map((e) => readFileSync(join(e.parentPath, e.name), 'utf8'))
    : [];
};
const run = (ws: string, credential: string, current: string, env: Record<string, string> = {}) =>
  runAction({
    apiUrl: urls.github,
    workspace: ws,
    inputs: { credential },
    env: {
      DIGITALOCEAN_API_URL: urls.digitalocean,
      SUPABASE_API_URL: urls.supabase,
      DIGITALOCEAN_TOKEN: DO_TOKEN,
      SUPABASE_ACCESS_TOKEN: PAT,
      CURRENT: current,
      ...env,
    },
  });

/** Kills a run at `point`, checks where it died, and returns what it left for the rerun. */
async function killAtPoint(
  ws: string,
  credential: string,
  current: string,
  point: Failpoint,
  cell: (typeof cells)[number],
): Promise<ChildRun> {
  const killed = await run(ws, credential, current, killAt(point));
  cell.diedAt = killed.signal === 'SIGKILL' ? (lastGroup(killed.stdout) ?? '?') : `not killed (${killed.outputs.status})`;
  expect(killed.signal, killed.stdout + killed.stderr).toBe('SIGKILL');
  expect(lastGroup(killed.stdout)).toBe(STEPS[stepOfPoint(point)]);
  expect(killed.outputs.status).toBeUndefined();
  expect(evidenceFiles(ws)).toEqual([]);
  return killed;
}

/** The rerun a workflow does after the kill: `current` is what the GitHub secret holds now. */
async function rerun(ws: string, credential: string, secret: string): Promise<ChildRun> {
  const again = await run(ws, credential, ghSecret(secret)!);
  expect(again.code, again.stdout).toBe(0);
  expect(again.outputs.status).toBe('rotated');
  return again;
}

/** Nothing any of the runs masked shows up on a surface a person or a log could see. */
function expectNoLeak(ws: string, runs: ChildRun[], known: string[], more: string[]) {
  const haystack = leakHaystack(
    ...runs.flatMap((r) => [withoutMasks(r.stdout), r.stderr, r.summary, Object.values(r.state)]),
    evidenceFiles(ws),
    JSON.stringify(github.requests),
    ...more,
  );
  const secrets = new Set([...known, DIST_TOKEN, ...runs.flatMap((r) => maskedValues(r.stdout))]);
  for (const secret of secrets) expect(haystack).not.toContain(secret);
}

describe('digitalocean-reset: dist/index.js killed at a checkpoint, then rerun', () => {
  const POINTS = pointsFor(2, 1, 1);
  const logsIn = async (password: string) => (await login(fx(), ROLE, password)).ok;
  const doFile = (ws: string) => fileValue(ws, 'do.env', 'DB_PASSWORD');

  beforeAll(async () => {
    // Start from a consistent state: the GitHub secret holds the live password.
    const first = await run(newWorkspace(policies[ROLE]), ROLE, doSeed);
    expect(first.outputs.status, first.stdout).toBe('rotated');
  });

  it.each(POINTS)('killed at %s: a plain rerun converges', async (point) => {
    const ws = newWorkspace(policies[ROLE]);
    const before = ghSecret('DB_PASSWORD')!;
    const logStart = fx().server.log.length;
    const deploys = doModel.deployments.size;

    const cell = { method: 'digitalocean-reset', point, diedAt: '?', converged: false };
    cells.push(cell);
    const killed = await killAtPoint(ws, ROLE, before, point, cell);
    expect(await rotationSessionsGone(fx())).toBe(0);
    // What the kill left: DigitalOcean's reset is final, so the old password is already dead and the
    // value the killed run was issued is the live one, held by the stores written so far (if any).
    expect(await logsIn(before)).toBe(false);
    // Every run masks all the policy's secrets (the Supabase token too): the issued value is the one left.
    // The GitHub store also masks the sealed box it sends (libsodium's: 48 bytes longer than the value, base64).
    const masked = [...new Set(maskedValues(killed.stdout))];
    const sealed = (v: string) => masked.some((w) => w !== v && Buffer.from(v, 'base64').length === Buffer.byteLength(w) + 48);
    const issued = masked.filter((v) => v !== before && v !== DO_TOKEN && v !== DIST_TOKEN && v !== PAT && !sealed(v));
    expect(issued).toHaveLength(1);
    expect(await logsIn(issued[0])).toBe(true);
    const current = ghSecret('DB_PASSWORD')!;
    const again = await rerun(ws, ROLE, 'DB_PASSWORD');

    const fresh = ghSecret('DB_PASSWORD')!;
    expect(doFile(ws)).toBe(fresh);
    expect(await logsIn(fresh)).toBe(true);
    // The reset is final: the value before the kill and whatever the killed run was issued are refused.
    for (const older of new Set([before, current, ...issued])) {
      expect(await login(fx(), ROLE, older)).toMatchObject({ ok: false, code: '28P01' });
    }
    // The app was restarted after the rerun's reset, and that deployment is ACTIVE.
    expect(doModel.deployments.size).toBeGreaterThan(deploys);
    expect([...doModel.deployments.values()].at(-1)!.phases.at(-1)).toBe('ACTIVE');
    expectNoLeak(
      ws,
      [killed, again],
      [before, current, fresh, DO_TOKEN],
      [JSON.stringify(doModel.requests), fx().server.log.slice(logStart).join('\n')],
    );
    cell.converged = true;
  });
});

describe('supabase-secret-key: dist/index.js killed at a checkpoint, then rerun', () => {
  const POINTS = pointsFor(2, 1, 1);
  /** What a person checks: the project API answers the key (200) or refuses it (401). */
  const status = async (key: string) => (await fetch(`${urls.project}/rest/v1/`, { headers: { apikey: key } })).status;
  const ours = () => sb.project(REF).keys.filter((k) => k.type === 'secret' && k.name.startsWith('service_key'));
  const sbFile = (ws: string) => fileValue(ws, 'supabase.env', 'SUPABASE_SECRET_KEY');
  let other: string;

  beforeAll(async () => {
    other = sb.key(REF, 'other_tool')!.api_key;
    const first = await run(newWorkspace(policies.service_key), 'service_key', sb.key(REF, 'service_key')!.api_key);
    expect(first.outputs.status, first.stdout).toBe('rotated');
  });

  it.each(POINTS)('killed at %s: a plain rerun converges', async (point) => {
    const ws = newWorkspace(policies.service_key);
    const before = ghSecret('SUPABASE_SECRET_KEY')!;
    const keysBefore = sb.project(REF).keys.map((k) => k.api_key);

    const cell = { method: 'supabase-secret-key', point, diedAt: '?', converged: false };
    cells.push(cell);
    const killed = await killAtPoint(ws, 'service_key', before, point, cell);
    // Keys are additive and the old one is deleted only at the end: after any kill, every store
    // target that was written holds a key the project API answers.
    for (const value of [ghSecret('SUPABASE_SECRET_KEY'), sbFile(ws)]) if (value !== undefined) expect(await status(value)).toBe(200);
    const current = ghSecret('SUPABASE_SECRET_KEY')!;
    const issued = ours().map((k) => k.api_key);
    // Until the revoke, the killed run's key is live next to the old one; from revoke.after, only it.
    expect(issued).toHaveLength(point === 'revoke.after' || point === 'evidence.before' ? 1 : 2);
    const again = await rerun(ws, 'service_key', 'SUPABASE_SECRET_KEY');

    const fresh = ghSecret('SUPABASE_SECRET_KEY')!;
    expect(sbFile(ws)).toBe(fresh);
    expect(sb.secretValue(REF, 'SERVICE_KEY')).toBe(fresh);
    expect(await status(fresh)).toBe(200);
    // Exactly one key of this credential is left: the old one and any the killed run created are deleted.
    expect(ours().map((k) => k.api_key)).toEqual([fresh]);
    for (const older of new Set([before, current, ...issued])) if (older !== fresh) expect(await status(older)).toBe(401);
    // Another tool's key is never touched.
    expect(await status(other)).toBe(200);
    expectNoLeak(ws, [killed, again], [before, current, fresh, PAT, ...keysBefore, ...issued], [JSON.stringify(sb.requests)]);
    cell.converged = true;
  });
});

describe('supabase-db-password: dist/index.js killed at a checkpoint, then rerun', () => {
  const POINTS = pointsFor(2, 0, 1);
  const logsIn = async (password: string) => (await login(fx(), SB_ROLE, password)).ok;
  const dbFile = (ws: string) => fileValue(ws, 'supabase-db.env', 'SUPABASE_DB_PASSWORD');

  beforeAll(async () => {
    const first = await run(newWorkspace(policies.supabase_db), 'supabase_db', sbSeed);
    expect(first.outputs.status, first.stdout).toBe('rotated');
  });

  it.each(POINTS)('killed at %s: a plain rerun converges', async (point) => {
    const ws = newWorkspace(policies.supabase_db);
    const before = ghSecret('SUPABASE_DB_PASSWORD')!;
    const logStart = fx().server.log.length;
    const patches = () => sb.count({ method: 'PATCH', path: `/v1/projects/${REF}/database/password` });
    const patchesBefore = patches();
    const cell = { method: 'supabase-db-password', point, diedAt: '?', converged: false };
    cells.push(cell);
    const killed = await killAtPoint(ws, 'supabase_db', before, point, cell);
    expect(await rotationSessionsGone(fx())).toBe(0);
    // Invariant 1: the live password is never only in the killed process. Before the API call the
    // old one is live (the stores may be ahead); from the call on, the GitHub secret holds the live one.
    const applied = patches() > patchesBefore;
    expect(applied).toBe(!point.startsWith('store.') && point !== 'apply.before');
    expect(await logsIn(before)).toBe(!applied);
    if (applied) expect(await logsIn(ghSecret('SUPABASE_DB_PASSWORD')!)).toBe(true);
    const current = ghSecret('SUPABASE_DB_PASSWORD')!;
    const again = await rerun(ws, 'supabase_db', 'SUPABASE_DB_PASSWORD');

    const fresh = ghSecret('SUPABASE_DB_PASSWORD')!;
    expect(dbFile(ws)).toBe(fresh);
    expect(await logsIn(fresh)).toBe(true);
    for (const older of new Set([before, current]))
      if (older !== fresh) expect(await login(fx(), SB_ROLE, older)).toMatchObject({ ok: false, code: '28P01' });
    expectNoLeak(
      ws,
      [killed, again],
      [before, current, fresh, PAT],
      [JSON.stringify(sb.requests), fx().server.log.slice(logStart).join('\n')],
    );
    cell.converged = true;
  });
});
