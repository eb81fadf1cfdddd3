import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { setupServer } from 'msw/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rotateCredential, type RotationResult } from '../../src/engine/rotate.js';
import { describeError } from '../../src/errors/errors.js';
import { parsePolicy } from '../../src/registry/load-policy.js';
import { createGitHubModel, type GitHubModel } from '../models/github.js';
import { serveHandlers } from '../models/serve.js';
import { leakHaystack, login, makeRole, usePostgres } from '../helpers/postgres.js';
import { GITHUB_TEST_TOKEN, testRuntime, type TestRuntime } from '../helpers/runtime.js';
import { newWorkspace, runAction, withoutMasks, type ChildRun } from '../helpers/action-child.js';

/**
 * Invariant 5 with bad input: each case gets a clear error, and nothing changed: the old password
 * still logs in, every GitHub secret (as the model decrypts it) and the file hold what they held.
 * A representative few run through dist/index.js, the rest through rotateCredential.
 */
const fx = usePostgres();
const msw = setupServer();
let github: GitHubModel;
let api: { url: string; close: () => Promise<void> };
let ws: string;
let before: string;
const trigger = { event: 'workflow_dispatch', actor: 'ops' };

const policy = (credential = 'odoo_app', extra = '', store = DEFAULT_STORE) => `version: 1
systems:
  odoo-sor:
    type: postgres
    admin_url: \${ROTATION_ADMIN_URL}
credentials:
  ${credential}:
    system: odoo-sor
    method: alter-role
    cadence: quarterly
    current: \${CURRENT}
${extra}    store:
${store}`;
const DEFAULT_STORE = `      - github: { repository: acme/ops, secret: ODOO_DB_PASSWORD }
      - github: { repository: acme/ops, environment: production, secret: ODOO_DB_PASSWORD }
      - file: { path: .secrets/odoo.env, key: ODOO_DB_PASSWORD }
`;

beforeAll(async () => {
  github = createGitHubModel({ token: GITHUB_TEST_TOKEN, repos: [{ full_name: 'acme/ops', environments: ['production'] }] });
  msw.listen({ onUnhandledFrame: 'error' });
  msw.resetHandlers(...github.handlers);
  api = await serveHandlers(github.handlers, { rewriteTo: github.baseUrl });
  // Every target holds the live password to begin with.
  const runtime = testRuntime();
  ws = runtime.workspace;
  const seeded = await rotate(policy(), fx().platform.passwords.odoo_app.reveal(), runtime);
  expect(seeded.status, seeded.summary).toBe('rotated');
  before = stored()!;
});
afterAll(async () => {
  msw.close();
  await api?.close();
});

const stored = (environment?: string) => github.secretValue({ repository: 'acme/ops', environment, name: 'ODOO_DB_PASSWORD' });
const fileValue = (dir = ws) => readFileSync(join(dir, '.secrets/odoo.env'), 'utf8').match(/^ODOO_DB_PASSWORD=(.*)$/m)?.[1];
const env = (current: string) => ({ ROTATION_ADMIN_URL: fx().platform.adminUrl, CURRENT: current });
function rotate(
  text: string,
  current: string,
  runtime: TestRuntime = testRuntime({ workspace: ws }),
  credential = text.match(/^credentials:\n {2}(\S+):/m)![1],
) {
  return rotateCredential(
    parsePolicy(text, '.github/rotation.yaml', env(current)),
    { credential, reason: 'manual', dryRun: false, trigger },
    runtime,
  );
}
/** A dist/index.js run in a workspace whose file target holds `before`. */
function child(text: string, current = before, inputs: Record<string, string> = {}): Promise<ChildRun> {
  const workspace = newWorkspace(text);
  mkdirSync(join(workspace, '.secrets'));
  writeFileSync(join(workspace, '.secrets/odoo.env'), `ODOO_DB_PASSWORD=${before}\n`);
  return runAction({ apiUrl: api.url, workspace, env: env(current), inputs: { 'github-token': GITHUB_TEST_TOKEN, ...inputs } });
}

/** Nothing changed: the password, both GitHub secrets and the file(s); no evidence; nothing leaked. */
async function unchanged(places: {
  dirs?: string[];
  texts?: (string | string[])[];
  logStart: number;
  secrets?: string[];
  evidence?: boolean;
}) {
  expect((await login(fx(), 'odoo_app', before)).ok).toBe(true);
  expect([stored(), stored('production')]).toEqual([before, before]);
  for (const dir of places.dirs ?? [ws]) {
    expect(fileValue(dir)).toBe(before);
    // A run that changed nothing before failing leaves no record; one that backed out leaves one.
    if (dir !== ws) expect(existsSync(join(dir, 'docs'))).toBe(places.evidence ?? false);
  }
  const haystack = leakHaystack(...(places.texts ?? []), fx().server.log.slice(places.logStart));
  for (const secret of [before, fx().platform.adminUrl.split(':')[2].split('@')[0], GITHUB_TEST_TOKEN, ...(places.secrets ?? [])])
    expect(haystack).not.toContain(secret);
}
const childTexts = (run: ChildRun) => [
  withoutMasks(run.stdout),
  run.stderr,
  run.summary,
  Object.values(run.outputs),
  Object.values(run.state),
];
const resultTexts = (r: RotationResult, runtime?: TestRuntime) => [r.summary, JSON.stringify(r.record), runtime?.reporter.lines ?? []];

describe('a policy the loader refuses: the error names the file, the key and what was expected', () => {
  const cases: [string, string, RegExp][] = [
    [
      'malformed YAML',
      policy().replace('cadence: quarterly', 'cadence: [quarterly'),
      /^\.github\/rotation\.yaml: \d+ problems:\n {2}- line 11, column 5: Flow sequence/,
    ],
    ['an unknown key', policy('odoo_app', '    cadense: monthly\n'), /credentials\.odoo_app\.cadense: unknown key/],
    ['a wrong type', policy().replace('cadence: quarterly', 'cadence: 90'), /credentials\.odoo_app\.cadence/],
    [
      'a bad cadence',
      policy().replace('cadence: quarterly', 'cadence: fortnightly'),
      /credentials\.odoo_app\.cadence.*monthly \| quarterly \| annually/,
    ],
    [
      'duplicate targets',
      policy('odoo_app', '', `${DEFAULT_STORE}      - github: { repository: acme/ops, secret: odoo_db_password }\n`),
      /^\.github\/rotation\.yaml: credentials\.odoo_app\.store\[3\]\.github: duplicate store target \(same as credentials\.odoo_app\.store\[0\]\.github\)$/,
    ],
    [
      'a secret name GitHub refuses (GITHUB_ prefix)',
      policy('odoo_app', '', DEFAULT_STORE.replace('secret: ODOO_DB_PASSWORD }', 'secret: GITHUB_DB_PASSWORD }')),
      /store\[0\]\.github\.secret.*a GitHub secret name/,
    ],
    [
      'a secret name GitHub refuses (a hyphen)',
      policy('odoo_app', '', DEFAULT_STORE.replace('secret: ODOO_DB_PASSWORD }', 'secret: ODOO-DB-PASSWORD }')),
      /store\[0\]\.github\.secret.*a GitHub secret name/,
    ],
    [
      'a secret name GitHub refuses (leading digit)',
      policy('odoo_app', '', DEFAULT_STORE.replace('secret: ODOO_DB_PASSWORD }', 'secret: 1ODOO }')),
      /store\[0\]\.github\.secret.*a GitHub secret name/,
    ],
  ];
  it.each(cases)('%s', async (_name, text, message) => {
    const logStart = fx().server.log.length;
    let error: unknown;
    try {
      parsePolicy(text, '.github/rotation.yaml', env(before));
    } catch (e) {
      error = e;
    }
    expect(describeError(error)).toMatch(message);
    await unchanged({ texts: [describeError(error), JSON.stringify(error), String((error as Error).stack)], logStart });
  });

  it('malformed YAML through dist/index.js: exit 1, the error, nothing changed', async () => {
    const logStart = fx().server.log.length;
    const run = await child(policy().replace('cadence: quarterly', 'cadence: [quarterly'));
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^::error::\.github\/rotation\.yaml: \d+ problems:%0A {2}- line 11, column 5: .*\(nothing was changed\)$/m);
    await unchanged({ dirs: [run.workspace], texts: childTexts(run), logStart });
  });
});

describe('role names that need quoting', () => {
  it.each([['odoo"app;'], ['ödoo_app'], ['app; DROP ROLE odoo_app; --']])(
    'an existing role %j rotates: the new value logs in, the old is refused',
    async (role) => {
      const old = (await makeRole(fx(), role)).reveal();
      const logStart = fx().server.log.length;
      const text = policy(
        'odd_role',
        `    role: '${role.replace(/'/g, "''")}'\n`,
        '      - file: { path: .secrets/odd.env, key: ODOO_DB_PASSWORD }\n',
      );
      const runtime = testRuntime({ workspace: ws });
      const result = await rotate(text, old, runtime);
      expect(result.status, result.summary).toBe('rotated');
      const fresh = readFileSync(join(ws, '.secrets/odd.env'), 'utf8').match(/^ODOO_DB_PASSWORD=(.*)$/m)![1];
      expect((await login(fx(), role, fresh)).ok).toBe(true);
      expect(await login(fx(), role, old)).toMatchObject({ ok: false, code: '28P01' });
      await unchanged({ texts: resultTexts(result, runtime), logStart, secrets: [old, fresh] });
    },
  );

  it('through dist/index.js: a role named odoo"app; rotates', async () => {
    const role = 'q"uoted;';
    const old = (await makeRole(fx(), role)).reveal();
    const run = await child(
      policy('quoted', `    role: '${role}'\n`, '      - file: { path: .secrets/odd.env, key: ODOO_DB_PASSWORD }\n'),
      old,
      { credential: 'quoted' },
    );
    expect(run.code, run.stdout).toBe(0);
    const fresh = readFileSync(join(run.workspace, '.secrets/odd.env'), 'utf8').match(/^ODOO_DB_PASSWORD=(.*)$/m)![1];
    expect((await login(fx(), role, fresh)).ok).toBe(true);
    expect(await login(fx(), role, old)).toMatchObject({ ok: false, code: '28P01' });
  });

  it.each([['ghost"; DROP ROLE odoo_app; --'], ['ghöst']])('a role %j that does not exist is refused before any change', async (role) => {
    const logStart = fx().server.log.length;
    const runtime = testRuntime({ workspace: ws });
    const result = await rotate(policy('odoo_app', `    role: '${role}'\n`), before, runtime);
    expect(result.status).toBe('failed');
    expect(result.summary).toBe(
      `role ${JSON.stringify(role)} does not exist on 127.0.0.1:${fx().server.port}/odoo. check credentials.*.role (it defaults to the credential id)`,
    );
    expect(result.evidencePath).toBeUndefined();
    await unchanged({ texts: resultTexts(result, runtime), logStart });
  });
});

describe('permissions', () => {
  it('an admin without ADMIN OPTION on the role: refused with the GRANT that fixes it', async () => {
    const old = (await makeRole(fx(), 'no_admin_opt', { adminOption: false })).reveal();
    const logStart = fx().server.log.length;
    const runtime = testRuntime({ workspace: ws });
    const result = await rotate(policy('no_admin_opt'), old, runtime);
    expect(result.summary).toBe(
      'the admin connection (role rotation_admin) may not change the password of role no_admin_opt. it needs CREATEROLE and ADMIN OPTION on no_admin_opt: GRANT no_admin_opt TO rotation_admin WITH ADMIN OPTION, INHERIT FALSE, SET FALSE',
    );
    expect((await login(fx(), 'no_admin_opt', old)).ok).toBe(true);
    await unchanged({ texts: resultTexts(result, runtime), logStart, secrets: [old] });
  });

  it('the GRANT in the hint quotes a name that needs it', async () => {
    const old = (await makeRole(fx(), 'No"Admin', { adminOption: false })).reveal();
    const result = await rotate(policy('odd', "    role: 'No\"Admin'\n"), old);
    expect(result.summary).toContain('GRANT "No""Admin" TO rotation_admin WITH ADMIN OPTION, INHERIT FALSE, SET FALSE');
    expect((await login(fx(), 'No"Admin', old)).ok).toBe(true);
  });

  it('a token without Secrets write (403 on the first write, not detectable before): the change is aborted, nothing holds the new value', async () => {
    github.permissions.secrets = 'read';
    try {
      const logStart = fx().server.log.length;
      const runtime = testRuntime({ workspace: ws });
      const result = await rotate(policy(), before, runtime);
      expect(result.status).toBe('failed');
      expect(result.summary).toMatch(/^writing github acme\/ops ODOO_DB_PASSWORD failed: .*403/);
      expect(result.record.notes).toContain('change aborted: the old credential is still the live one');
      await unchanged({ texts: resultTexts(result, runtime), logStart });
    } finally {
      github.permissions.secrets = 'write';
    }
  });

  it('through dist/index.js, a token that may not write environment secrets (403 on the second write): the first target is restored', async () => {
    github.permissions.environments = 'read';
    try {
      const logStart = fx().server.log.length;
      const putsBefore = github.count({ method: 'PUT', path: /\/actions\/secrets\/ODOO_DB_PASSWORD$/ });
      const run = await child(policy());
      expect(run.code).toBe(1);
      expect(run.stdout).toMatch(/::error::.*github acme\/ops environment production ODOO_DB_PASSWORD.*403/);
      // The repository secret took the new value, then the old one again.
      expect(github.count({ method: 'PUT', path: /\/repos\/acme\/ops\/actions\/secrets\/ODOO_DB_PASSWORD$/ }) - putsBefore).toBe(2);
      const evidence = JSON.parse(readFileSync(join(run.workspace, run.outputs['evidence-path']), 'utf8'));
      expect(evidence.stores[0]).toMatchObject({
        target: 'github acme/ops ODOO_DB_PASSWORD',
        detail: 'new value written, then restored to the old value',
      });
      await unchanged({ dirs: [run.workspace], texts: [...childTexts(run), JSON.stringify(evidence)], logStart, evidence: true });
    } finally {
      github.permissions.environments = 'write';
    }
  });

  it('through dist/index.js, a missing environment (404): refused in preflight', async () => {
    const logStart = fx().server.log.length;
    const run = await child(policy().replace('environment: production', 'environment: staging'));
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(
      "::error::odoo_app: GitHub: read the Actions secrets public key of environment 'staging' of acme/ops: HTTP 404 (Not Found). environment 'staging' of acme/ops was not found: create the environment in acme/ops's settings",
    );
    await unchanged({ dirs: [run.workspace], texts: childTexts(run), logStart });
  });
});
