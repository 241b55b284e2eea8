/**
 * Sealing for small secrets Ward must read back (TOTP seeds, break-glass reasons): AES-256-GCM
 * (NIST SP 800-38D) under a key derived with HKDF-SHA256 from the local key-encryption key, a
 * fresh 96-bit nonce per seal, and associated data naming where the value belongs
 * (`table/column/row`), so a sealed value copied to another row or column does not open.
 * Per-patient envelope encryption for records builds on the same key file later.
 *
 * Sealed form: `sb1.<kekId>.<nonce b64url>.<ciphertext+tag b64url>`.
 */
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import type { LocalKeys } from './local-key-file.js';
import { WardError } from '../shared/ward-error.js';

const VERSION = 'sb1';
const INFO = 'ward/secret-box/v1';

export class SecretBox {
  private readonly derived = new Map<string, Buffer>();
  private readonly hashKeys = new Map<string, Buffer>();

  constructor(private readonly keys: LocalKeys) {
    for (const [id, kek] of keys.keys) this.derived.set(id, Buffer.from(hkdfSync('sha256', kek, Buffer.alloc(0), INFO, 32)));
  }

  /**
   * A keyed hash (HMAC-SHA256 under a key derived for `purpose` from the active KEK) for
   * values that must be matched but never stored as written: usernames as typed at sign-in,
   * and later blind indexes for exact-match search.
   */
  keyedHash(purpose: string, value: string): string {
    // Derived from the file's first (oldest) key, not the active one: a keyed hash must stay
    // the same across `ward keys rotate`, or lockout counters would silently start over.
    const kek = this.keys.keys.values().next().value;
    if (kek === undefined) throw new WardError('storage.key_missing', 'the active key-encryption key is missing');
    let key = this.hashKeys.get(purpose);
    if (key === undefined) {
      key = Buffer.from(hkdfSync('sha256', kek, Buffer.alloc(0), `ward/keyed-hash/v1/${purpose}`, 32));
      this.hashKeys.set(purpose, key);
    }
    return createHmac('sha256', key).update(value, 'utf8').digest('hex');
  }

  seal(plaintext: string, boundTo: string): string {
    const key = this.derived.get(this.keys.activeId);
    if (key === undefined) throw new WardError('storage.key_missing', 'the active key-encryption key is missing');
    const nonce = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, nonce);
    cipher.setAAD(Buffer.from(boundTo, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return [VERSION, this.keys.activeId, nonce.toString('base64url'), body.toString('base64url')].join('.');
  }

  /** Open a sealed value; any mismatch (other row, edited bytes, unknown key) is `storage.unseal_failed`. */
  open(sealed: string, boundTo: string): string {
    const [version, keyId, nonceText, bodyText, extra] = sealed.split('.');
    const key = keyId === undefined ? undefined : this.derived.get(keyId);
    if (version !== VERSION || key === undefined || nonceText === undefined || bodyText === undefined || extra !== undefined) {
      throw new WardError('storage.unseal_failed', 'a sealed value could not be opened');
    }
    const nonce = Buffer.from(nonceText, 'base64url');
    const body = Buffer.from(bodyText, 'base64url');
    if (nonce.length !== 12 || body.length < 16) throw new WardError('storage.unseal_failed', 'a sealed value could not be opened');
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, nonce);
      decipher.setAAD(Buffer.from(boundTo, 'utf8'));
      decipher.setAuthTag(body.subarray(body.length - 16));
      return Buffer.concat([decipher.update(body.subarray(0, body.length - 16)), decipher.final()]).toString('utf8');
    } catch (e) {
      throw new WardError('storage.unseal_failed', 'a sealed value could not be opened', { cause: e });
    }
  }
}

/** The associated data for a sealed column value. */
export function sealedAt(table: string, column: string, rowId: string): string {
  return `${table}/${column}/${rowId}`;
}
