/** Tests act as the authenticator app: the code a secret shows at a given moment. */
import { Secret, TOTP } from 'otpauth';
import { TOTP_DIGITS, TOTP_PERIOD_SECONDS } from '../totp.js';

export function totpCodeAt(secret: string, date: Date): string {
  return TOTP.generate({ secret: Secret.fromBase32(secret), algorithm: 'SHA1', digits: TOTP_DIGITS, period: TOTP_PERIOD_SECONDS, timestamp: date.getTime() });
}
