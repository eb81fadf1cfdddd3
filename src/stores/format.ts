import { Secret } from '../secret/secret.js';

/**
 * The value a target holds: the bare secret, or a `format` template such as
 * `postgresql://odoo_app:{password}@db:25060/odoo?sslmode=require`. `{password_url}` gives the
 * percent-encoded form for values a provider chose.
 */
export function renderFormat(format: string | undefined, value: Secret): Secret {
  if (!format) return value;
  return value.map((plain) => format.replaceAll('{password_url}', encodeURIComponent(plain)).replaceAll('{password}', plain));
}

/** The password inside a `format`-rendered value (the inverse of renderFormat), if it matches. */
export function unformat(format: string | undefined, value: Secret): Secret | undefined {
  if (!format) return value;
  const parts = format.split(/(\{password(?:_url)?\})/);
  const pattern = parts.map((p) => (p === '{password}' || p === '{password_url}' ? '(.+?)' : p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).join('');
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
