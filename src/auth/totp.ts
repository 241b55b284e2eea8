/**
 * Time-based one-time passwords (RFC 6238 over RFC 4226 HOTP) with the parameters every
 * authenticator app supports: HMAC-SHA-1, 6 digits, 30-second steps. Secrets are 160 bits, the
 * HMAC-SHA-1 block-size recommendation of RFC 4226 section 4 (R6).
 *
 * A code is accepted for the current step or one step either side: NIST SP 800-63B 5.1.4.2
 * allows for small clock drift. Which step matched is returned so the caller can refuse a
 * second use of that step or an earlier one (replay).
 */
import { randomBytes } from 'node:crypto';
import { Secret, TOTP } from 'otpauth';

export const TOTP_ISSUER = 'Ward';
export const TOTP_PERIOD_SECONDS = 30;
export const TOTP_DIGITS = 6;
const SECRET_BYTES = 20;
/** Steps either side of the current one that are still accepted (NIST SP 800-63B 5.1.4.2 drift). */
const DRIFT_STEPS = 1;
const CODE_SHAPE = /^[0-9]{6}$/;

function totpFor(secret: string, accountName = 'account'): TOTP {
  return new TOTP({
    issuer: TOTP_ISSUER,
    label: accountName,
    algorithm: 'SHA1',
    digits: TOTP_DIGITS,
    period: TOTP_PERIOD_SECONDS,
    secret: Secret.fromBase32(secret),
  });
}

/** A fresh 160-bit shared secret, base32 (RFC 4648) as authenticator apps expect it. */
export function newTotpSecret(): string {
  // A copy, so the Secret owns exactly the 20 random bytes and not a pooled buffer.
  return new Secret({ buffer: Uint8Array.from(randomBytes(SECRET_BYTES)).buffer }).base32;
}

/** The `otpauth://totp/...` URI an authenticator app scans (issuer "Ward"). */
export function totpUri(input: { secret: string; accountName: string }): string {
  return totpFor(input.secret, input.accountName).toString();
}

/** The RFC 6238 time step (T) that contains `now`. */
export function totpStepAt(now: Date): number {
  return Math.floor(now.getTime() / 1000 / TOTP_PERIOD_SECONDS);
}

/**
 * The time step whose code `code` is (current step ±1), or undefined when it matches none or
 * is not exactly six digits. The comparison is constant-time (otpauth uses timingSafeEqual).
 */
export function matchTotpStep(secret: string, code: string, now: Date): number | undefined {
  if (!CODE_SHAPE.test(code)) return undefined;
  const delta = totpFor(secret).validate({ token: code, timestamp: now.getTime(), window: DRIFT_STEPS });
  return delta === null ? undefined : totpStepAt(now) + delta;
}
