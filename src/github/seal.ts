import sodium from 'libsodium-wrappers';
import type { Secret } from '../secret/secret.js';

/** A repository, environment or organization public key, as GitHub returns it. */
export interface PublicKey {
  key_id: string;
  /** base64 (ORIGINAL variant) Curve25519 public key. */
  key: string;
}

/**
 * Encrypts a value for GitHub's Actions secrets API ("Encrypting secrets for the REST API"):
 * a libsodium sealed box to the scope's public key, base64 (ORIGINAL) encoded. Only the sealed
 * box leaves this function; the plaintext buffer is wiped after use.
 */
export async function sealSecret(value: Secret, publicKey: PublicKey): Promise<string> {
  await sodium.ready;
  const key = sodium.from_base64(publicKey.key, sodium.base64_variants.ORIGINAL);
  const plain = sodium.from_string(value.reveal());
  try {
    return sodium.to_base64(sodium.crypto_box_seal(plain, key), sodium.base64_variants.ORIGINAL);
  } finally {
    sodium.memzero(plain);
  }
}
