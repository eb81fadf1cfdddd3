import type { Runtime } from '../runtime/runtime.js';
import type { TargetSpec } from '../policy/types.js';
import { RotationError } from '../errors/errors.js';
import { Secret } from '../secret/secret.js';

/**
 * The one way an adapter reads its options (a store, consumer or probe entry of the policy). The
 * policy schema checked their shapes when the policy was loaded (types, enums, which keys go
 * together); these reads give the values their types without casts, and when a spec was built by
 * hand and is wrong, the error names the key path, never the value.
 */
export interface Options {
  /** A required non-empty string. */
  string(key: string): string;
  /** A non-empty string, or undefined when the key is absent. */
  optionalString(key: string): string | undefined;
  /** A number (the schema sets each option's range), or `fallback` when the key is absent. */
  number(key: string, fallback: number): number;
  /** true or false; absent is false. */
  flag(key: string): boolean;
  /** A list of strings, or undefined when the key is absent. */
  strings(key: string): string[] | undefined;
  /** A mapping, or undefined when the key is absent. */
  mapping(key: string): Record<string, unknown> | undefined;
  /** An http(s) URL, without trailing slashes. */
  url(key: string): string;
  /** A secret-bearing option (a password, an API key, usually `${VARIABLE}`): a Secret at once, masked in every log. */
  secret(key: string): Secret;
  /** The same, or undefined when the key is absent. */
  optionalSecret(key: string): Secret | undefined;
  /** One of `values`, or `fallback` when the key is absent. */
  choice<T extends string>(key: string, values: readonly T[], fallback: T): T;
  /** A value of a shape only this adapter reads (an id that may be a number, a template mapping): it parses it. */
  value(key: string): unknown;
  /** The key path of an option, for messages: `credentials.x.consumers[0].http.url`. */
  path(key: string): string;
}

export function optionsOf(spec: TargetSpec, runtime: Runtime): Options {
  const raw = spec.options;
  const path = (key: string) => `${spec.path}.${key}`;
  const wrong = (key: string, expected: string) => new RotationError(`${path(key)}: expected ${expected}`);
  const string = (key: string): string => {
    const value = raw[key];
    if (typeof value !== 'string' || value.trim() === '') throw wrong(key, 'a non-empty string');
    return value;
  };
  const secret = (key: string): Secret => {
    const value = raw[key];
    if (value instanceof Secret) return value;
    if (typeof value !== 'string' || value === '') throw wrong(key, 'a non-empty string (usually ${VARIABLE} naming a secret)');
    const held = new Secret(value);
    runtime.reporter.mask(held);
    return held;
  };
  return {
    string,
    optionalString: (key) => (raw[key] === undefined ? undefined : string(key)),
    number(key, fallback) {
      const value = raw[key];
      if (value === undefined) return fallback;
      if (typeof value !== 'number' || !Number.isFinite(value)) throw wrong(key, 'a number');
      return value;
    },
    flag(key) {
      const value = raw[key];
      if (value === undefined) return false;
      if (typeof value !== 'boolean') throw wrong(key, 'true or false');
      return value;
    },
    strings(key) {
      const value = raw[key];
      if (value === undefined) return undefined;
      if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) throw wrong(key, 'a list of strings');
      return value;
    },
    mapping(key) {
      const value = raw[key];
      if (value === undefined) return undefined;
      if (value === null || typeof value !== 'object' || Array.isArray(value)) throw wrong(key, 'a mapping');
      return value as Record<string, unknown>;
    },
    url(key) {
      const value = string(key);
      if (!/^https?:\/\/[^/]/.test(value)) throw wrong(key, 'an http(s) URL');
      return value.replace(/\/+$/, '');
    },
    secret,
    optionalSecret: (key) => (raw[key] === undefined ? undefined : secret(key)),
    choice(key, values, fallback) {
      const value = raw[key];
      if (value === undefined) return fallback;
      const known = values.find((v) => v === value);
      if (known === undefined) throw wrong(key, values.join(' | '));
      return known;
    },
    value: (key) => raw[key],
    path,
  };
}

/** Whether a template names the password. */
export function hasPasswordPlaceholder(text: string): boolean {
  return text.includes('{password}') || text.includes('{password_url}');
}
