import { runNode } from '../helpers/child.js';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGitHubModel, type GitHubModel } from '../models/github.js';
import { serveHandlers } from '../models/serve.js';
import { leakHaystack, login, usePostgres } from '../helpers/postgres.js';

/**
 * The bundled action, run the way the runner runs it: `node dist/index.js` with INPUT_* variables,
 * GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, GITHUB_STATE and GITHUB_API_URL pointing at a local GitHub
 * stand-in, against a real PostgreSQL 16.
 */
const fx = usePostgres();
const TOKEN = 'ghs_dist_test_token_abcdefghijklmnop';
const SPEC_POLICY = readFileSync(new URL('../fixtures/spec-policy.yaml', import.meta.url), 'utf8');
let github: GitHubModel;
let api: { url: string; close: () => Promise<void> };
let health: Server;
let healthUrl: string;

beforeAll(async () => {
  github = createGitHubModel({
    token: TOKEN,
    repos: [{ full_name: 'acme/ops', environments: ['production'], workflows: [{ file: 'deploy-odoo.yml', pollsToComplete: 1 }] }],
  });
  api = await serveHandlers(github.handlers, { rewriteTo: github.baseUrl });
  // Odoo's /web/health after the deploy: healthy when the password GitHub now holds logs in.
  health = createServer(async (_req, res) => {
    const stored = github.secretValue({ repository: 'acme/ops', environment: 'production', name: 'ODOO_DB_PASSWORD' });
    const ok = stored !== undefined && (await login(fx(), 'odoo_app', stored)).ok;
    res.writeHead(ok ? 200 : 500, { 'content-type': 'application/json' }).end(JSON.stringify({ status: ok ? 'pass' : 'fail' }));
  });
  await new Promise<void>((r) => health.listen(0, '127.0.0.1', r));
  healthUrl = `http://127.0.0.1:${(health.address() as { port: number }).port}/web/health`;
});
afterAll(async () => {
  await api?.close();
  health?.close();
});

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  summary: string;
  state: string;
  workspace: string;
}

async function runAction(inputs: Record<string, string>, env: Record<string, string>, policy: string): Promise<Run> {
  const workspace = mkdtempSync(join(tmpdir(), 'dist-run-'));
  mkdirSync(join(workspace, '.github'));
  writeFileSync(join(workspace, '.github/rotation.yaml'), policy);
  const files = {
    GITHUB_OUTPUT: join(workspace, '../', `${workspace.split('/').pop()}.out`),
    GITHUB_STEP_SUMMARY: join(workspace, '..', `${workspace.split('/').pop()}.summary`),
    GITHUB_STATE: join(workspace, '..', `${workspace.split('/').pop()}.state`),
  };
  for (const f of Object.values(files)) writeFileSync(f, '');
  // Asynchronous: the GitHub stand-in and the health endpoint answer from this process.
  const {
    code: status,
    stdout,
    stderr,
  } = await runNode(['dist/index.js'], {
    timeout: 60_000,
    env: {
      PATH: process.env.PATH,
      GITHUB_ACTIONS: 'true',
      GITHUB_API_URL: api.url,
      GITHUB_REPOSITORY: 'acme/ops',
      GITHUB_WORKSPACE: workspace,
      GITHUB_RUN_ID: '4242',
      GITHUB_ACTOR: 'octocat',
      GITHUB_EVENT_NAME: 'workflow_dispatch',
      ...files,
      ...Object.fromEntries(
        Object.entries({ credential: 'odoo_app', reason: 'manual', 'github-token': TOKEN, 'dry-run': 'false', ...inputs }).map(([k, v]) => [
          `INPUT_${k.toUpperCase()}`,
          v,
        ]),
      ),
      ...env,
    },
  });
  const outputs: Record<string, string> = {};
  for (const m of readFileSync(files.GITHUB_OUTPUT, 'utf8').matchAll(/^([\w-]+)<<(\S+)\n([\s\S]*?)\n\2$/gm)) outputs[m[1]] = m[3];
  return {
    status,
    stdout,
    stderr,
    outputs,
    summary: readFileSync(files.GITHUB_STEP_SUMMARY, 'utf8'),
    state: readFileSync(files.GITHUB_STATE, 'utf8'),
    workspace,
  };
}

const policyFor = () => SPEC_POLICY.replace('https://erp.example.com/web/health', healthUrl);
const envFor = (current: string) => ({ ROTATION_ADMIN_URL: fx().platform.adminUrl, ODOO_DB_PASSWORD: current });
const stored = (environment?: string, name = 'ODOO_DB_PASSWORD') => github.secretValue({ repository: 'acme/ops', environment, name });

describe('dist/index.js run as the runner runs it', () => {
  it('rotates with the SPEC 2.1 policy: every target holds the new value, it logs in, the old is refused, nothing leaks', async () => {
    const old = fx().platform.passwords.odoo_app.reveal();
    const logStart = fx().server.log.length;
    const run = await runAction({}, envFor(old), policyFor());

    expect(run.stderr).toBe('');
    expect(run.status, run.stdout).toBe(0);
    expect(run.outputs.status).toBe('rotated');
    expect(run.outputs['rotated-at']).toMatch(/^\d{4}-\d\d-\d\dT/);
    const fresh = stored()!;
    expect(fresh).toMatch(/^[A-Za-z0-9._~-]{32}$/);
    expect(stored('production')).toBe(fresh);
    expect(readFileSync(join(run.workspace, '.secrets/odoo.env'), 'utf8')).toBe(`ODOO_DB_PASSWORD=${fresh}\n`);
    expect((await login(fx(), 'odoo_app', fresh)).ok).toBe(true);
    expect(await login(fx(), 'odoo_app', old)).toMatchObject({ ok: false, code: '28P01' });
    expect(github.workflows.runs.length).toBeGreaterThan(0);

    // Evidence, job summary and log, as a person reads them.
    const evidence = readFileSync(join(run.workspace, run.outputs['evidence-path']), 'utf8');
    expect(JSON.parse(evidence)).toMatchObject({
      status: 'rotated',
      trigger: { actor: 'octocat', event: 'workflow_dispatch', run_url: 'https://github.com/acme/ops/actions/runs/4242' },
    });
    expect(run.summary).toContain('| 3. Apply it at the source | ✅ ok |');
    expect(run.summary.match(/^\| \S.* \| (✅|❌|⏭️) \w+ \| \d+ ms \|/gm)).toHaveLength(9);
    expect(run.stdout).toContain('::group::1. Generate the new credential');
    expect(run.stdout).toContain(`::add-mask::${old}`);

    // Masks are the only place the runner is told a value; nothing else carries one.
    const stdoutWithoutMasks = run.stdout.replace(/^::add-mask::.*$/gm, '');
    const md = readFileSync(join(run.workspace, run.outputs['evidence-path'].replace(/json$/, 'md')), 'utf8');
    const haystack = leakHaystack(
      stdoutWithoutMasks,
      run.stderr,
      run.summary,
      run.state,
      evidence,
      md,
      JSON.stringify(run.outputs),
      fx().server.log.slice(logStart),
    );
    for (const secret of [old, fresh, TOKEN]) expect(haystack).not.toContain(secret);
  });

  it('a rerun rotates again, and a format target carries a connection URL that logs in', async () => {
    const current = stored()!;
    const withUrl = policyFor().replace(
      '      - file: { path: .secrets/odoo.env',
      `      - github: { repository: acme/ops, secret: ODOO_DATABASE_URL, format: "postgresql://odoo_app:{password}@127.0.0.1:${fx().server.port}/odoo" }\n      - file: { path: .secrets/odoo.env`,
    );
    const run = await runAction({}, envFor(current), withUrl);
    expect(run.status).toBe(0);
    const url = stored(undefined, 'ODOO_DATABASE_URL')!;
    expect(url).toBe(`postgresql://odoo_app:${stored()}@127.0.0.1:${fx().server.port}/odoo`);
    const pg = await import('pg');
    const client = new pg.default.Client({ connectionString: url });
    await client.connect();
    expect((await client.query('SELECT current_user AS u')).rows[0].u).toBe('odoo_app');
    await client.end();
  });

  describe('bad input changes nothing and says why', () => {
    const unchanged = async (run: Run, before: string) => {
      expect(run.status).toBe(1);
      expect(stored()).toBe(before);
      expect((await login(fx(), 'odoo_app', before)).ok).toBe(true);
      expect(existsSync(join(run.workspace, 'docs'))).toBe(false);
    };

    it('a dry run', async () => {
      const before = stored()!;
      const run = await runAction({ 'dry-run': 'true' }, envFor(before), policyFor());
      expect(run.status).toBe(0);
      expect(run.outputs.status).toBe('skipped');
      expect(run.stdout).toContain('dry run: preflight passed');
      expect(stored()).toBe(before);
      expect((await login(fx(), 'odoo_app', before)).ok).toBe(true);
    });

    it('an unknown credential', async () => {
      const before = stored()!;
      const run = await runAction({ credential: 'odoo_ap' }, envFor(before), policyFor());
      expect(run.stdout).toContain("::error::unknown credential 'odoo_ap'. .github/rotation.yaml defines: odoo_app");
      expect(run.outputs.status).toBe('failed');
      await unchanged(run, before);
    });

    it('a missing variable', async () => {
      const before = stored()!;
      const run = await runAction({}, { ROTATION_ADMIN_URL: fx().platform.adminUrl }, policyFor());
      expect(run.stdout).toContain('credentials.odoo_app.current: environment variable ODOO_DB_PASSWORD is not set');
      await unchanged(run, before);
    });

    it('a token GitHub refuses', async () => {
      const before = stored()!;
      const run = await runAction({ 'github-token': 'ghs_revoked_token_000000000000' }, envFor(before), policyFor());
      expect(run.stdout).toMatch(/::error::.*HTTP 401/);
      expect(run.stdout.replace(/^::add-mask::.*$/gm, '')).not.toContain('ghs_revoked_token_000000000000');
      await unchanged(run, before);
    });
  });
});
