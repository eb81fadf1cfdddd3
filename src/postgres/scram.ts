import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import type { Secret } from '../secret/secret.js';
import { RotationError } from '../errors/errors.js';

/**
 * The SCRAM-SHA-256 verifier Postgres stores for a password, computed on the client the way
 * libpq's PQencryptPasswordConn does, so ALTER ROLE never carries the plaintext and a server
 * logging every statement logs no password. Hand-written: no maintained npm package exposes it,
 * and it is four standard primitives (RFC 5802 / RFC 7677).
 *
 * Format: SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey> (base64).
 * SASLprep is the identity for printable ASCII, which is all this accepts.
 */
export function scramVerifier(password: Secret, iterations = 4096, salt: Buffer = randomBytes(16)): string {
  const plain = password.reveal();
  if (!/^[\x20-\x7e]+$/.test(plain)) throw new RotationError('SCRAM verifier: only printable ASCII passwords are supported');
  const salted = pbkdf2Sync(plain, salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}
