import { createHash, timingSafeEqual } from 'node:crypto';
import { inspect } from 'node:util';
import { RotationError } from '../errors/errors.js';

export const REDACTED = '[redacted]';

/**
 * A credential value. The plaintext lives in a private field and comes out only through
 * `reveal()`, so printing, logging, interpolating or serialising a Secret shows `[redacted]`.
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    if (typeof value !== 'string' || value.length === 0) throw new RotationError('a secret value must be a non-empty string');
    this.#value = value;
  }

  reveal(): string {
    return this.#value;
  }

  /**
   * Constant time: the SHA-256 digests are compared with timingSafeEqual, so how long a comparison
   * takes says nothing about how much of a value matched (a leaked value against the live one).
   */
  equals(other: Secret | undefined): boolean {
    return other !== undefined && timingSafeEqual(digest(other.#value), digest(this.#value));
  }

  /** A derived value (a connection URL, say), itself secret. */
  map(fn: (plain: string) => string): Secret {
    return new Secret(fn(this.#value));
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return REDACTED;
  }

  [Symbol.toPrimitive](): string {
    return REDACTED;
  }
}

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();
