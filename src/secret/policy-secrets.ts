import { Secret } from './secret.js';
import { endsWithPostgresScheme, isPublicParam } from './postgres-params.js';

const PLACEHOLDER = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** Keys whose value is a credential, whatever the adapter (and keys any adapter may add). */
const SECRET_KEY = /^(current|admin_url|db_url)$|(password|passwd|secret|token|api_?key|private_?key|authorization|cookie)$/i;
/** Keys that are named like a secret but hold a name: a store target's `secret` is the secret's name. */
const NAME_KEYS = new Set(['store.github.secret']);
/** Maps whose every value may be a credential (an n8n credential's data, HTTP headers). */
const SECRET_MAPS = new Set(['data', 'headers']);

/**
 * The values `${NAME}` brings into a secret-bearing place of the raw policy: a secret-named key
 * (current, admin_url, token, password, api_key, …), a value under `data` or `headers`, or the
 * userinfo or query of a URL (`http://…/health?token=${HEALTH_TOKEN}`). Every run masks them
 * before anything else happens, so no sink shows them, however an adapter or a server quotes them.
 */
export function interpolatedSecrets(raw: unknown, env: NodeJS.ProcessEnv): Secret[] {
  const names = new Set<string>();
  walk(raw, [], names);
  const out: Secret[] = [];
  for (const name of names) {
    const value = env[name];
    if (typeof value === 'string' && value !== '') out.push(new Secret(value));
  }
  return out;
}

function walk(value: unknown, path: string[], names: Set<string>): void {
  if (typeof value === 'string') {
    for (const m of value.matchAll(PLACEHOLDER)) if (secretPlace(path, value, m.index)) names.add(m[1]);
    return;
  }
  if (Array.isArray(value)) return value.forEach((v, i) => walk(v, [...path, String(i)], names));
  if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) walk(v, [...path, k], names);
}

function secretPlace(path: string[], text: string, offset: number): boolean {
  const key = path.at(-1) ?? '';
  const words = path.filter((p) => !/^\d+$/.test(p));
  if (path.slice(0, -1).some((p) => SECRET_MAPS.has(p))) return true;
  // Inside a Postgres URL the place decides, under admin_url too: a login name, a host or an
  // sslmode is not a secret, and masked it would hide what a connection failure is about.
  if (inPostgresUrl(text, offset)) return inUrlCredentials(text, offset, true);
  if (SECRET_KEY.test(key) && !NAME_KEYS.has(words.slice(-3).join('.'))) return true;
  return inUrlCredentials(text, offset, false);
}

function inPostgresUrl(text: string, offset: number): boolean {
  const scheme = text.indexOf('://');
  return scheme !== -1 && offset > scheme && endsWithPostgresScheme(text.slice(0, scheme + 3));
}

/**
 * Whether `offset` falls in the userinfo or the query of the URL `text` holds. In a Postgres URL
 * only the password and the parameters libpq holds secret or does not know (postgres/url.ts); the
 * user part counts as a login name only when a ':' in the text itself ends it.
 */
function inUrlCredentials(text: string, offset: number, postgres: boolean): boolean {
  const scheme = text.indexOf('://');
  // `${ODOO_URL}/web/health?token=${TOKEN}`: a URL whose scheme and host come from a variable.
  const fromVariable = scheme === -1 && /^\$\{[A-Za-z_][A-Za-z0-9_]*\}[/?]/.test(text);
  if (!fromVariable && (scheme === -1 || offset < scheme)) return false;
  const query = text.indexOf('?', Math.max(scheme, 0));
  if (query !== -1 && offset > query) return !postgres || !isPublicParam(paramAt(text, query, offset));
  if (fromVariable) return false;
  const authorityEnd = text.slice(scheme + 3).search(/[/?#]/);
  const authority = authorityEnd === -1 ? text.length : scheme + 3 + authorityEnd;
  const at = text.lastIndexOf('@', authority);
  if (!(at > scheme && offset < at)) return false;
  const colon = text.indexOf(':', scheme + 3);
  return !postgres || colon === -1 || colon > at || offset > colon;
}

/** The name of the query parameter whose value holds `offset` ('' when it is in a name). */
function paramAt(text: string, query: number, offset: number): string {
  const start = Math.max(query, text.lastIndexOf('&', offset)) + 1;
  const pair = text.slice(start, offset);
  return pair.includes('=') ? pair.slice(0, pair.indexOf('=')) : '';
}

/**
 * Registers with `mask` every secret of a loaded policy: the interpolated ones above and every
 * Secret the loader made (admin URLs, `current`, provider tokens), written inline or not.
 */
export function maskPolicySecrets(
  policy: { secrets?: Secret[]; systems: object; credentials: object },
  mask: (secret: Secret) => void,
): void {
  for (const secret of policy.secrets ?? []) mask(secret);
  const visit = (value: unknown, depth: number): void => {
    if (value instanceof Secret) return mask(value);
    if (depth > 8 || !value || typeof value !== 'object') return;
    for (const v of Object.values(value)) visit(v, depth + 1);
  };
  visit(policy.systems, 0);
  visit(policy.credentials, 0);
}
