import { parse } from 'pg-connection-string';

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
  const c = parse(url);
  return { host: c.host || 'localhost', port: Number(c.port || 5432), user: c.user || undefined };
}

/**
 * Why a postgresql:// URL cannot be used, in words that never quote it (it holds a password), or
 * undefined when it parses. The WHATWG parser behind pg-connection-string says only "Invalid URL".
 */
export function urlProblem(url: string): string | undefined {
  try {
    parse(url);
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
