// Issue 16 §6: exit codes for every command, as README and docs/troubleshooting.md give them: 0
// done, 1 a check or a change failed, 2 bad usage or a bad policy. Usage errors (unknown option,
// bad choice, missing argument or option value, unknown command) exit 2 for every command the
// CLI lists; a connection or SQL failure in provision is a failed change and exits 1.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli-child.js';
import { usePostgres } from '../helpers/postgres.js';

/** The commands `credential-rotation --help` lists (all of them, as the CLI grows). */
let commands: { name: string; usage: string }[] = [];
beforeAll(async () => {
  const help = await cli(['--help']);
  expect(help.code).toBe(0);
  const section = help.stdout.split(/^Commands:$/m)[1];
  commands = [...section.matchAll(/^ {2}(\S+)((?: \[options\])?(?: [<[][^\s>\]]+[>\]])*)/gm)]
    .map((m) => ({ name: m[1], usage: m[2] }))
    .filter((c) => c.name !== 'help');
  expect(commands.map((c) => c.name)).toEqual(expect.arrayContaining(['rotate', 'plan', 'status', 'verify', 'provision', 'audit', 'demo']));
});

describe('usage errors exit 2 for every command', () => {
  it('an unknown option', async () => {
    for (const { name } of commands) {
      const run = await cli([name, '--no-such-option']);
      expect(run.stderr, name).toContain("error: unknown option '--no-such-option'");
      expect(run.code, name).toBe(2);
    }
  });

  it('a missing required argument', async () => {
    const needing = commands.filter((c) => /<\w+>/.test(c.usage));
    expect(needing.map((c) => c.name)).toEqual(expect.arrayContaining(['rotate', 'provision']));
    for (const { name, usage } of needing) {
      const run = await cli([name]);
      expect(run.stderr, name).toContain(`error: missing required argument '${/<(\w+)>/.exec(usage)![1]}'`);
      expect(run.code, name).toBe(2);
    }
  });

  it('more arguments than the command takes', async () => {
    for (const { name, usage } of commands) {
      const args = [...usage.matchAll(/[<[]\w+[>\]]/g)].map(() => 'x');
      const run = await cli([name, ...args, 'one-too-many']);
      expect(run.stderr, name).toMatch(/error: too many arguments/);
      expect(run.code, name).toBe(2);
    }
  });

  it('a value outside the choices, and an option without its value', async () => {
    for (const [args, message] of [
      [
        ['audit', '--fail-on', 'never'],
        "error: option '--fail-on <severity>' argument 'never' is invalid. Allowed choices are warning, error.",
      ],
      [['rotate', 'x', '--reason', 'boredom'], "error: option '--reason <reason>' argument 'boredom' is invalid."],
      [['plan', '--now'], "error: option '--now <iso>' argument missing"],
      [['rotate', 'x', '--deadline-minutes'], "error: option '--deadline-minutes <minutes>' argument missing"],
    ] as const) {
      const run = await cli([...args]);
      expect(run.stderr, args.join(' ')).toContain(message);
      expect(run.code, args.join(' ')).toBe(2);
    }
  });

  it('an unknown command; help still exits 0', async () => {
    const unknown = await cli(['rotation']);
    expect(unknown.stderr).toContain("error: unknown command 'rotation'");
    expect(unknown.code).toBe(2);
    for (const { name } of commands) {
      const help = await cli([name, '--help']);
      expect(help.code, name).toBe(0);
      expect(help.stdout, name).toContain(`Usage: credential-rotation ${name}`);
    }
  });
});

describe('provision: a failed connection or statement is a failed change (exit 1); bad usage stays 2', () => {
  const fx = usePostgres();
  const POLICY = `version: 1
systems:
  odoo-sor: { type: postgres, admin_url: "\${ADMIN_URL}" }
credentials:
  exit_app: { system: odoo-sor, method: alter-role, access: readwrite, cadence: quarterly, store: [ { file: { path: .secrets/a.env, key: P } } ] }
`;
  function workspace(): string {
    const dir = mkdtempSync(join(tmpdir(), 'exit-codes-'));
    mkdirSync(join(dir, '.github'));
    writeFileSync(join(dir, '.github/rotation.yaml'), POLICY);
    return dir;
  }

  it('an admin connection that nobody answers exits 1, naming the system', async () => {
    const run = await cli(['-C', workspace(), 'provision', 'exit_app'], { ADMIN_URL: 'postgresql://admin:pw-unused-123@127.0.0.1:1/odoo' });
    expect(run.stderr).toMatch(/^error: admin connection of system 'odoo-sor' \(127\.0\.0\.1:1\/odoo[^)]*\): cannot connect/);
    expect(run.code).toBe(1);
  });

  it('a statement PostgreSQL refuses exits 1, naming it; the transaction is rolled back', async () => {
    // An admin that may log in but not create roles: CREATE ROLE fails (42501).
    const db = await fx().server.client();
    try {
      await db.query("CREATE ROLE exit_weak_admin LOGIN PASSWORD 'weak-admin-pw-2931'");
      await db.query('GRANT CONNECT ON DATABASE odoo TO exit_weak_admin');
    } finally {
      await db.end();
    }
    const url = `postgresql://exit_weak_admin:weak-admin-pw-2931@127.0.0.1:${fx().server.port}/odoo`;
    const run = await cli(['-C', workspace(), 'provision', 'exit_app', '--apply'], { ADMIN_URL: url });
    expect(run.stdout).toContain('CREATE ROLE "exit_app"');
    expect(run.stderr).toMatch(
      /^error: provision exit_app: CREATE ROLE "exit_app".*\(nothing was changed, the transaction was rolled back\).*SQLSTATE 42501/,
    );
    expect(run.code).toBe(1);
    expect(run.stderr).not.toContain('weak-admin-pw-2931');
  });

  it('verify: a store target that cannot be read is a failed check (exit 1) naming it, not bad usage', async () => {
    const ws = workspace();
    mkdirSync(join(ws, '.secrets/a.env'), { recursive: true });
    const run = await cli(['-C', ws, 'verify', 'exit_app'], { ADMIN_URL: 'postgresql://admin:pw-unused-123@127.0.0.1:1/odoo' });
    expect(run.stderr).toMatch(/exit_app: file \.secrets\/a\.env P could not be read: .*the path is a folder, not a file/);
    expect(run.code).toBe(1);
    expect(`${run.stdout}${run.stderr}`).not.toContain('pw-unused-123');
  });

  it('an unknown credential is bad usage: exit 2', async () => {
    const run = await cli(['-C', workspace(), 'provision', 'nope'], { ADMIN_URL: 'postgresql://admin:pw-unused-123@127.0.0.1:1/odoo' });
    expect(run.stderr).toContain("error: unknown credential 'nope'");
    expect(run.code).toBe(2);
  });
});
