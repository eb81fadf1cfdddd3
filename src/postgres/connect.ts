import pg from 'pg';
import { parse } from 'pg-connection-string';
import type { Secret } from '../secret/secret.js';
import { RotationError } from '../engine/errors.js';

export const CONNECT_TIMEOUT_MS = 10_000;
/** What the tool's own sessions are called in pg_stat_activity, so checks can tell them apart. */
export const APPLICATION_NAME = 'credential-rotation';

/** Connection settings from a URL, optionally logging in as another role with another password. */
export function connectionConfig(url: Secret, as?: { user: string; password: Secret }): pg.ClientConfig {
  const parsed = parse(url.reveal()) as pg.ClientConfig & { ssl?: unknown };
  const config: pg.ClientConfig = {
    ...(parsed as pg.ClientConfig),
    ssl: parsed.ssl as pg.ClientConfig['ssl'],
    port: parsed.port ? Number(parsed.port) : undefined,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    application_name: APPLICATION_NAME,
  };
  if (as) {
    config.user = as.user;
    config.password = as.password.reveal();
  }
  return config;
}

/** Where a URL points, for messages: host, port and database, never the user's password. */
export function describeTarget(url: Secret): string {
  const c = parse(url.reveal());
  return `${c.host ?? 'localhost'}:${c.port ?? 5432}/${c.database ?? ''}`;
}

/** Opens a connection; a failure becomes a RotationError that names where, not with what. */
export async function connect(config: pg.ClientConfig, what: string): Promise<pg.Client> {
  const client = new pg.Client(config);
  // A dropped connection emits 'error' on the client; without a listener it would crash the process.
  client.on('error', () => undefined);
  try {
    await client.connect();
    return client;
  } catch (error) {
    await client.end().catch(() => undefined);
    throw pgError(`${what}: cannot connect`, error);
  }
}

export type LoginResult = { ok: true } | { ok: false; rejected: boolean; code?: string; message: string };

/**
 * Tries to log in and run `SELECT 1`. `rejected` is true when the server refused the password
 * (SQLSTATE 28P01); other failures (network, no pg_hba entry) are not proof either way.
 */
export async function tryLogin(config: pg.ClientConfig): Promise<LoginResult> {
  const client = new pg.Client(config);
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return { ok: true };
  } catch (error) {
    const code = (error as { code?: string }).code;
    return { ok: false, rejected: code === '28P01', code, message: (error as Error).message };
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** A driver error as a RotationError with its SQLSTATE; transient network failures are retryable. */
export function pgError(what: string, error: unknown): RotationError {
  const e = error as { code?: string; message?: string };
  const network = ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EPIPE'].includes(e.code ?? '') || /timeout|terminated/i.test(e.message ?? '');
  return new RotationError(`${what}: ${e.message ?? String(error)}${e.code && !network ? ` (SQLSTATE ${e.code})` : ''}`, {
    code: e.code,
    retryable: network,
    cause: error,
  });
}
