import { parse, type ConnectionOptions } from 'pg-connection-string';
import { RotationError } from '../errors/errors.js';
import { TLS_PARAMS } from './tls.js';
import { isPublicParam } from '../secret/postgres-params.js';

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
  const c = readUrl(url).config;
  return { host: c.host || 'localhost', port: Number(c.port || 5432), user: c.user || undefined };
}

/**
 * A well-formed URL as libpq reads it: pg-connection-string's reading of it without the TLS
 * parameters (with libpq's `?dbname=` as the database, which node-postgres would ignore), and those
 * parameters. Throws a RotationError naming the problem, never any part of the URL.
 */
export function readUrl(url: string): { config: ConnectionOptions; ssl: URLSearchParams } {
  const problem = urlProblem(url);
  if (problem) throw new RotationError(`the connection URL is not well formed: ${problem}`);
  const { rest, ssl } = splitTlsParams(url);
  const config = parse(rest);
  const dbname = (config as { dbname?: string }).dbname;
  if (dbname) config.database = dbname;
  return { config, ssl };
}

/** What a connection URL becomes in messages and records when it is not well formed. */
const UNUSABLE = '(a connection URL that is not well formed)';

/**
 * The one description of a connection for messages and records: host:port/database and its
 * parameters, those that are not secret as written (sslmode, the path of sslrootcert, ...), the
 * others (password, sslpassword, any parameter libpq does not know) as ***. Never the userinfo.
 * A repeated parameter is shown once, with the value libpq uses (the last).
 */
export function describeConnection(url: string): string {
  if (urlProblem(url)) return UNUSABLE;
  const c = readUrl(url).config;
  const params = [...lastValues(url)].map(([name, value]) => `${name}=${isPublicParam(name) ? value : '***'}`);
  return `${c.host || 'localhost'}:${c.port || 5432}/${c.database ?? ''}${params.length ? `?${params.join('&')}` : ''}`;
}

// RFC 3986 §3.2.1: userinfo = *( unreserved / pct-encoded / sub-delims / ":" ); non-ASCII letters
// are allowed too (RFC 3987's iuserinfo): both parsers below read them alike.
const USERINFO = /^(?:[A-Za-z0-9\-._~!$&'()*+,;=:]|%[0-9A-Fa-f]{2}|[\u0080-\u{10FFFF}])*$/u;
const ENCODE =
  "percent-encode the user and password (encodeURIComponent does it: '@' is %40, '#' %23, '/' %2F, '?' %3F, '%' %25, a space %20)";

/**
 * Why a postgresql:// URL cannot be used, in words that never quote it (it holds a password), or
 * undefined when it is well formed and parses.
 *
 * "Well formed" is where libpq and the WHATWG parser behind pg-connection-string read the same
 * URL. libpq (fe-connect.c, conninfo_uri_parse_options) takes as user:password everything up to
 * the first '@' before the first '/', and knows no fragment; the WHATWG parser ends the authority
 * at the first '/', '?' or '#' and takes the last '@' in it. So `user:4711#Secret@host/db` is a
 * password for host `host` to libpq, and host `user` port 4711 to WHATWG. They agree when:
 *  - the userinfo (libpq's) holds only what RFC 3986 allows there: no '@', '#', '?', '/', '[',
 *    ']', space, and '%' only as %XX (not %00, which libpq refuses);
 *  - no other '@' stands before the query (a '/' in a password ends libpq's look-ahead early);
 *  - no '#' stands anywhere (libpq reads it as text, WHATWG as the start of a fragment);
 *  - every query parameter is key=value with %XX escapes only (libpq refuses anything else).
 */
export function urlProblem(url: string): string | undefined {
  const scheme = /^postgres(?:ql)?:\/\//.exec(url);
  const afterScheme = scheme ? url.slice(scheme[0].length) : url;
  const head = afterScheme.split('/')[0];
  const at = head.indexOf('@');
  if (at !== -1 && (!USERINFO.test(head.slice(0, at)) || /%00/.test(head.slice(0, at)))) {
    return `the user:password part holds a character that must be percent-encoded there (one of @ # ? / [ ] %, a space or a control character): ${ENCODE}`;
  }
  const rest = at === -1 ? afterScheme : afterScheme.slice(at + 1);
  if (rest.split('?')[0].includes('@'))
    return `it holds an '@' after the user:password part (an unencoded '@' or '/' in the password?): ${ENCODE}`;
  if (url.includes('#'))
    return "it holds an unencoded '#', which libpq reads as text and other parsers as the end of the URL: percent-encode it as %23";
  const queryProblem = queryProblemOf(url);
  if (queryProblem) return queryProblem;
  try {
    parse(splitTlsParams(url).rest);
    return undefined;
  } catch {
    // Look at the parts by hand only to explain the failure; never echo them.
  }
  const hostPart = rest.split(/[/?]/)[0];
  const port = /^(?:\[[^\]]*\]|[^:]*)(?::(.*))?$/.exec(hostPart)?.[1];
  if (port !== undefined && port !== '' && !(/^\d+$/.test(port) && Number(port) >= 1 && Number(port) <= 65535)) {
    return `the port must be a number from 1 to 65535, got ${/^\d{1,6}$/.test(port) ? port : 'something else'}`;
  }
  if (/[\s%]/.test(hostPart)) return 'the host holds a space or a stray %';
  return 'it is not a valid URL (expected postgresql://user:password@host:port/database, with the password percent-encoded)';
}

/** Where the query starts: libpq's first '?' (the WHATWG parser's too, once '#' is refused). */
function queryStart(url: string): number {
  const at = url.indexOf('?');
  return at < 0 ? url.length : at;
}

/** Each key=value of the query in order, as written and decoded as libpq decodes (%XX; '+' is a '+'). */
function queryPairs(url: string): { raw: string; name: string; value: string }[] {
  const query = url.slice(queryStart(url) + 1);
  return query
    .split('&')
    .filter((raw) => raw !== '')
    .map((raw) => {
      const eq = raw.indexOf('=');
      return { raw, name: decode(raw.slice(0, eq)) ?? '', value: decode(raw.slice(eq + 1)) ?? '' };
    });
}

function queryProblemOf(url: string): string | undefined {
  for (const { raw } of queryPairs(url)) {
    const parts = raw.split('=');
    if (parts.length !== 2)
      return `a query parameter is not written key=value (${parts.length < 2 ? "no '='" : "more than one '='"}): percent-encode '=' in a value as %3D`;
    if (parts.some((p) => decode(p) === undefined))
      return "a query parameter holds a '%' that is not %XX (or is %00): percent-encode '%' as %25";
    if (/\s/.test(raw)) return 'a query parameter holds a space: percent-encode it as %20';
  }
  return undefined;
}

function decode(text: string): string | undefined {
  if (/%00/.test(text)) return undefined;
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

/** Each parameter once, with its last value (libpq stores each in turn), in the order of those last values. */
function lastValues(url: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const { name, value } of queryPairs(url)) {
    out.delete(name);
    out.set(name, value);
  }
  return out;
}

/**
 * The URL without its TLS parameters, and those parameters: they are read by planTls (tls.ts), so
 * pg-connection-string neither reads sslrootcert files nor warns about sslmode here. As in libpq a
 * repeated parameter takes its last value, and `ssl` holds its last value's place among the mode
 * parameters (tls.ts reads the last of sslmode, ssl and requiressl).
 */
export function splitTlsParams(url: string): { rest: string; ssl: URLSearchParams } {
  const ssl = new URLSearchParams();
  const kept: string[] = [];
  for (const { name, value } of queryPairs(url)) {
    // Re-encoded from libpq's decoding, so pg-connection-string reads the same value ('+' stays a '+').
    if (!(TLS_PARAMS as readonly string[]).includes(name)) kept.push(`${encodeURIComponent(name)}=${encodeURIComponent(value)}`);
    else {
      ssl.delete(name);
      ssl.append(name, value);
    }
  }
  // Without a query the URL is left exactly as written (urlProblem explains it as is).
  if (queryStart(url) === url.length) return { rest: url, ssl };
  const base = url.slice(0, queryStart(url));
  return { rest: kept.length ? `${base}?${kept.join('&')}` : base, ssl };
}
