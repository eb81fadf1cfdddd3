import pg from 'pg';
import type { Secret } from '../secret/secret.js';
import { RotationError } from '../errors/errors.js';
import { explainTlsFailure, mayFallBack, planTls, tlsAttempts, type ServerCa, type TlsPlan } from './tls.js';
import { describeConnection, readUrl } from './url.js';

export const CONNECT_TIMEOUT_MS = 10_000;
/** What the tool's own sessions are called in pg_stat_activity, so checks can tell them apart. */
export const APPLICATION_NAME = 'credential-rotation';

/** The TLS plan travels with the config (a symbol key: spread keeps it, JSON.stringify drops it). */
const TLS = Symbol('tls-plan');
type Planned = pg.ClientConfig & { [TLS]?: TlsPlan };

/**
 * Connection settings from a URL, optionally logging in as another role with another password.
 * sslmode and the other ssl parameters mean what libpq means (see tls.ts); `ca` is a CA from
 * the policy, used as libpq uses a root certificate. This is the one place URLs become configs.
 */
export function connectionConfig(url: Secret, as?: { user: string; password: Secret }, ca?: ServerCa): pg.ClientConfig {
  const { config: read, ssl } = readUrl(url.reveal());
  const parsed = read as pg.ClientConfig & { port?: string | number | null };
  const host = parsed.host ?? 'localhost';
  const plan = planTls(ssl, host, ca);
  const config: Planned = {
    ...(parsed as pg.ClientConfig),
    port: parsed.port ? Number(parsed.port) : undefined,
    // What the first attempt uses; connect() and tryLogin() make the others libpq would.
    ssl: plan.mode === 'disable' || plan.mode === 'allow' ? false : plan.options,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    application_name: APPLICATION_NAME,
    [TLS]: plan,
  };
  if (as) {
    config.user = as.user;
    config.password = as.password.reveal();
  }
  return config;
}

/**
 * Where and as whom a value logs in, without the value: a postgresql:// URL read as libpq reads
 * it (its user and password are replaced), the login, and a CA beyond the URL's own sslrootcert.
 */
export interface DatabaseLogin {
  url: Secret;
  user: string;
  ca?: ServerCa;
}

/** The connection settings of `login` with `password`. */
export function loginConfig(login: DatabaseLogin, password: Secret): pg.ClientConfig {
  return connectionConfig(login.url, { user: login.user, password }, login.ca);
}

/** Where a URL points, for messages and records: see describeConnection (url.ts), the one way to show a connection. */
export function describeTarget(url: Secret): string {
  return describeConnection(url.reveal());
}

/** host:port of servers that answered prefer's TLS request with "no TLS". */
const plainOnly = new Set<string>();

/**
 * Opens a client the way libpq would for the config's sslmode: allow and prefer make a second
 * attempt when the first is refused for its encryption. Throws the last attempt's error.
 */
async function open(config: pg.ClientConfig): Promise<pg.Client> {
  const plan = (config as Planned)[TLS];
  const server = `${config.host}:${config.port ?? 5432}`;
  let attempts = plan ? await tlsAttempts(plan) : [config.ssl];
  // prefer: a server that said it has no TLS is not asked again in this process. The outcome is
  // the one libpq reaches (plain), without a refused connection (a server process) each time.
  if (plan?.mode === 'prefer' && plainOnly.has(server)) attempts = attempts.slice(1);
  for (let i = 0; ; i++) {
    const client = new pg.Client({ ...config, ssl: attempts[i] as pg.ClientConfig['ssl'] });
    // A dropped connection emits 'error' on the client; without a listener it would crash the process.
    client.on('error', () => undefined);
    try {
      await client.connect();
      return client;
    } catch (error) {
      await client.end().catch(() => undefined);
      if (!plan || i + 1 >= attempts.length || !mayFallBack(plan, error)) throw error;
      if (plan.mode === 'prefer') plainOnly.add(server);
    }
  }
}

/** Opens a connection; a failure becomes a RotationError that names where, not with what. */
export async function connect(config: pg.ClientConfig, what: string): Promise<pg.Client> {
  try {
    return await open(config);
  } catch (error) {
    if (error instanceof RotationError)
      throw new RotationError(`${what}: cannot connect: ${error.message}`, {
        hint: error.hint,
        code: error.code,
        retryable: error.retryable,
      });
    const tls = explainTlsFailure(error, (config as Planned)[TLS]);
    if (tls)
      throw new RotationError(`${what}: cannot connect: ${tls.message}`, {
        hint: tls.hint,
        code: (error as { code?: string }).code,
        cause: error,
      });
    throw pgError(`${what}: cannot connect`, error);
  }
}

/** `tls`: refused for its encryption or certificate; the message then says what to do. */
export type LoginResult = { ok: true } | { ok: false; rejected: boolean; code?: string; message: string; tls?: boolean };

/**
 * Tries to log in and run `SELECT 1`. `rejected` is true when the server refused the password
 * (SQLSTATE 28P01); other failures (network, no pg_hba entry, TLS) are not proof either way.
 */
export async function tryLogin(config: pg.ClientConfig): Promise<LoginResult> {
  let client: pg.Client | undefined;
  try {
    client = await open(config);
    await client.query('SELECT 1');
    return { ok: true };
  } catch (error) {
    const code = (error as { code?: string }).code;
    const tls = error instanceof RotationError ? undefined : explainTlsFailure(error, (config as Planned)[TLS]);
    const message =
      error instanceof RotationError && error.hint
        ? `${error.message}. ${error.hint}`
        : tls
          ? `${tls.message}. ${tls.hint}`
          : (error as Error).message;
    return { ok: false, rejected: code === '28P01', code, message, ...(tls ? { tls: true } : {}) };
  } finally {
    await client?.end().catch(() => undefined);
  }
}

/** A driver error as a RotationError with its SQLSTATE; transient network failures are retryable. */
export function pgError(what: string, error: unknown): RotationError {
  const e = error as { code?: string; message?: string };
  const network =
    ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EPIPE'].includes(e.code ?? '') || /timeout|terminated/i.test(e.message ?? '');
  return new RotationError(`${what}: ${e.message ?? String(error)}${e.code && !network ? ` (SQLSTATE ${e.code})` : ''}`, {
    code: e.code,
    retryable: network,
    cause: error,
  });
}
