// Issue 16 §4: a postgresql:// URL means what libpq (fe-connect.c, conninfo_uri_parse_options)
// means, or it is refused without quoting it; messages show what is not secret about it.
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { connectionConfig, describeTarget } from '../../src/postgres/connect.js';
import { describeConnection, urlLogin, urlProblem } from '../../src/postgres/url.js';
import { describeError } from '../../src/errors/errors.js';
import { parsePolicy } from '../../src/registry/load-policy.js';
import { Secret } from '../../src/secret/secret.js';
import { alterRoleYaml } from '../helpers/postgres.js';
import { cli } from '../helpers/cli-child.js';

const thrown = (fn: () => unknown): string => {
  try {
    fn();
  } catch (error) {
    return describeError(error);
  }
  return '';
};

describe('a URL whose userinfo is not well formed is refused, naming the key and the problem, never the userinfo', () => {
  // libpq reads the password 4711#S3cret for host db.example.com; the WHATWG parser behind
  // pg-connection-string read host odoo_admin, port 4711, and the rest as a fragment.
  const ISSUE = 'postgresql://odoo_admin:4711#S3cret@db.example.com/odoo';
  const parts = ['odoo_admin', '4711', 'S3cret', '#S3'];

  it('the policy loader names admin_url and the problem', () => {
    const policy = () =>
      parsePolicy(
        alterRoleYaml('odoo_app', 'CURRENT', '    store:\n      - file: { path: .secrets/a.env, key: A }\n'),
        '.github/rotation.yaml',
        { ROTATION_ADMIN_URL: ISSUE, CURRENT: 'x' },
      );
    const text = thrown(policy);
    expect(text).toContain(
      'systems.odoo-sor.admin_url: not a usable PostgreSQL URL: the user:password part holds a character that must be percent-encoded',
    );
    for (const part of parts) expect(text).not.toContain(part);
  });

  it('audit (dist/cli.js) exits 2 before connecting: nothing printed or recorded names host odoo_admin port 4711', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'url-audit-'));
    mkdirSync(join(dir, '.github'));
    writeFileSync(
      join(dir, '.github/rotation.yaml'),
      alterRoleYaml('odoo_app', 'CURRENT', '    store:\n      - file: { path: .secrets/a.env, key: A }\n'),
    );
    const run = await cli(['-C', dir, 'audit'], { ROTATION_ADMIN_URL: ISSUE, CURRENT: 'x' });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('systems.odoo-sor.admin_url: not a usable PostgreSQL URL: the user:password part');
    for (const part of [...parts, ':4711/']) expect(run.stdout + run.stderr).not.toContain(part);
    expect(existsSync(join(dir, 'docs'))).toBe(false);
  });

  it('connectionConfig, urlLogin and describeTarget refuse it too: nothing connects to host odoo_admin port 4711', () => {
    for (const fn of [() => connectionConfig(new Secret(ISSUE)), () => urlLogin(ISSUE)]) {
      const text = thrown(fn);
      expect(text).toMatch(/^the connection URL is not well formed: the user:password part/);
      for (const part of parts) expect(text).not.toContain(part);
    }
    expect(describeTarget(new Secret(ISSUE))).toBe('(a connection URL that is not well formed)');
  });

  it.each([
    ['a second @ (libpq takes the first, WHATWG the last)', 'postgresql://u:p@ss@h/db', /an '@' after the user:password part/],
    ["a '/' in the password", 'postgresql://u:12/ss@h/db', /an '@' after the user:password part/],
    ["a '?' in the password", 'postgresql://u:p?ss@h/db', /the user:password part holds/],
    [
      "an '@' in a query without a path (libpq reads up to it as user:password)",
      'postgresql://h?application_name=a@b',
      /the user:password part holds/,
    ],
    ['a stray %', 'postgresql://u:p%zzss@h/db', /the user:password part holds/],
    ['%00, which libpq refuses', 'postgresql://u:p%00@h/db', /the user:password part holds/],
    ['a space', 'postgresql://u:p ss@h/db', /the user:password part holds/],
    ["a '#' after the host (libpq: part of the database name)", 'postgresql://u:p@h/db#x', /unencoded '#'/],
    ['a parameter without =', 'postgresql://u:p@h/db?sslmode', /not written key=value \(no '='\)/],
    ['a parameter with two =', 'postgresql://u:p@h/db?options=-c%20a=b', /more than one '='/],
  ])('%s', (_what, url, problem) => {
    expect(urlProblem(url)).toMatch(problem);
  });

  it.each([
    'postgresql://u:p@h:5432/db?sslmode=require',
    'postgresql://u:p%23%40%2F%3Fss@h/db',
    "postgresql://u:a-b_c.d~e!f$g&h'i(j)k*l+m,n;o=p:q@h/db",
    'postgresql://u:pässwörd@h/db',
    'postgresql://h/db?application_name=a@b',
    'postgresql://u@%2Fvar%2Frun%2Fpostgresql/db',
    'postgresql://u:p@[::1]:5432/db',
    'postgres://h',
  ])('well formed: %s', (url) => {
    expect(urlProblem(url)).toBeUndefined();
  });

  it('a percent-encoded password means what libpq decodes', () => {
    expect(connectionConfig(new Secret('postgresql://u:p%23%40%2F%3Fs+s@h/db'))).toMatchObject({
      user: 'u',
      password: 'p#@/?s+s',
      host: 'h',
      database: 'db',
    });
  });
});

describe('one description of a connection: what is not secret, and *** for what is', () => {
  it.each([
    ['host, port and database', 'postgresql://u:pw@db.example.com:25060/odoo', 'db.example.com:25060/odoo'],
    [
      'sslmode and the sslrootcert path (what a TLS error is about)',
      'postgresql://u:pw@h:5432/db?sslmode=verify-full&sslrootcert=/etc/ssl/do-ca.crt',
      'h:5432/db?sslmode=verify-full&sslrootcert=/etc/ssl/do-ca.crt',
    ],
    [
      'a repeated parameter once, with the value libpq uses',
      'postgresql://u:pw@h/db?sslmode=require&application_name=x&sslmode=verify-full',
      'h:5432/db?application_name=x&sslmode=verify-full',
    ],
    [
      'password, sslpassword and unknown parameters masked',
      'postgresql://h/db?password=pw1&sslpassword=pw2&sslkey=/k.pem&token=t0k3n',
      'h:5432/db?password=***&sslpassword=***&sslkey=/k.pem&token=***',
    ],
    [
      "libpq's ?dbname= and ?host=",
      'postgresql://u:pw@h/db?dbname=other&host=elsewhere',
      'elsewhere:5432/other?dbname=other&host=elsewhere',
    ],
  ])('%s', (_what, url, shown) => {
    expect(describeConnection(url)).toBe(shown);
    expect(describeTarget(new Secret(url))).toBe(shown);
    expect(shown).not.toMatch(/pw|t0k3n/);
  });

  it('?dbname= is the database the connection opens, and a query value is decoded as libpq decodes it', () => {
    expect(connectionConfig(new Secret('postgresql://u:pw@h/db?dbname=other')).database).toBe('other');
    expect(connectionConfig(new Secret('postgresql://u:pw@h/db?options=-c%20x%3Dy+z'))).toMatchObject({ options: '-c x=y+z' });
  });
});
