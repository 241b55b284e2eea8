import { keyedHash } from '../keyed-hash.js';

const UPPER = 'ABCDEFGHJKLMNPRSTUVWXYZ';
const LOWER = 'abcdefghjkmnpqrstuvwxyz';

/**
 * Replaces every digit with a digit and every letter with a letter of the same case, keeping
 * separators, from an HMAC stream: "MRN-00482113" keeps its shape, not its value.
 */
export function formatPreserving(key: Uint8Array, original: string, ...scope: readonly string[]): string {
  let stream = keyedHash(key, 'deid.format_preserving', ...scope, original);
  let pos = 0;
  const next = (): number => {
    if (pos >= stream.length) {
      stream = keyedHash(key, 'deid.format_preserving.more', stream.toString('hex'));
      pos = 0;
    }
    const v = stream[pos] ?? 0;
    pos += 1;
    return v;
  };
  let out = '';
  for (const ch of original) {
    if (ch >= '0' && ch <= '9') out += String(next() % 10);
    else if (ch >= 'A' && ch <= 'Z') out += UPPER.charAt(next() % UPPER.length);
    else if (ch >= 'a' && ch <= 'z') out += LOWER.charAt(next() % LOWER.length);
    else out += ch;
  }
  return out;
}
