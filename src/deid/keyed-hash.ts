import { createHmac } from 'node:crypto';
import { WardError } from '../shared/ward-error.js';

/**
 * HMAC-SHA-256 over length-prefixed parts, so ("ab","c") and ("a","bc") never collide. The
 * key is the deployment's de-identification secret: without it, surrogates and pseudonyms
 * cannot be recomputed from a guess of the original (a plain hash could be, by dictionary).
 */
export function keyedHash(key: Uint8Array, ...parts: readonly string[]): Buffer {
  if (key.length < 32) throw new WardError('deid.weak_key', 'de-identification key must be at least 32 bytes');
  const h = createHmac('sha256', key);
  for (const p of parts) {
    const bytes = Buffer.from(p, 'utf8');
    const len = Buffer.alloc(4);
    len.writeUInt32BE(bytes.length);
    h.update(len);
    h.update(bytes);
  }
  return h.digest();
}

/** A deterministic integer in [0, n) from the hash (n well below 2^32: bias is negligible). */
export function keyedIndex(key: Uint8Array, n: number, ...parts: readonly string[]): number {
  return keyedHash(key, ...parts).readUInt32BE(0) % n;
}
