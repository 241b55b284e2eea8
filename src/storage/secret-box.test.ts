import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SecretBox, sealedAt } from './secret-box.js';

const keys = () => ({ activeId: 'kek-1', keys: new Map([['kek-1', randomBytes(32)]]) });

describe('SecretBox', () => {
  it('opens what it sealed, with a fresh nonce each time and no plaintext in the sealed form', () => {
    const box = new SecretBox(keys());
    const at = sealedAt('totp_credential', 'secret_box', 'usr_1');
    const a = box.seal('JBSWY3DPEHPK3PXP canary', at);
    const b = box.seal('JBSWY3DPEHPK3PXP canary', at);
    expect(a).not.toBe(b);
    expect(a).not.toContain('canary');
    expect(a).toMatch(/^sb1\.kek-1\./);
    expect(box.open(a, at)).toBe('JBSWY3DPEHPK3PXP canary');
  });

  it('refuses a value moved to another row or column, edited, or sealed under another key', () => {
    const k = keys();
    const box = new SecretBox(k);
    const sealed = box.seal('secret', sealedAt('break_glass', 'reason_box', 'bg_1'));
    expect(() => box.open(sealed, sealedAt('break_glass', 'reason_box', 'bg_2'))).toThrow(expect.objectContaining({ code: 'storage.unseal_failed' }));
    expect(() => box.open(sealed, sealedAt('break_glass', 'review_note_box', 'bg_1'))).toThrow(expect.objectContaining({ code: 'storage.unseal_failed' }));
    const parts = sealed.split('.');
    const body = Buffer.from(parts[3]!, 'base64url');
    body[0] = body[0]! ^ 1;
    const edited = [...parts.slice(0, 3), body.toString('base64url')].join('.');
    expect(() => box.open(edited, sealedAt('break_glass', 'reason_box', 'bg_1'))).toThrow(expect.objectContaining({ code: 'storage.unseal_failed' }));
    const other = new SecretBox(keys());
    expect(() => other.open(sealed, sealedAt('break_glass', 'reason_box', 'bg_1'))).toThrow(expect.objectContaining({ code: 'storage.unseal_failed' }));
    for (const junk of ['', 'sb1', 'sb1.kek-1.x.y', 'sb2.kek-1.AAAA.BBBB', `${sealed}.extra`]) {
      expect(() => box.open(junk, 'x')).toThrow(expect.objectContaining({ code: 'storage.unseal_failed' }));
    }
  });

  it('keyed hashes: stable per key and purpose, different across purposes and installations', () => {
    const k = keys();
    const box = new SecretBox(k);
    expect(box.keyedHash('login-throttle', 'ana')).toBe(new SecretBox(k).keyedHash('login-throttle', 'ana'));
    expect(box.keyedHash('login-throttle', 'ana')).toMatch(/^[0-9a-f]{64}$/);
    expect(box.keyedHash('login-throttle', 'ana')).not.toBe(box.keyedHash('blind-index', 'ana'));
    expect(box.keyedHash('login-throttle', 'ana')).not.toBe(new SecretBox(keys()).keyedHash('login-throttle', 'ana'));
  });
});

describe('keyed hashes across key rotation', () => {
  it('stay the same when a newer key becomes active (lockout counters must not reset)', () => {
    const first = randomBytes(32);
    const before = new SecretBox({ activeId: 'kek-1', keys: new Map([['kek-1', first]]) });
    const after = new SecretBox({ activeId: 'kek-2', keys: new Map([['kek-1', first], ['kek-2', randomBytes(32)]]) });
    expect(after.keyedHash('login-throttle', 'alice')).toBe(before.keyedHash('login-throttle', 'alice'));
    // Sealing moves to the active key; values sealed before still open.
    const sealed = before.seal('totp-seed', 'totp_credential/secret_box/acct_1');
    expect(after.open(sealed, 'totp_credential/secret_box/acct_1')).toBe('totp-seed');
    expect(after.seal('x', 'a/b/c').split('.')[1]).toBe('kek-2');
  });
});
