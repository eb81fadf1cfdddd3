// Issue 9 §5: what cannot end well is refused before any change, with a message naming the problem.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { setupServer } from 'msw/node';
import { describe, expect, it } from 'vitest';
import { rotateCredential } from '../../src/engine/rotate.js';
import { describeError } from '../../src/errors/errors.js';
import { loadPolicy, parsePolicy } from '../../src/registry/load-policy.js';
import { MAX_POLICY_BYTES } from '../../src/policy/load.js';
import { testRuntime, type TestRuntime } from '../helpers/runtime.js';
import { alterRolePolicy, alterRoleYaml, login, makeRole, usePostgres } from '../helpers/postgres.js';
import { ALL_SCOPES, createDigitalOceanModel } from '../models/digitalocean.js';
import { clusterOn, doadminPolicy } from '../helpers/digitalocean.js';
import { tryLogin } from '../../src/postgres/connect.js';
import { rotationRequest as request } from '../helpers/request.js';

const fx = usePostgres();
const env = (current: string) => ({ ROTATION_ADMIN_URL: fx().platform.adminUrl, CURRENT: current });

/** Every file and folder under `dir`, as relative paths (symlinks not followed). */
function tree(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      out.push(`${relative(dir, path)}${entry.isDirectory() ? '/' : ''}`);
      if (entry.isDirectory()) walk(path);
    }
  };
  walk(dir);
  return out.sort();
}

describe('rotating a role an admin URL of the policy logs in as is refused', () => {
  it("alter-role of the admin connection's own role: refused, even as a dry run; the admin still logs in", async () => {
    const adminPassword = decodeURIComponent(new URL(fx().platform.adminUrl).password);
    const text = alterRoleYaml(
      'rotation_admin',
      'CURRENT',
      '    store:\n      - file: { path: .secrets/admin.env, key: ADMIN_PASSWORD }\n',
    );
    for (const dryRun of [true, false]) {
      const runtime = testRuntime({ now: () => new Date() });
      const result = await rotateCredential(
        parsePolicy(text, 'rotation.yaml', env(adminPassword)),
        request('rotation_admin', { dryRun }),
        runtime,
      );
      expect(result.status).toBe('failed');
      expect(result.summary).toContain('refusing to rotate role rotation_admin: systems.odoo-sor.admin_url logs in as rotation_admin');
      expect(result.summary).toContain('lock this tool out of its next run');
      expect(result.summary).toContain('nothing was changed');
      expect(result.summary).not.toContain(adminPassword);
      expect(tree(runtime.workspace)).toEqual([]);
    }
    expect((await login(fx(), 'rotation_admin', adminPassword)).ok).toBe(true);
  });

  it('another system on the same server (another database) whose admin URL logs in as the role: refused', async () => {
    const old = await makeRole(fx(), 'lock_peer');
    const port = fx().server.port;
    const text = alterRolePolicy(fx(), 'lock_peer').replace(
      'credentials:\n',
      `  reports:\n    type: postgres\n    admin_url: postgresql://lock_peer:\${CURRENT}@localhost:${port}/postgres\ncredentials:\n`,
    );
    const runtime = testRuntime({ now: () => new Date() });
    const result = await rotateCredential(parsePolicy(text, 'rotation.yaml', env(old.reveal())), request('lock_peer'), runtime);
    expect(result.status).toBe('failed');
    expect(result.summary).toContain(`systems.reports.admin_url logs in as lock_peer on localhost:${port}`);
    expect((await login(fx(), 'lock_peer', old)).ok).toBe(true);
    expect(existsSync(join(runtime.workspace, '.secrets'))).toBe(false);

    // The same role name on another server is another role: rotated.
    const elsewhere = text.replace(`@localhost:${port}/postgres`, `@localhost:${port === 5432 ? 5433 : 5432}/postgres`);
    const ok = await rotateCredential(
      parsePolicy(elsewhere, 'rotation.yaml', env(old.reveal())),
      request('lock_peer'),
      testRuntime({ now: () => new Date() }),
    );
    expect(ok.status, ok.summary).toBe('rotated');
  });

  it('digitalocean-reset of the user an admin URL logs in as, on the cluster: refused before the reset', async () => {
    const msw = setupServer();
    const TOKEN = 'dop_v1_refusal_token_0123456789abcdef0123456789abcdef';
    const password = (await makeRole(fx(), 'do_lock')).reveal();
    const model = createDigitalOceanModel({ tokens: { [TOKEN]: ALL_SCOPES }, clusters: [clusterOn(fx().server, { do_lock: password })] });
    msw.listen({ onUnhandledFrame: 'bypass' });
    msw.resetHandlers(...model.handlers);
    try {
      const text = doadminPolicy('do_lock')
        .replace('    sslmode: disable', '    database: odoo\n    sslmode: disable')
        .replace(/^ {6}- github: .*\n/m, '')
        .replace(
          'credentials:\n',
          `  odoo-sor:\n    type: postgres\n    admin_url: postgresql://do_lock:\${DOADMIN_PASSWORD}@127.0.0.1:${fx().server.port}/odoo\ncredentials:\n`,
        );
      const policy = parsePolicy(text, 'rotation.yaml', { DIGITALOCEAN_TOKEN: TOKEN, DOADMIN_PASSWORD: password });
      const runtime = testRuntime({ now: () => new Date() });
      const result = await rotateCredential(policy, request('doadmin'), runtime);
      expect(result.status).toBe('failed');
      expect(result.summary).toContain('refusing to rotate role do_lock: systems.odoo-sor.admin_url logs in as do_lock');
      // No reset happened: the password DigitalOcean knows and the server accepts is the old one.
      expect((await tryLogin({ host: '127.0.0.1', port: fx().server.port, database: 'odoo', user: 'do_lock', password })).ok).toBe(true);
      expect(tree(runtime.workspace)).toEqual([]);
    } finally {
      msw.close();
    }
  });
});

describe('file stores and evidence_dir resolving outside the workspace are refused unless opted in', () => {
  async function attempt(role: string, edit: (text: string) => string, prepare: (ws: string) => void = () => undefined, dryRun = false) {
    const old = await makeRole(fx(), role);
    const runtime: TestRuntime = testRuntime({ now: () => new Date() });
    prepare(runtime.workspace);
    const before = tree(runtime.workspace);
    const result = await rotateCredential(
      parsePolicy(edit(alterRolePolicy(fx(), role)), 'rotation.yaml', env(old.reveal())),
      request(role, { dryRun }),
      runtime,
    );
    return { old, runtime, result, before };
  }
  const outside = () => mkdtempSync(join(tmpdir(), 'rotation-outside-'));

  it('a file path with .. that leaves the workspace: refused, nothing written anywhere', async () => {
    const away = outside();
    // Workspaces and `away` are both folders of the temporary directory.
    const { old, runtime, result, before } = await attempt('out_dotdot', (t) =>
      t.replace('path: .secrets/app.env, key: DB_PASSWORD', `path: ../${basename(away)}/app.env, key: DB_PASSWORD`),
    );
    expect(result.status).toBe('failed');
    expect(result.summary).toMatch(/credentials\.out_dotdot\.store\[0\]\.file\.path: ".*" resolves to .*, outside the workspace/);
    expect(result.summary).toContain('allow_outside_workspace: true');
    expect(readdirSync(away)).toEqual([]);
    expect(tree(runtime.workspace)).toEqual(before);
    expect((await login(fx(), 'out_dotdot', old)).ok).toBe(true);
  });

  it('a symlinked folder pointing outside (and a dangling one): refused, the target folder stays empty', async () => {
    for (const dangling of [false, true]) {
      const away = outside();
      const target = dangling ? join(away, 'not-yet') : away;
      const { old, result, runtime, before } = await attempt(
        `out_link${dangling ? '_d' : ''}`,
        (t) => t,
        (ws) => symlinkSync(target, join(ws, '.secrets')),
      );
      expect(result.status).toBe('failed');
      expect(result.summary).toContain('.file.path: ".secrets/app.env" resolves to');
      expect(result.summary).toContain('outside the workspace');
      expect(readdirSync(away)).toEqual([]);
      expect(tree(runtime.workspace)).toEqual(before);
      expect((await login(fx(), `out_link${dangling ? '_d' : ''}`, old)).ok).toBe(true);
    }
  });

  it('evidence_dir through a symlink outside: refused in preflight, dry run too', async () => {
    for (const dryRun of [true, false]) {
      const away = outside();
      const role = `out_evidence${dryRun ? '_dry' : ''}`;
      const { old, result, runtime, before } = await attempt(
        role,
        (t) => t.replace('version: 1\n', 'version: 1\nevidence_dir: records/evidence\n'),
        (ws) => symlinkSync(away, join(ws, 'records')),
        dryRun,
      );
      expect(result.status).toBe('failed');
      expect(result.summary).toContain('evidence_dir: "records/evidence" resolves to');
      expect(result.record.steps.find((s) => s.step === 'preflight')?.outcome).toBe('failed');
      expect(readdirSync(away)).toEqual([]);
      expect(tree(runtime.workspace)).toEqual(before);
      expect((await login(fx(), role, old)).ok).toBe(true);
    }
  });

  it('opted in (on the file target; at the top for evidence_dir): rotated, written outside', async () => {
    const away = outside();
    const { result, runtime } = await attempt('out_allowed', (t) =>
      t
        .replace('version: 1\n', `version: 1\nallow_outside_workspace: true\nevidence_dir: ${join(away, 'evidence')}\n`)
        .replace(
          'path: .secrets/app.env, key: DB_PASSWORD',
          `path: ${join(away, 'app.env')}, key: DB_PASSWORD, allow_outside_workspace: true`,
        ),
    );
    expect(result.status, result.summary).toBe('rotated');
    expect(readFileSync(join(away, 'app.env'), 'utf8')).toMatch(/^DB_PASSWORD=.{32}$/m);
    expect(existsSync(join(result.evidencePath ? join(runtime.workspace, result.evidencePath) : 'missing'))).toBe(true);
    expect(readdirSync(join(away, 'evidence')).length).toBe(1);
  });
});

describe('a dry run creates no file or folder', () => {
  it('the workspace tree is the same before and after, with stores in folders that do not exist yet', async () => {
    const old = await makeRole(fx(), 'dry_tree');
    const runtime = testRuntime({ now: () => new Date() });
    mkdirSync(join(runtime.workspace, '.github'));
    writeFileSync(join(runtime.workspace, '.github/rotation.yaml'), 'seen\n');
    const text = alterRolePolicy(fx(), 'dry_tree').replaceAll('.secrets/app.env', 'deploy/.secrets/nested/app.env');
    const before = tree(runtime.workspace);
    const result = await rotateCredential(
      parsePolicy(text, 'rotation.yaml', env(old.reveal())),
      request('dry_tree', { dryRun: true }),
      runtime,
    );
    expect(result.status, result.summary).toBe('skipped');
    expect(result.summary).toMatch(/^dry run: preflight passed/);
    expect(tree(runtime.workspace)).toEqual(before);
    // And a real run then creates the folders (0700) it needs.
    const real = await rotateCredential(parsePolicy(text, 'rotation.yaml', env(old.reveal())), request('dry_tree'), runtime);
    expect(real.status, real.summary).toBe('rotated');
    expect(statSync(join(runtime.workspace, 'deploy/.secrets/nested')).mode & 0o777).toBe(0o700);
  });

  it('a store folder that cannot be created (a file is in the way) still fails the dry run, naming it', async () => {
    const old = await makeRole(fx(), 'dry_blocked');
    const runtime = testRuntime({ now: () => new Date() });
    writeFileSync(join(runtime.workspace, '.secrets'), 'a file, not a folder\n');
    const result = await rotateCredential(
      parsePolicy(alterRolePolicy(fx(), 'dry_blocked'), 'rotation.yaml', env(old.reveal())),
      request('dry_blocked', { dryRun: true }),
      runtime,
    );
    expect(result.status).toBe('failed');
    expect(result.summary).toContain('credentials.dry_blocked.store[0].file: cannot create folder');
    expect(result.summary).toContain('is not a folder');
  });
});

describe('clear errors for what the loader is given', () => {
  const SECRET = 'pa55-word_that-must-not-show';
  const withUrl = (url: string) => () =>
    parsePolicy(
      alterRoleYaml('odoo_app', 'CURRENT', '    store:\n      - file: { path: .secrets/a.env, key: A }\n'),
      '.github/rotation.yaml',
      { ROTATION_ADMIN_URL: url, CURRENT: 'x' },
    );
  const message = (fn: () => unknown) => {
    try {
      fn();
    } catch (error) {
      return describeError(error);
    }
    throw new Error('expected an error');
  };

  it('a bad admin URL names the key and the problem, never the URL or its password', () => {
    const cases: [string, RegExp][] = [
      [
        `postgresql://admin:${SECRET}#x@db.example.com:5432/odoo`,
        /the user:password part holds a character that must be percent-encoded there .*encodeURIComponent/,
      ],
      [`postgresql://admin:${SECRET}?x@db.example.com:5432/odoo`, /the user:password part holds a character that must be percent-encoded/],
      [`postgresql://admin:${SECRET}@x@db.example.com:5432/odoo`, /an '@' after the user:password part/],
      [`postgresql://admin:${SECRET}/x@db.example.com:5432/odoo`, /an '@' after the user:password part/],
      [`postgresql://admin:${SECRET}%zz@db.example.com:5432/odoo`, /the user:password part holds a character that must be percent-encoded/],
      [`postgresql://admin:${SECRET}@db.example.com:99999/odoo`, /the port must be a number from 1 to 65535, got 99999/],
      [`postgresql://admin:${SECRET}@db.example.com:54x2/odoo`, /the port must be a number from 1 to 65535, got something else/],
    ];
    for (const [url, problem] of cases) {
      const text = message(withUrl(url));
      expect(text).toContain('.github/rotation.yaml: systems.odoo-sor.admin_url: not a usable PostgreSQL URL: ');
      expect(text).toMatch(problem);
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain('db.example.com');
      expect(text).not.toBe('Invalid URL');
    }
  });

  it('a YAML error names the file and the line, aliases included', () => {
    expect(message(() => parsePolicy('version: 1\nsystems:\n  a: [\n', '.github/rotation.yaml'))).toMatch(
      /^\.github\/rotation\.yaml: line \d+, column \d+: /,
    );
    const unresolved = message(() =>
      parsePolicy('version: 1\nsystems:\n  a:\n    type: postgres\n    x: *nope\ncredentials: {}\n', '.github/rotation.yaml'),
    );
    expect(unresolved).toMatch(/^\.github\/rotation\.yaml: line 5: .*nope/);
    // A billion-laughs document: refused by the alias limit, named with the file.
    let bomb = 'version: 1\na: &a [x, x, x, x, x, x, x, x, x]\n';
    for (let i = 1; i < 9; i++)
      bomb += `${'abcdefghi'[i]}: &${'abcdefghi'[i]} [${Array(9)
        .fill(`*${'abcdefghi'[i - 1]}`)
        .join(', ')}]\n`;
    expect(message(() => parsePolicy(bomb, '.github/rotation.yaml'))).toMatch(/^\.github\/rotation\.yaml: line \d+: .*alias/i);
  });

  it('a policy over 1 MiB is refused before it is read', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rotation-big-'));
    const file = join(dir, 'rotation.yaml');
    writeFileSync(file, `version: 1\n${'# padding\n'.repeat(MAX_POLICY_BYTES / 10 + 1)}`);
    expect(message(() => loadPolicy(file, {}))).toBe(
      `${file}: the policy file is ${statSync(file).size} bytes, over the limit of 1048576 (1 MiB): is it the right file?`,
    );
    expect(message(() => parsePolicy('#'.repeat(MAX_POLICY_BYTES + 1), 'big.yaml'))).toMatch(
      /^big\.yaml: the policy file is 1048577 bytes, over the limit/,
    );
  });
});
