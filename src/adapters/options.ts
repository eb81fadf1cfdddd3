import type { Runtime } from '../runtime/runtime.js';
import { RotationError } from '../errors/errors.js';
import { Secret } from '../secret/secret.js';

/** Option readers for stores, consumers and health probes: each error names the key path, never the value. */

export function requireString(value: unknown, path: string): string {
  if (typeof value !== 'string' || value.trim() === '') throw new RotationError(`${path}: expected a non-empty string`);
  return value;
}

export function optionalString(value: unknown, fallback: string | undefined, path: string): string | undefined {
  return value === undefined ? fallback : requireString(value, path);
}

export function positive(value: unknown, fallback: number, path: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value > 0)) throw new RotationError(`${path}: expected a number greater than 0`);
  return value;
}

export function httpUrl(value: unknown, path: string): string {
  const url = requireString(value, path);
  if (!/^https?:\/\/[^/]/.test(url)) throw new RotationError(`${path}: expected an http(s) URL`);
  return url.replace(/\/+$/, '');
}

/** A secret-bearing option (a password, an API key): a Secret at once, masked in every log. */
export function secretOption(value: unknown, path: string, runtime: Runtime): Secret {
  if (typeof value !== 'string' || value === '') {
    throw new RotationError(`${path}: expected a non-empty string (usually \${VARIABLE} naming a secret)`);
  }
  const secret = new Secret(value);
  runtime.reporter.mask(secret);
  return secret;
}

/** Whether a template names the password. */
export function hasPasswordPlaceholder(text: string): boolean {
  return text.includes('{password}') || text.includes('{password_url}');
}
