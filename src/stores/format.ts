import type { Secret } from '../secret/secret.js';

/**
 * The value a target holds: the bare secret, or a `format` template such as
 * `postgresql://{user}:{password}@db:25060/odoo?sslmode=require`. `{password_url}` gives the
 * percent-encoded form for values a provider chose; `{user}` is the login that holds the new value
 * (the role for alter-role, the idle login for alternating-roles).
 */
export function renderFormat(format: string | undefined, value: Secret, user?: string): Secret {
  if (!format) return value;
  return value.map((plain) => {
    const withUser = user === undefined ? format : format.replaceAll('{user}', user);
    return withUser.replaceAll('{password_url}', encodeURIComponent(plain)).replaceAll('{password}', plain);
  });
}

/** Whether a template carries the secret (a `{user}`-only template holds no secret). */
export function carriesPassword(format: string | undefined): boolean {
  return format === undefined || format.includes('{password}') || format.includes('{password_url}');
}
