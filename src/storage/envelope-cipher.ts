/**
 * Field encryption under a data key: AES-256-GCM (NIST SP 800-38D) with a fresh 96-bit nonce
 * per value and associated data naming exactly where the value belongs (table, row, field,
 * key subject and key version). A ciphertext copied to another row, another field or
 * another patient's row fails authentication instead of decrypting into the wrong place
 * (45 CFR 164.312(a)(2)(iv) encryption, 164.312(c)(1) integrity).
 *
 * Sealed form: `0x01 || nonce(12) || ciphertext || tag(16)`.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { WardError } from '../shared/ward-error.js';

const FORMAT = 0x01;
const NONCE = 12;
const TAG = 16;

/** Where a ciphertext lives; all of it is authenticated with the value. */
export interface CipherBinding {
  table: string;
  row: string;
  field: string;
  /** The data key's subject (`patient:<id>`, `directory`). */
  subject: string;
  keyVersion: number;
}

/** NUL-separated, so no two bindings share an encoding (ids cannot contain NUL). */
export function associatedDataOf(b: CipherBinding): Buffer {
  return Buffer.from(['ward.enc.v1', b.table, b.row, b.field, b.subject, String(b.keyVersion)].join('\u0000'), 'utf8');
}

export function sealField(key: Buffer, plaintext: Buffer, binding: CipherBinding): Buffer {
  const nonce = randomBytes(NONCE);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(associatedDataOf(binding));
  const body = cipher.update(plaintext);
  const final = cipher.final();
  return Buffer.concat([Buffer.of(FORMAT), nonce, body, final, cipher.getAuthTag()]);
}

/** Decrypt, or throw `storage.decrypt_failed` (wrong key, wrong place, edited bytes). */
export function openField(key: Buffer, sealed: Buffer, binding: CipherBinding): Buffer {
  if (sealed.length < 1 + NONCE + TAG || sealed[0] !== FORMAT) throw decryptFailed();
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(1, 1 + NONCE));
    decipher.setAAD(associatedDataOf(binding));
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG));
    return Buffer.concat([decipher.update(sealed.subarray(1 + NONCE, sealed.length - TAG)), decipher.final()]);
  } catch (e) {
    throw decryptFailed(e);
  }
}

function decryptFailed(cause?: unknown): WardError {
  return new WardError('storage.decrypt_failed', 'an encrypted value could not be decrypted (wrong key or not where it was written)', cause === undefined ? {} : { cause });
}

/** How record fields are sealed; production always uses AES-256-GCM (the benchmark compares). */
export interface FieldSealer {
  seal(key: Buffer, plaintext: Buffer, binding: CipherBinding): Buffer;
  open(key: Buffer, sealed: Buffer, binding: CipherBinding): Buffer;
}

export const aesGcmSealer: FieldSealer = { seal: sealField, open: openField };
