/** TOTP against the RFC 6238 appendix B vectors, the ±1 step drift window and the code shape. */
import { describe, expect, it } from 'vitest';
import { Secret } from 'otpauth';
import { matchTotpStep, newTotpSecret, totpStepAt, totpUri } from './totp.js';
import { totpCodeAt } from './testing/totp-helper.js';

// RFC 6238 appendix B: the SHA-1 seed is the ASCII string "12345678901234567890".
const RFC_SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';

describe('totp', () => {
  it('matches the RFC 6238 SHA-1 vectors (last six digits) at their time step', () => {
    const vectors: [number, string][] = [[59, '287082'], [1_111_111_109, '081804'], [1_234_567_890, '005924'], [2_000_000_000, '279037']];
    for (const [seconds, code] of vectors) {
      const at = new Date(seconds * 1000);
      expect(totpCodeAt(RFC_SECRET, at)).toBe(code);
      expect(matchTotpStep(RFC_SECRET, code, at)).toBe(Math.floor(seconds / 30));
    }
  });

  it('accepts the previous and next step (small drift) and reports which step matched', () => {
    const now = new Date('2026-03-01T09:00:10.000Z');
    const step = totpStepAt(now);
    for (const d of [-1, 0, 1]) {
      const code = totpCodeAt(RFC_SECRET, new Date(now.getTime() + d * 30_000));
      expect(matchTotpStep(RFC_SECRET, code, now)).toBe(step + d);
    }
  });

  it('refuses codes two steps away', () => {
    const now = new Date('2026-03-01T09:00:10.000Z');
    for (const d of [-2, 2]) {
      const code = totpCodeAt(RFC_SECRET, new Date(now.getTime() + d * 30_000));
      // A code of another step may collide by chance (1 in 10^6 per step); these do not.
      expect(matchTotpStep(RFC_SECRET, code, now)).toBeUndefined();
    }
  });

  it('accepts exactly six digits and nothing else', () => {
    const at = new Date(59_000);
    for (const bad of ['28708', '2870820', ' 287082', '287082 ', '28708a', '２８７０８２', '', '94287082']) {
      expect(matchTotpStep(RFC_SECRET, bad, at)).toBeUndefined();
    }
  });

  it('makes 160-bit secrets, different every time', () => {
    const a = newTotpSecret();
    const b = newTotpSecret();
    expect(a).not.toBe(b);
    expect(a).toMatch(/^[A-Z2-7]{32}$/);
    expect(Secret.fromBase32(a).bytes.length).toBe(20);
  });

  it('builds the otpauth URI authenticator apps scan, with issuer Ward', () => {
    const secret = newTotpSecret();
    const uri = new URL(totpUri({ secret, accountName: 'ana' }));
    expect(uri.protocol).toBe('otpauth:');
    expect(uri.host).toBe('totp');
    expect(decodeURIComponent(uri.pathname)).toBe('/Ward:ana');
    expect(Object.fromEntries(uri.searchParams)).toEqual({ issuer: 'Ward', secret, algorithm: 'SHA1', digits: '6', period: '30' });
  });
});
