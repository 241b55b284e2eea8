/**
 * The embedded default key provider: key-encryption keys (KEKs) from the local key file
 * (`keys/local-kek.json`, format `ward.local-keys.v1`), version N being the key `kek-N`.
 *
 * Wrapping is AES-256-GCM (NIST SP 800-38D) with a 96-bit random nonce and a 128-bit tag, the
 * caller's context as associated data (so a wrapped data key moved to another patient or
 * version does not unwrap), under a wrapping key derived per KEK version with HKDF-SHA256
 * (RFC 5869). The info string differs from SecretBox's, so one key file never puts one AES key
 * to two uses. Wrapped form (61 bytes): `0x01 || nonce(12) || ciphertext(32) || tag(16)`.
 * Random nonces are safe far beyond Ward's volume: NIST SP 800-38D 8.3 allows 2^32 per key.
 *
 * The file is the source of truth: `versions()` reads it, and an unknown version re-reads it
 * once, so a server sees a version `ward keys rotate` added from another process.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import type { KeyProvider } from './key-provider.js';
import { appendLocalKey, localKekId, localKekVersion, readLocalKeyFile } from '../local-key-file.js';
import { WardError } from '../../shared/ward-error.js';

const FORMAT = 0x01;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const DATA_KEY_BYTES = 32;
const WRAPPED_BYTES = 1 + NONCE_BYTES + DATA_KEY_BYTES + TAG_BYTES;
/** Distinct from SecretBox's `ward/secret-box/v1` and `ward/keyed-hash/v1/...`. */
const WRAP_INFO = 'ward/key-provider/local/wrap/v1';

export interface LocalKeyProviderOptions {
  /** The local key file (created by `ward init`). */
  file: string;
  /** Creation time written next to new keys; defaults to the system clock. */
  now?: () => Date;
}

export class LocalKeyProvider implements KeyProvider {
  readonly name = 'local';
  private readonly wrappingKeys = new Map<number, Buffer>();
  private closed = false;

  private constructor(private readonly options: LocalKeyProviderOptions) {}

  /** Open the key file now, so a missing or exposed file (mode not 0600) fails at start. */
  static async open(options: LocalKeyProviderOptions): Promise<LocalKeyProvider> {
    const provider = new LocalKeyProvider(options);
    provider.reload();
    return provider;
  }

  async versions(): Promise<number[]> {
    this.assertOpen();
    return this.reload();
  }

  async createVersion(): Promise<number> {
    this.assertOpen();
    const id = await appendLocalKey(this.options.file, (this.options.now ?? (() => new Date()))());
    this.reload();
    const version = localKekVersion(id);
    if (version === undefined) throw new WardError('keys.kek_missing', `the local key file did not accept a new key-encryption key`);
    return version;
  }

  async wrap(version: number, dataKey: Buffer, context: string): Promise<Buffer> {
    this.assertOpen();
    const key = this.wrappingKey(version);
    if (!Buffer.isBuffer(dataKey) || dataKey.length !== DATA_KEY_BYTES) {
      throw new WardError('keys.invalid_data_key', `a data key must be exactly ${DATA_KEY_BYTES} bytes`);
    }
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(context, 'utf8'));
    return Buffer.concat([Buffer.of(FORMAT), nonce, cipher.update(dataKey), cipher.final(), cipher.getAuthTag()]);
  }

  async unwrap(version: number, wrapped: Buffer, context: string): Promise<Buffer> {
    this.assertOpen();
    const key = this.wrappingKey(version);
    if (!Buffer.isBuffer(wrapped) || wrapped.length !== WRAPPED_BYTES || wrapped[0] !== FORMAT) throw unwrapFailed(version);
    const nonce = wrapped.subarray(1, 1 + NONCE_BYTES);
    const body = wrapped.subarray(1 + NONCE_BYTES, WRAPPED_BYTES - TAG_BYTES);
    const tag = wrapped.subarray(WRAPPED_BYTES - TAG_BYTES);
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(body), decipher.final()]);
    } catch (e) {
      throw unwrapFailed(version, e);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const key of this.wrappingKeys.values()) key.fill(0);
    this.wrappingKeys.clear();
  }

  /** Read the file, derive a wrapping key for every version not yet known; the versions, ascending. */
  private reload(): number[] {
    const { keys } = readLocalKeyFile(this.options.file);
    const versions: number[] = [];
    for (const [id, kek] of keys) {
      const version = localKekVersion(id);
      if (version !== undefined) {
        versions.push(version);
        if (!this.wrappingKeys.has(version)) {
          this.wrappingKeys.set(version, Buffer.from(hkdfSync('sha256', kek, Buffer.alloc(0), WRAP_INFO, 32)));
        }
      }
      // The provider keeps only derived keys; the raw KEK bytes are not kept in memory.
      kek.fill(0);
    }
    return versions.sort((a, b) => a - b);
  }

  private wrappingKey(version: number): Buffer {
    let key = Number.isSafeInteger(version) ? this.wrappingKeys.get(version) : undefined;
    if (key === undefined && Number.isSafeInteger(version) && version > 0) {
      // Another process (`ward keys rotate`) may have added it since this provider last looked.
      this.reload();
      key = this.wrappingKeys.get(version);
    }
    if (key === undefined) {
      throw new WardError('keys.kek_missing', `the local key file has no key-encryption key ${localKekIdOrValue(version)}`, {
        extra: { provider: 'local' },
      });
    }
    return key;
  }

  private assertOpen(): void {
    if (this.closed) throw new WardError('keys.provider_closed', 'the local key provider is closed');
  }
}

function unwrapFailed(version: number, cause?: unknown): WardError {
  return new WardError('keys.unwrap_failed', `a data key did not unwrap under local key-encryption key version ${version}`, {
    cause,
    extra: { provider: 'local', version },
  });
}

function localKekIdOrValue(version: number): string {
  return Number.isSafeInteger(version) && version > 0 ? localKekId(version) : `version ${String(version)}`;
}
