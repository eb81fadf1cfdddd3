import type { Secret } from '../secret/secret.js';

/**
 * The value a target holds: the bare secret, or a `format` template such as
 * `postgresql://odoo_app:{password}@db:25060/odoo?sslmode=require`. `{password_url}` gives the
 * percent-encoded form for values a provider chose.
 */
export function renderFormat(format: string | undefined, value: Secret): Secret {
  if (!format) return value;
  return value.map((plain) => format.replaceAll('{password_url}', encodeURIComponent(plain)).replaceAll('{password}', plain));
}
