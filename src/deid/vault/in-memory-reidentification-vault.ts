import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { WardError } from '../../shared/ward-error.js';
import type { PhiType } from '../phi-type.js';
import type {
  PermissionCheck,
  ReidentificationAudit,
  ReidentificationRequest,
  ReidentificationResult,
  ReidentificationVault,
} from './reidentification-vault.js';

interface Sealed {
  readonly type: PhiType;
  readonly iv: Buffer;
  readonly ciphertext: Buffer;
  readonly tag: Buffer;
}

export interface InMemoryVaultOptions {
  /** 32-byte AES-256-GCM key (from the key provider; never the de-identification HMAC key). */
  readonly key: Uint8Array;
  readonly permit: PermissionCheck;
  readonly audit: ReidentificationAudit;
}

/**
 * In-memory re-identification vault: each original is sealed with AES-256-GCM under a fresh
 * 96-bit IV, with the pseudonym and type as associated data (a ciphertext moved to another
 * pseudonym fails to open). For tests and single-process use; persistence comes with storage.
 */
export class InMemoryReidentificationVault implements ReidentificationVault {
  private readonly entries = new Map<string, Sealed>();
  private readonly key: Buffer;

  constructor(private readonly options: InMemoryVaultOptions) {
    if (options.key.length !== 32) throw new WardError('deid.vault_key', 'vault key must be 32 bytes (AES-256)');
    this.key = Buffer.from(options.key);
  }

  private static aad(pseudonym: string, type: PhiType): Buffer {
    return Buffer.from(`ward.deid.vault\u0000${pseudonym}\u0000${type}`, 'utf8');
  }

  store(pseudonym: string, type: PhiType, original: string): Promise<void> {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(InMemoryReidentificationVault.aad(pseudonym, type));
    const ciphertext = Buffer.concat([cipher.update(original, 'utf8'), cipher.final()]);
    this.entries.set(pseudonym, { type, iv, ciphertext, tag: cipher.getAuthTag() });
    return Promise.resolve();
  }

  /** Number of stored mappings (for tests and metrics; no values). */
  get size(): number {
    return this.entries.size;
  }

  /** The sealed bytes, for tests that check nothing is stored in the clear. */
  sealedBytes(pseudonym: string): Buffer | undefined {
    return this.entries.get(pseudonym)?.ciphertext;
  }

  async reidentify(pseudonym: string, request: ReidentificationRequest): Promise<ReidentificationResult> {
    const sealed = this.entries.get(pseudonym);
    const event = { action: 'deid.reidentify' as const, pseudonym, principalId: request.principalId, purposeOfUse: request.purposeOfUse };
    if (sealed === undefined) {
      await this.options.audit({ ...event, outcome: 'not_found' });
      return { outcome: 'not_found' };
    }
    const allowed = await this.options.permit(request, { type: sealed.type });
    if (!allowed) {
      await this.options.audit({ ...event, outcome: 'denied' });
      return { outcome: 'denied' };
    }
    // Audit first: if the entry cannot be written, the original is not released.
    await this.options.audit({ ...event, outcome: 'permitted' });
    const decipher = createDecipheriv('aes-256-gcm', this.key, sealed.iv);
    decipher.setAAD(InMemoryReidentificationVault.aad(pseudonym, sealed.type));
    decipher.setAuthTag(sealed.tag);
    const original = Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]).toString('utf8');
    return { outcome: 'permitted', type: sealed.type, original };
  }
}
