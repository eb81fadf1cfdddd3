import { Secret } from '../secret/secret.js';

/**
 * The value a target holds: the bare secret, or a `format` template such as
 * `postgresql://{user}:{password}@db:25060/odoo?sslmode=require`. `{password_url}` gives the
 * percent-encoded form for values a provider chose; `{user}` is the login that holds the new value
 * (the role for alter-role, the idle login for alternating-roles).
 */
export function renderFormat(format: string | undefined, value: Secret, user?: string): Secret {
  if (!format) return value;
  return value.map((plain) => {
    const withUser = user === undefined ? format : fillUser(format, user);
    return withUser.replaceAll('{password_url}', encodeURIComponent(plain)).replaceAll('{password}', plain);
  });
}

/**
 * `{user}` filled in: percent-encoded where it stands inside a URL (after `scheme://`, up to the
 * next space), so a role such as `app:x%y` is `app%3Ax%25y` there and the URL logs in as it; as is
 * anywhere else (a `DB_USER` secret holds the login name itself).
 */
function fillUser(format: string, user: string): string {
  return format.replace(/\{user\}/g, (slot, offset: number) =>
    /[a-z][a-z0-9+.-]*:\/\/\S*$/i.test(format.slice(0, offset)) ? encodeURIComponent(user) : user,
  );
}

/** Whether a template carries the secret (a `{user}`-only template holds no secret). */
export function carriesPassword(format: string | undefined): boolean {
  return format === undefined || format.includes('{password}') || format.includes('{password_url}');
}

/** The password inside a `format`-rendered value (the inverse of renderFormat), if it matches. */
export function unformat(format: string | undefined, value: Secret): Secret | undefined {
  if (!format) return value;
  const parts = format.split(/(\{password(?:_url)?\}|\{user\})/);
  const slotPattern = (p: string) =>
    p === '{password}' || p === '{password_url}' ? '(.+?)' : p === '{user}' ? '(?:[^:/@]+?)' : p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const pattern = parts.map(slotPattern).join('');
  const match = new RegExp(`^${pattern}$`, 's').exec(value.reveal());
  const slot = parts.filter((p) => p === '{password}' || p === '{password_url}')[0];
  if (!match || !slot) return undefined;
  try {
    const plain = slot === '{password_url}' ? decodeURIComponent(match[1]) : match[1];
    return plain ? new Secret(plain) : undefined;
  } catch {
    return undefined;
  }
}
