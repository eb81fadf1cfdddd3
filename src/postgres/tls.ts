import { readFileSync } from 'node:fs';
import tls, { type ConnectionOptions } from 'node:tls';
import { RotationError } from '../errors/errors.js';

/**
 * libpq's sslmode, for every Postgres URL the tool takes (libpq-ssl.html, "SSL Mode Descriptions").
 *
 * pg-connection-string (node-postgres) reads `sslmode=require` as verify-full unless asked for
 * libpq compatibility, and even then reads a CA only from an `sslrootcert` file and knows neither
 * `allow`, nor prefer's fall back to plain, nor `sslrootcert=system`. So the table is applied here;
 * pg-connection-string still parses the rest of the URL.
 */
export const SSL_MODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'] as const;
export type SslMode = (typeof SSL_MODES)[number];
/** libpq's default. */
export const DEFAULT_SSLMODE: SslMode = 'prefer';

/** The URL parameters that say how to use TLS; pg-connection-string never sees them. */
export const TLS_PARAMS = ['sslmode', 'sslrootcert', 'sslcert', 'sslkey', 'sslpassword', 'ssl', 'requiressl', 'uselibpqcompat'] as const;

/** A CA given outside the URL (a system's `ca:`, or read from the provider's API when needed). */
export interface ServerCa {
  /** How messages name it, e.g. `systems.odoo-sor.ca`. */
  source: string;
  pem?: string;
  /** Reads it (once) when a connection needs it. */
  load?: () => Promise<string>;
  /** Read only for modes that verify (verify-ca, verify-full), never for require. */
  onlyToVerify?: boolean;
}

/** How a connection uses TLS: the attempts in order, and what to say when they fail. */
export interface TlsPlan {
  mode: SslMode;
  host: string;
  /** The TLS options of an encrypted attempt, the CA aside when it is still to be read. */
  options: ConnectionOptions;
  /** Where the CA the server is checked against comes from (undefined: not checked, or Node's public roots). */
  caSource?: string;
  pendingCa?: () => Promise<string>;
}

/**
 * The sslmode a URL's parameters ask for, checked as libpq checks it, without reading any file:
 * the loader calls it too, so a bad mode is named before anything runs. `hasCa`: a CA comes from
 * the policy (`ca:`, `ca_from:`).
 */
export function sslModeOf(params: URLSearchParams, host: string, hasCa: boolean): SslMode {
  // libpq ignores sslmode on a Unix-domain socket: there is no network to protect.
  if (host.startsWith('/')) return 'disable';
  const rootcert = params.get('sslrootcert');
  const given = givenMode(params);
  if (given !== undefined && !(SSL_MODES as readonly string[]).includes(given)) {
    // Quoted only when it cannot be part of a secret (a mangled URL can put its password there).
    const shown = /^[a-z-]{1,16}$/.test(given) ? `sslmode=${given}` : 'the sslmode';
    throw new RotationError(`${shown} in the connection URL of ${host} is not one of ${SSL_MODES.join(', ')}`);
  }
  // libpq: sslrootcert=system makes verify-full the default and refuses weaker modes, as anyone can
  // get a publicly trusted certificate for a host name they control.
  const mode = (given ?? (rootcert === 'system' ? 'verify-full' : DEFAULT_SSLMODE)) as SslMode;
  if (rootcert === 'system' && mode !== 'verify-full') {
    throw new RotationError(`sslrootcert=system needs sslmode=verify-full (the connection URL of ${host} has sslmode=${mode})`, {
      hint: "with public CAs only verify-full proves the server; use sslmode=verify-full, or give the server's own CA instead",
    });
  }
  if (mode === 'verify-ca' && !rootcert && !hasCa) {
    throw new RotationError(`sslmode=verify-ca for ${host} needs the CA that signed the server's certificate`, {
      hint: "give it: sslrootcert=<file> in the URL, ca: (PEM) on the system, or ca_from: <a digitalocean system> to read the cluster's CA from DigitalOcean's API; or use verify-full, which also checks the host name",
    });
  }
  return mode;
}

/** The TLS plan for a URL's ssl parameters and an optional CA from the policy. Throws on bad input. */
export function planTls(params: URLSearchParams, host: string, ca?: ServerCa): TlsPlan {
  const mode = sslModeOf(params, host, ca !== undefined);
  if (mode === 'disable') return { mode, host, options: {} };
  const rootcert = params.get('sslrootcert') ?? undefined;
  const options: ConnectionOptions = {};
  if (params.get('sslcert')) options.cert = readTlsFile(params.get('sslcert')!, 'sslcert');
  if (params.get('sslkey')) options.key = readTlsFile(params.get('sslkey')!, 'sslkey');
  if (params.get('sslpassword')) options.passphrase = params.get('sslpassword')!;

  let caSource: string | undefined;
  let pendingCa: (() => Promise<string>) | undefined;
  const verifies = mode === 'verify-ca' || mode === 'verify-full';
  if (rootcert === 'system') {
    // Node 23.8+ reads the operating system's store; older Nodes have only their bundled roots.
    const roots = (tls as { getCACertificates?: (kind: string) => string[] }).getCACertificates?.('system');
    if (roots && roots.length > 0) options.ca = roots;
    caSource = "the system's trusted roots (sslrootcert=system)";
  } else if (rootcert) {
    options.ca = readTlsFile(rootcert, 'sslrootcert');
    caSource = `sslrootcert=${rootcert}`;
  } else if (ca && (verifies || (mode === 'require' && !ca.onlyToVerify))) {
    caSource = ca.source;
    if (ca.pem) options.ca = ca.pem;
    else pendingCa = ca.load;
  }
  // require with a root CA checks the chain, like verify-ca (libpq, for backwards compatibility).
  const checksChain = verifies || (mode === 'require' && caSource !== undefined);
  options.rejectUnauthorized = checksChain;
  if (checksChain && mode !== 'verify-full') options.checkServerIdentity = () => undefined;
  return { mode, host, options, caSource, pendingCa };
}

/** The ssl setting of each attempt, in libpq's order: allow tries plain first, prefer TLS first. */
export async function tlsAttempts(plan: TlsPlan): Promise<(false | ConnectionOptions)[]> {
  if (plan.mode === 'disable') return [false];
  const options = plan.pendingCa ? { ...plan.options, ca: await plan.pendingCa() } : plan.options;
  if (plan.mode === 'allow') return [false, options];
  if (plan.mode === 'prefer') return [options, false];
  return [options];
}

/**
 * Whether a failed attempt may be followed by the next one. prefer falls back to plain only when
 * the server does not do TLS, allow to TLS only when pg_hba refuses the plain connection. (libpq
 * retries after any startup error; after a refused password that would only repeat the refusal.)
 */
export function mayFallBack(plan: TlsPlan, error: unknown): boolean {
  const e = error as { message?: string; code?: string };
  if (plan.mode === 'prefer') return /does not support SSL/i.test(e.message ?? '');
  if (plan.mode === 'allow') return e.code === '28000';
  return false;
}

/** Node's codes for a certificate chain that does not lead to a trusted CA. */
const UNTRUSTED = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
]);

const GIVE_CA =
  "give the CA that signed the server's certificate: ca: (PEM) on the system, ca_from: <a digitalocean system> to read the cluster's CA from DigitalOcean's API, or sslrootcert=<file> in the URL";

/**
 * A TLS or encryption failure as a message that says what to do; undefined for other failures.
 * Node's TLS messages name hosts and certificates, never the URL's user or password.
 */
export function explainTlsFailure(error: unknown, plan: TlsPlan | undefined): { message: string; hint: string } | undefined {
  const e = error as { code?: string; message?: string };
  const mode = plan?.mode;
  const against = plan?.caSource ?? "Node's public roots";
  if (e.code && UNTRUSTED.has(e.code)) {
    return {
      message: `the server's certificate is not signed by a CA this connection trusts (${e.message}; sslmode=${mode}, checked against ${against})`,
      hint: `${GIVE_CA}; or use sslmode=require to encrypt without verifying the server (DigitalOcean's connection string as given)`,
    };
  }
  if (e.code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return {
      message: `the server's certificate does not name the host ${plan?.host} (${e.message}; sslmode=verify-full)`,
      hint: "connect with a host name the certificate names (DigitalOcean: the host of the cluster's connection string), or use sslmode=verify-ca to check the CA only",
    };
  }
  if (e.code === 'CERT_HAS_EXPIRED' || e.code === 'CERT_NOT_YET_VALID') {
    return {
      message: `the server's certificate is not valid now (${e.message})`,
      hint: "renew the server certificate, or check this machine's clock",
    };
  }
  if (/does not support SSL/i.test(e.message ?? '')) {
    return {
      message: `the server does not accept TLS connections (sslmode=${mode})`,
      hint: 'turn on ssl on the server, or use sslmode=prefer to fall back to an unencrypted connection',
    };
  }
  if (e.code === '28000' && /no encryption/i.test(e.message ?? '')) {
    return {
      message: `the server accepts only encrypted connections here (${e.message})`,
      hint: "use sslmode=require (encrypt) or, better, verify-full with the server's CA",
    };
  }
  return undefined;
}

/**
 * The mode the last of sslmode, ssl and requiressl says (libpq stores each parameter in turn, so
 * `?sslmode=disable&sslmode=verify-full` is verify-full); `params` keeps their order (url.ts).
 */
function givenMode(params: URLSearchParams): string | undefined {
  let mode: string | undefined;
  for (const [name, value] of params) {
    if (name === 'sslmode') mode = value;
    else if (name === 'ssl') mode = legacySsl(value) ?? mode;
    // libpq's old requiressl: 1 is require, anything else prefer.
    else if (name === 'requiressl') mode = value.startsWith('1') ? 'require' : 'prefer';
  }
  return mode;
}

/** node-postgres's own `ssl=true`/`ssl=no-verify`, read as the libpq mode they mean. */
function legacySsl(value: string): string | undefined {
  if (value === 'no-verify') return 'require';
  return value === 'true' || value === '1' ? 'verify-full' : value === 'false' || value === '0' ? 'disable' : undefined;
}

function readTlsFile(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new RotationError(`${what}=${path}: cannot read the file (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}
