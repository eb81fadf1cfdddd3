import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalPostgres, type LocalPostgres } from '../../src/demo/local-postgres.js';
import { provisionPlatform, type Platform } from '../../src/demo/platform.js';
import { connect, connectionConfig, tryLogin } from '../../src/postgres/connect.js';
import type { ServerCa } from '../../src/postgres/tls.js';
import { RotationError, describeError } from '../../src/errors/errors.js';
import { scramVerifier } from '../../src/postgres/scram.js';
import { generatePassword } from '../../src/secret/generate.js';
import { Secret } from '../../src/secret/secret.js';
import { issueServerCert, makeCa, type TestCa } from '../helpers/tls.js';

/**
 * Each libpq sslmode against a real PostgreSQL 16 serving TLS with a certificate for `localhost`
 * signed by a private CA (as DigitalOcean's clusters do), and against one without TLS.
 */
let tlsServer: LocalPostgres;
let plainServer: LocalPostgres;
let platform: Platform;
let clusterCa: TestCa;
let otherCa: TestCa;
const TLS_ONLY = 'tls_only';
let tlsOnlyPassword: Secret;

beforeAll(async () => {
  clusterCa = makeCa('platform-db project CA');
  otherCa = makeCa('some other CA');
  // hostnossl … reject: this role may log in only over TLS (pg_hba is read top down).
  [tlsServer, plainServer] = await Promise.all([
    startLocalPostgres({ tls: issueServerCert(clusterCa, ['localhost']), hba: [`hostnossl all ${TLS_ONLY} all reject`] }),
    startLocalPostgres(),
  ]);
  platform = await provisionPlatform(tlsServer);
  tlsOnlyPassword = generatePassword();
  const db = await tlsServer.client();
  await db.query(`CREATE ROLE ${TLS_ONLY} LOGIN PASSWORD ${db.escapeLiteral(scramVerifier(tlsOnlyPassword))}`);
  await db.end();
}, 120_000);
afterAll(async () => {
  await Promise.all([tlsServer?.stop(), plainServer?.stop()]);
});

/** The admin URL of the TLS server with `host` and the query given. */
const adminUrl = (query: string, host = '127.0.0.1') => platform.adminUrl.replace('@127.0.0.1:', `@${host}:`) + query;
const tlsOnlyUrl = (query: string) => `postgresql://${TLS_ONLY}:${tlsOnlyPassword.reveal()}@127.0.0.1:${tlsServer.port}/postgres${query}`;

/** Connects as the URL says and reports whether the session is encrypted (pg_stat_ssl). */
async function encrypted(url: string, ca?: ServerCa): Promise<boolean> {
  const db = await connect(connectionConfig(new Secret(url), undefined, ca), 'test connection');
  try {
    return (await db.query<{ ssl: boolean }>('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()')).rows[0].ssl;
  } finally {
    await db.end();
  }
}
/** The error connecting as the URL says; it must name no password and no user info. */
async function refusal(url: string, ca?: ServerCa): Promise<RotationError> {
  const error = await Promise.resolve()
    .then(() => connect(connectionConfig(new Secret(url), undefined, ca), 'test connection'))
    .then(
      (db) => db.end().then(() => undefined),
      (e: unknown) => e,
    );
  expect(error).toBeInstanceOf(RotationError);
  const text = describeError(error);
  const userinfo = /^postgresql:\/\/([^@]+)@/.exec(url)![1];
  expect(text).not.toContain(userinfo);
  expect(text).not.toContain(userinfo.split(':')[1]);
  return error as RotationError;
}

function connectionError(url: string): string {
  try {
    connectionConfig(new Secret(url));
    return '';
  } catch (error) {
    return describeError(error);
  }
}

describe('sslmode means what libpq means', () => {
  it('disable: connects unencrypted', async () => {
    expect(await encrypted(adminUrl('?sslmode=disable'))).toBe(false);
  });

  it('disable: refused where pg_hba wants TLS, with a message that says to encrypt', async () => {
    const error = await refusal(tlsOnlyUrl('?sslmode=disable'));
    expect(error.message).toMatch(/accepts only encrypted connections/);
    expect(error.hint).toMatch(/sslmode=require/);
  });

  it('allow: tries unencrypted first, then TLS when pg_hba refuses it', async () => {
    expect(await encrypted(adminUrl('?sslmode=allow'))).toBe(false);
    expect(await encrypted(tlsOnlyUrl('?sslmode=allow'))).toBe(true);
  });

  it("prefer, and no sslmode (libpq's default): TLS without verifying, plain when the server has no TLS", async () => {
    expect(await encrypted(adminUrl('?sslmode=prefer'))).toBe(true);
    expect(await encrypted(adminUrl(''))).toBe(true);
    const plain = plainServer.superuserUrl;
    expect(await encrypted(plain)).toBe(false);
    expect(await encrypted(`${plain}?sslmode=prefer`)).toBe(false);
  });

  it("require: encrypts without verifying a certificate from a CA nobody trusts (DigitalOcean's URL as given)", async () => {
    expect(await encrypted(adminUrl('?sslmode=require'))).toBe(true);
    expect(await encrypted(adminUrl('?sslmode=require', 'localhost'))).toBe(true);
  });

  it('require: refused by a server without TLS', async () => {
    const plain = `${plainServer.superuserUrl}?sslmode=require`;
    const error = await refusal(plain);
    expect(error.message).toMatch(/does not accept TLS/);
  });

  it('require with sslrootcert checks the chain, as libpq does (like verify-ca)', async () => {
    expect(await encrypted(adminUrl(`?sslmode=require&sslrootcert=${clusterCa.certFile}`))).toBe(true);
    const error = await refusal(adminUrl(`?sslmode=require&sslrootcert=${otherCa.certFile}`));
    expect(error.message).toMatch(/not signed by a CA this connection trusts/);
  });

  it('verify-ca: the right CA connects whatever the host name; a wrong CA is refused with what to do', async () => {
    expect(await encrypted(adminUrl(`?sslmode=verify-ca&sslrootcert=${clusterCa.certFile}`))).toBe(true);
    const error = await refusal(adminUrl(`?sslmode=verify-ca&sslrootcert=${otherCa.certFile}`));
    expect(error.message).toMatch(/not signed by a CA this connection trusts/);
    expect(error.message).toContain(`sslrootcert=${otherCa.certFile}`);
    expect(error.hint).toMatch(/ca:.*ca_from:.*sslrootcert=<file>/);
    expect(error.hint).toMatch(/sslmode=require to encrypt without verifying/);
  });

  it('verify-ca without any CA is refused before connecting', async () => {
    const error = await refusal(adminUrl('?sslmode=verify-ca'));
    expect(error.message).toMatch(/needs the CA that signed the server's certificate/);
  });

  it('verify-full: the CA and the host name must both match', async () => {
    expect(await encrypted(adminUrl(`?sslmode=verify-full&sslrootcert=${clusterCa.certFile}`, 'localhost'))).toBe(true);
    const mismatch = await refusal(adminUrl(`?sslmode=verify-full&sslrootcert=${clusterCa.certFile}`));
    expect(mismatch.message).toMatch(/does not name the host 127\.0\.0\.1/);
    expect(mismatch.hint).toMatch(/verify-ca/);
    const wrong = await refusal(adminUrl(`?sslmode=verify-full&sslrootcert=${otherCa.certFile}`, 'localhost'));
    expect(wrong.message).toMatch(/not signed by a CA this connection trusts/);
  });

  it("verify-full with no CA given checks against the public roots, and says how to give the cluster's CA", async () => {
    const error = await refusal(adminUrl('?sslmode=verify-full', 'localhost'));
    expect(error.message).toMatch(/not signed by a CA this connection trusts.*public roots/);
    expect(error.hint).toMatch(/ca_from/);
  });

  it('sslrootcert=system: verify-full against the system store; weaker modes are refused, as libpq does', async () => {
    const error = await refusal(adminUrl('?sslrootcert=system', 'localhost'));
    expect(error.message).toMatch(/system's trusted roots/);
    expect(() => connectionConfig(new Secret(adminUrl('?sslmode=require&sslrootcert=system')))).toThrow(
      /sslrootcert=system needs sslmode=verify-full/,
    );
  });

  it('a CA from the policy (ca:) is used like sslrootcert; a CA read on demand is read once a connection verifies', async () => {
    const ca: ServerCa = { source: 'systems.odoo-sor.ca', pem: clusterCa.cert };
    expect(await encrypted(adminUrl('?sslmode=verify-full', 'localhost'), ca)).toBe(true);
    expect(await encrypted(adminUrl('?sslmode=verify-ca'), ca)).toBe(true);
    const wrong = await refusal(adminUrl('?sslmode=verify-full', 'localhost'), { source: 'systems.odoo-sor.ca', pem: otherCa.cert });
    expect(wrong.message).toContain('checked against systems.odoo-sor.ca');
    let reads = 0;
    const onDemand: ServerCa = { source: 'the cluster CA', onlyToVerify: true, load: async () => (reads++, clusterCa.cert) };
    expect(await encrypted(adminUrl('?sslmode=require'), onDemand)).toBe(true);
    expect(reads).toBe(0);
    expect(await encrypted(adminUrl('?sslmode=verify-full', 'localhost'), onDemand)).toBe(true);
    expect(reads).toBe(1);
  });

  it('tryLogin reports a TLS refusal as not a password verdict, with what to do', async () => {
    const login = await tryLogin(
      connectionConfig(new Secret(adminUrl(`?sslmode=verify-full&sslrootcert=${otherCa.certFile}`, 'localhost'))),
    );
    expect(login).toMatchObject({ ok: false, rejected: false });
    expect(!login.ok && login.message).toMatch(/not signed by a CA this connection trusts.*ca_from/);
  });

  it('a repeated parameter takes its last value, as libpq stores each in turn (issue 16 §4)', async () => {
    // Plain text on the old code, which read the first value.
    expect(await encrypted(adminUrl(`?sslmode=disable&sslrootcert=${clusterCa.certFile}&sslmode=verify-full`, 'localhost'))).toBe(true);
    // DigitalOcean's URL with verify-full appended: verified, so a certificate from a CA nobody trusts is refused.
    const appended = await refusal(adminUrl('?sslmode=require&sslmode=verify-full', 'localhost'));
    expect(appended.message).toMatch(/not signed by a CA this connection trusts.*sslmode=verify-full/);
    expect(
      await encrypted(adminUrl(`?sslmode=verify-full&sslrootcert=${otherCa.certFile}&sslrootcert=${clusterCa.certFile}`, 'localhost')),
    ).toBe(true);
    expect(await encrypted(adminUrl('?sslmode=verify-full&sslmode=disable'))).toBe(false);
    // node-postgres's ssl= and libpq's requiressl= count where they stand among the mode parameters.
    expect(await encrypted(adminUrl('?sslmode=disable&requiressl=1'))).toBe(true);
    expect((await refusal(`${plainServer.superuserUrl}?sslmode=disable&requiressl=1`)).message).toMatch(/does not accept TLS/);
  });

  it('a Unix-domain socket ignores sslmode, as in libpq', () => {
    expect(connectionConfig(new Secret('postgresql://u:p@%2Fvar%2Frun%2Fpostgresql/db?sslmode=verify-full')).ssl).toBe(false);
  });

  it('an unknown sslmode or an unreadable sslrootcert is a clear error, which never quotes what could be a password', () => {
    const mangled = connectionError(`postgresql://u@127.0.0.1:5432/db?sslmode=require:pa55word@host`);
    expect(mangled).toMatch(/the sslmode in the connection URL/);
    expect(mangled).not.toContain('pa55word');
    expect(() => connectionConfig(new Secret(adminUrl('?sslmode=verify')))).toThrow(
      /sslmode=verify .* is not one of disable, allow, prefer, require, verify-ca, verify-full/,
    );
    expect(() => connectionConfig(new Secret(adminUrl('?sslmode=verify-ca&sslrootcert=/nonexistent/ca.pem')))).toThrow(
      /sslrootcert=\/nonexistent\/ca.pem: cannot read the file \(ENOENT\)/,
    );
  });
});
