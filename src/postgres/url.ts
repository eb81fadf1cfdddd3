import { parse } from 'pg-connection-string';
import { TLS_PARAMS } from './tls.js';

/** Where a Postgres server listens, compared case-insensitively, loopback names as one. */
export interface Endpoint {
  host: string;
  port: number;
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);

export function sameEndpoint(a: Endpoint, b: Endpoint): boolean {
  const name = (host: string) => (LOOPBACK.has(host.toLowerCase()) ? 'localhost' : host.toLowerCase());
  return a.port === b.port && name(a.host) === name(b.host);
}

/** The server and login of a postgresql:// URL (libpq's defaults: localhost, 5432). */
export function urlLogin(url: string): Endpoint & { user?: string } {
  const c = parse(splitTlsParams(url).rest);
  return { host: c.host || 'localhost', port: Number(c.port || 5432), user: c.user || undefined };
}

/**
 * Why a postgresql:// URL cannot be used, in words that never quote it (it holds a password), or
 * undefined when it parses. The WHATWG parser behind pg-connection-string says only "Invalid URL".
 */
export function urlProblem(url: string): string | undefined {
  try {
    parse(splitTlsParams(url).rest);
    return undefined;
  } catch {
    // Look at the parts by hand only to explain the failure; never echo them.
  }
  const rest = url.replace(/^postgres(ql)?:\/\//, '');
  const at = rest.lastIndexOf('@');
  const userinfo = at >= 0 ? rest.slice(0, at) : '';
  const hostPart = (at >= 0 ? rest.slice(at + 1) : rest).split(/[/?#]/)[0];
  if (/[/?#]/.test(userinfo)) {
    return "the user or password holds '/', '?' or '#' unencoded: percent-encode the password (e.g. with encodeURIComponent: '#' is %23, '/' is %2F, '?' is %3F)";
  }
  const port = /^(?:\[[^\]]*\]|[^:]*)(?::(.*))?$/.exec(hostPart)?.[1];
  if (port !== undefined && port !== '' && !(/^\d+$/.test(port) && Number(port) >= 1 && Number(port) <= 65535)) {
    return `the port must be a number from 1 to 65535, got ${/^\d{1,6}$/.test(port) ? port : 'something else'}`;
  }
  if (/[\s%]/.test(hostPart) || /\s/.test(userinfo)) return 'it holds a space or a stray %: percent-encode the password';
  return 'it is not a valid URL (expected postgresql://user:password@host:port/database, with the password percent-encoded)';
}

/**
 * The URL without its TLS parameters, and those parameters: they are read by planTls (tls.ts), so
 * pg-connection-string neither reads sslrootcert files nor warns about sslmode here.
 */
export function splitTlsParams(url: string): { rest: string; ssl: URLSearchParams } {
  // The first '?' starts the query, for the WHATWG parser behind pg-connection-string too.
  const at = url.indexOf('?');
  const query = new URLSearchParams(at < 0 ? '' : url.slice(at + 1));
  const ssl = new URLSearchParams();
  for (const name of TLS_PARAMS) {
    const value = query.get(name);
    if (value !== null) ssl.set(name, value);
    query.delete(name);
  }
  // Without TLS parameters the URL is left exactly as written (urlProblem explains it as is).
  if ([...ssl.keys()].length === 0) return { rest: url, ssl };
  const left = query.toString();
  return { rest: left ? `${url.slice(0, at)}?${left}` : url.slice(0, at), ssl };
}
