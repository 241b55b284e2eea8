import { randomInt } from 'node:crypto';

// Crockford-style alphabet without look-alikes; 24 characters ≈ 120 bits.
const ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';

/** A random one-time password for a new account; shown once, never stored in clear. */
export function newOneTimePassword(length = 24): string {
  let s = '';
  for (let i = 0; i < length; i++) s += ALPHABET[randomInt(ALPHABET.length)];
  return s.replace(/(.{6})(?!$)/g, '$1-');
}
