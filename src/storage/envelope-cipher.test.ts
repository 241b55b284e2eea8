import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { associatedDataOf, openField, sealField } from './envelope-cipher.js';
import type { CipherBinding } from './envelope-cipher.js';

const key = randomBytes(32);
const at: CipherBinding = { table: 'fhir_resource', row: 'Encounter/e1', field: 'body', subject: 'patient:p1', keyVersion: 1 };
const plain = Buffer.from('{"resourceType":"Encounter","id":"e1","subject":{"display":"Canary Zebulon"}}');

function code(f: () => unknown): string | undefined {
  try {
    f();
    return undefined;
  } catch (e) {
    return (e as { code?: string }).code;
  }
}

describe('envelope cipher (AES-256-GCM bound to table, row, field, subject, key version)', () => {
  it('round-trips and never contains the plaintext', () => {
    const sealed = sealField(key, plain, at);
    expect(openField(key, sealed, at).equals(plain)).toBe(true);
    expect(sealed.includes(Buffer.from('Canary Zebulon'))).toBe(false);
    expect(sealed.length).toBe(plain.length + 1 + 12 + 16);
  });

  it('a fresh nonce per seal: the same value never encrypts the same way twice', () => {
    expect(sealField(key, plain, at).equals(sealField(key, plain, at))).toBe(false);
  });

  it.each([
    ['another row', { row: 'Encounter/e2' }],
    ['another field', { field: 'summary' }],
    ['another table', { table: 'other' }],
    ['another patient', { subject: 'patient:p2' }],
    ['another key version', { keyVersion: 2 }],
  ])('a ciphertext moved to %s does not open', (_name, change) => {
    const sealed = sealField(key, plain, at);
    expect(code(() => openField(key, sealed, { ...at, ...change }))).toBe('storage.decrypt_failed');
  });

  it('another key does not open it; neither do edited, truncated or malformed bytes', () => {
    const sealed = sealField(key, plain, at);
    expect(code(() => openField(randomBytes(32), sealed, at))).toBe('storage.decrypt_failed');
    for (let i = 0; i < sealed.length; i += 7) {
      const bad = Buffer.from(sealed);
      bad[i] = (bad[i] ?? 0) ^ 0x01;
      expect(code(() => openField(key, bad, at))).toBe('storage.decrypt_failed');
    }
    expect(code(() => openField(key, sealed.subarray(0, sealed.length - 1), at))).toBe('storage.decrypt_failed');
    expect(code(() => openField(key, Buffer.alloc(10), at))).toBe('storage.decrypt_failed');
  });

  it('bindings encode unambiguously (no two bindings share associated data)', () => {
    const part = fc.string({ maxLength: 6 });
    fc.assert(fc.property(part, part, part, part, part, part, (a, b, c, d, e, f) => {
      const x: CipherBinding = { table: a, row: b, field: c, subject: 'p', keyVersion: 1 };
      const y: CipherBinding = { table: d, row: e, field: f, subject: 'p', keyVersion: 1 };
      const same = a === d && b === e && c === f;
      return associatedDataOf(x).equals(associatedDataOf(y)) === same || [a, b, c, d, e, f].some((s) => s.includes('\u0000'));
    }));
  });
});
