import { Secret } from './secret.js';
import { endsWithPostgresScheme, isPublicParam } from './postgres-params.js';
import { base64Cores, BASE64_RUN, encodedForms } from './encodings.js';

/** What a scrubbed value becomes. */
export const MASK = '***';

/** Values shorter than this are not masked: they would shred ordinary words. */
const MIN_LENGTH = 4;

/**
 * The one filter between a run and everything it leaves behind: the log (stdout, stderr), the job
 * summary, the action's outputs and state, the evidence JSON and Markdown, and the messages of
 * errors it throws. It removes
 *  - every value the run registered (old and new credentials, tokens, keys, values interpolated
 *    into secret-bearing policy keys), in the forms a value takes in URLs and JSON, and in base64
 *    and hex, alone or inside a longer base64 string (encodings.ts says what is covered);
 *  - the credentials in any URL (userinfo, every query value), so `?token=…` is never recorded;
 *  - `Authorization`-style header values and secret-named JSON fields a server echoed back, so a
 *    value the run never knew (another key in the same answer) is not recorded either.
 * Hand-written: a few regular expressions; no well-kept library does exactly this.
 */
export class Scrubber {
  readonly #values = new Set<string>();
  /** What a value's whole base64 groups look like at each alignment (encodings.ts). */
  readonly #cores = new Set<string>();
  #sorted: string[] | undefined;

  add(secret: Secret | string): void {
    const plain = secret instanceof Secret ? secret.reveal() : secret;
    if (plain.length < MIN_LENGTH) return;
    const json = JSON.stringify(plain).slice(1, -1);
    for (const form of [
      plain,
      encodeURIComponent(plain),
      json,
      JSON.stringify(json).slice(1, -1),
      plain.replace(/ /g, '+'),
      ...encodedForms(plain),
    ]) {
      this.#values.add(form);
    }
    for (const core of base64Cores(plain)) this.#cores.add(core);
    this.#sorted = undefined;
  }

  /** Whether `text` holds a registered value (for tests and assertions of callers). */
  holdsSecret(text: string): boolean {
    return this.values().some((v) => text.includes(v)) || [...text.matchAll(BASE64_RUN)].some(([run]) => this.holdsCore(run));
  }

  scrub(text: string): string {
    let out = String(text);
    // Longest first, so a value that contains another is replaced whole.
    for (const value of this.values()) if (out.includes(value)) out = out.split(value).join(MASK);
    // A value inside a longer base64 string (Basic base64(user:password)): the whole string goes.
    if (this.#cores.size > 0) out = out.replace(BASE64_RUN, (run) => (this.holdsCore(run) ? MASK : run));
    return redactPatterns(out);
  }

  private holdsCore(run: string): boolean {
    for (const core of this.#cores) if (run.includes(core)) return true;
    return false;
  }

  scrubDeep<T>(value: T): T {
    return scrubDeep(value, (t) => this.scrub(t));
  }

  private values(): string[] {
    return (this.#sorted ??= [...this.#values].sort((a, b) => b.length - a.length));
  }
}

/**
 * `text` scrubbed whole, then cut to `max` characters for a message. Never the other way round:
 * a cut through a secret leaves a part the scrubber no longer recognises (20 characters of a
 * 32-character password, a token below its pattern's length), and that part would reach the sinks.
 */
export function shorten(text: string, max: number, scrub: (text: string) => string): string {
  const clean = scrub(text);
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}

/** A copy of `value` with every string in it (objects, arrays) passed through `scrub`. */
export function scrubDeep<T>(value: T, scrub: (text: string) => string): T {
  if (typeof value === 'string') return scrub(value) as T;
  if (Array.isArray(value)) return value.map((v) => scrubDeep(v, scrub)) as T;
  // Plain data only (records, reports): a Date, a Secret or any other instance is kept as it is.
  const proto = value && typeof value === 'object' ? Object.getPrototypeOf(value) : undefined;
  if (proto === Object.prototype || proto === null) {
    return Object.fromEntries(Object.entries(value as object).map(([k, v]) => [k, scrubDeep(v, scrub)])) as T;
  }
  return value;
}

/**
 * The same error with its message, stack and hint scrubbed, for a throw that leaves the run
 * (an Error's message is an own property, so it can be rewritten in place).
 */
export function scrubError(error: unknown, scrub: (text: string) => string): unknown {
  if (typeof error === 'string') return scrub(error);
  if (!(error instanceof Error)) return error;
  error.message = scrub(error.message);
  if (error.stack) error.stack = scrub(error.stack);
  const hint = (error as { hint?: unknown }).hint;
  if (typeof hint === 'string') Object.defineProperty(error, 'hint', { value: scrub(hint) });
  return error;
}

// scheme://user:password@host/path?query#fragment, as far as a URL runs in free text.
const URL_IN_TEXT = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s"'<>`\\]*)/gi;
// `Authorization: Bearer …`, `Basic …`, `token ghs_…` (echoed request headers): a credential has
// a digit or a symbol, which keeps "Basic authentication" readable.
const AUTH_SCHEME = /\b(Bearer|Basic|token)\s+(?=[A-Za-z0-9._~+/=-]*[0-9._~+/=-])[A-Za-z0-9._~+/=-]{12,}/g;
// Tokens recognisable by their published prefixes (GitHub, DigitalOcean, Supabase) and JWTs.
const KNOWN_TOKEN =
  /\b(?:gh[pousr]_[A-Za-z0-9_]{20,}|github_pat_[A-Za-z0-9_]{20,}|dop_v1_[A-Za-z0-9]{20,}|sbp_[A-Za-z0-9_]{20,}|sb_secret_[A-Za-z0-9_-]{10,}|eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+)/g;
// "password": "…", 'token': '…' and \"api_key\":\"…\" (JSON quoted in JSON), in echoed answers.
const SECRET_NAME = '[a-z0-9_-]*(?:password|passwd|secret|token|api[_-]?key|apikey|authorization|cookie|encrypted_value|private[_-]?key)';
const SECRET_FIELD = new RegExp(`(["'])(${SECRET_NAME})\\1(\\s*:\\s*)\\1(?:\\\\.|(?!\\1)[^\\\\])*\\1`, 'gi');
const SECRET_FIELD_ESCAPED = new RegExp(`(\\\\+["'])(${SECRET_NAME})\\1(\\s*:\\s*)\\1[^"'\\\\]*\\1`, 'gi');

function redactPatterns(text: string): string {
  return text
    .replace(URL_IN_TEXT, (_m, scheme: string, rest: string) => scheme + redactUrlRest(rest, endsWithPostgresScheme(scheme)))
    .replace(AUTH_SCHEME, (_m, scheme: string) => `${scheme} ${MASK}`)
    .replace(KNOWN_TOKEN, MASK)
    .replace(
      SECRET_FIELD_ESCAPED,
      (_m, quote: string, key: string, colon: string) => `${quote}${key}${quote}${colon}${quote}${MASK}${quote}`,
    )
    .replace(SECRET_FIELD, (_m, quote: string, key: string, colon: string) => `${quote}${key}${quote}${colon}${quote}${MASK}${quote}`);
}

/**
 * The part of a URL after `scheme://`: userinfo as pip's redact_netloc does it (a password is
 * masked, a lone user name is taken for a token and masked), and every query value. A Postgres
 * URL keeps its login name and the parameters libpq does not hold secret (sslmode, sslrootcert,
 * ...: secret/postgres-params.ts), which are what a connection failure is about.
 */
function redactUrlRest(rest: string, postgres: boolean): string {
  let out = rest;
  const authorityEnd = out.search(/[/?#]/);
  const authority = authorityEnd === -1 ? out : out.slice(0, authorityEnd);
  const at = authority.lastIndexOf('@');
  if (at !== -1) {
    const userinfo = authority.slice(0, at);
    const colon = userinfo.indexOf(':');
    const safe = colon === -1 ? (postgres ? userinfo : MASK) : `${userinfo.slice(0, colon)}:${MASK}`;
    out = safe + out.slice(at);
  }
  const q = out.indexOf('?');
  if (q === -1) return out;
  const hash = out.indexOf('#', q);
  const query = out.slice(q + 1, hash === -1 ? undefined : hash);
  const redacted = query
    .split('&')
    .map((pair) => {
      if (pair === '') return pair;
      const eq = pair.indexOf('=');
      // Punctuation that ends a sentence is kept: "…?token=abc)." reads "…?token=***)."
      const tail = /[).,;:]*$/.exec(pair)![0];
      if (eq === -1) return pair.length > tail.length ? MASK + tail : pair;
      if (eq + 1 >= pair.length - tail.length) return pair;
      const value = pair.slice(eq + 1, pair.length - tail.length);
      return `${pair.slice(0, eq + 1)}${postgres && isPublicParam(pair.slice(0, eq)) ? value : MASK}${tail}`;
    })
    .join('&');
  return `${out.slice(0, q + 1)}${redacted}${hash === -1 ? '' : out.slice(hash)}`;
}
