import { randomBytes } from 'node:crypto';
import { Secret } from './secret.js';
import { RotationError } from '../errors/errors.js';

/**
 * Letters, digits and `-_.~`: unreserved in URLs (RFC 3986), needs no quoting in odoo.conf, a
 * dotenv line or a shell, and contains none of : / @ ? # % & ' " \ or space.
 */
export const PASSWORD_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~';
export const DEFAULT_PASSWORD_LENGTH = 32;

/**
 * A password from the platform CSPRNG. Hand-written because it is a few lines: bytes at or above
 * the largest multiple of the alphabet size are rejected, so every character is equally likely.
 */
export function generatePassword(length = DEFAULT_PASSWORD_LENGTH, alphabet = PASSWORD_ALPHABET): Secret {
  if (!Number.isInteger(length) || length < 16 || length > 1024) {
    throw new RotationError(`password length must be a whole number from 16 to 1024, got ${length}`);
  }
  const limit = 256 - (256 % alphabet.length);
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte >= limit) continue;
      out += alphabet[byte % alphabet.length];
      if (out.length === length) break;
    }
  }
  return new Secret(out);
}
