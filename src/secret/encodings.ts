/**
 * The forms a secret takes in base64 and hex, the encodings of Basic auth headers, tokens and
 * error pages that dump bytes, for the scrubber (scrubber.ts).
 *
 * Covered:
 *  - the value alone in base64 (standard and URL-safe alphabets, with and without padding) and
 *    in hex (all lower case or all upper case): exact forms, replaced where they stand;
 *  - the value inside a longer base64 string at any offset, e.g. Basic base64(user:password).
 *    base64 encodes 3 bytes as 4 characters, so base64(password) is not a substring of
 *    base64(user:password) unless user: is a multiple of 3 bytes long; but for each of the three
 *    alignments the characters of the value's whole 3-byte groups are (`base64Cores`). A base64
 *    run holding one of them is masked whole, which also takes the partial groups at its edges;
 *  - the value inside longer hex: hex is byte-aligned, so the exact forms above match there.
 * Not covered: mixed-case hex, base64 broken across lines (MIME's 76 columns), an encoding of an
 * encoding (base64 of a URL-encoded value), values under ENCODED_MIN characters (in any encoding),
 * and inside longer base64 values whose cores are shorter than CORE_MIN (under about 9 bytes:
 * their base64 groups would match unrelated data).
 */

/** The shortest core looked for inside longer base64: 8 characters are 6 bytes of the value. */
const CORE_MIN = 8;

/** Values shorter than this are matched as written only: their encodings are short enough to occur by chance (8 hex digits). */
const ENCODED_MIN = 8;

/** base64 (both alphabets, padded and not) and hex (lower and upper case) of `plain`. */
export function encodedForms(plain: string): string[] {
  if (plain.length < ENCODED_MIN) return [];
  const bytes = Buffer.from(plain, 'utf8');
  const std = bytes.toString('base64');
  const url = bytes.toString('base64url');
  const hex = bytes.toString('hex');
  return [std, std.replace(/=+$/, ''), url, `${url}${'='.repeat(std.length - url.length)}`, hex, hex.toUpperCase()];
}

/**
 * For each offset modulo 3 at which `plain` can start inside a longer base64 string, the characters
 * its whole 3-byte groups encode there, in both alphabets: present in any such string, whatever
 * precedes or follows the value.
 */
export function base64Cores(plain: string): string[] {
  const bytes = Buffer.from(plain, 'utf8');
  const cores = new Set<string>();
  for (const offset of [0, 1, 2]) {
    const shifted = Buffer.concat([Buffer.alloc(offset), bytes]).toString('base64');
    // The first group mixes in what precedes (skipped unless the value starts it); the last is partial.
    const whole = Math.floor((offset + bytes.length) / 3) * 4;
    const core = shifted.slice(offset === 0 ? 0 : 4, whole);
    if (core.length < CORE_MIN) continue;
    cores.add(core);
    cores.add(core.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  return [...cores];
}

/** A run of base64 (either alphabet) with its padding, as it stands in text. */
export const BASE64_RUN = /[A-Za-z0-9+/_-]{8,}={0,2}/g;
