import { checksumOrLabel } from './checksum-or-label.js';
import { patternRecognizer } from './pattern-recognizer.js';

/**
 * DEA registration number: two letters (registrant type, then the registrant's last-name initial
 * or 9) and seven digits; the last digit is the last digit of (d1+d3+d5) + 2*(d2+d4+d6).
 */
export function isValidDea(dea: string): boolean {
  const m = /^[ABCDEFGHJKLMPRSTUX][A-Z9](\d{7})$/.exec(dea.toUpperCase());
  const digits = m?.[1];
  if (digits === undefined) return false;
  const d = [...digits].map(Number) as [number, number, number, number, number, number, number];
  return (d[0] + d[2] + d[4] + 2 * (d[1] + d[3] + d[5])) % 10 === d[6];
}

/** DEA numbers are certificate/licence numbers: 45 CFR 164.514(b)(2)(i)(K). */
export const deaRecognizer = patternRecognizer('dea', [
  {
    name: 'dea',
    regex: /(?<![\w-])[A-Za-z][A-Za-z9]\d{7}(?![\w-])/g,
    type: 'LICENSE',
    confidence: 0.85,
    wordRunLength: 9,
    minDigitRun: 7,
    validate: checksumOrLabel(isValidDea, /\bdea\b/, { both: 0.95, checksum: 0.9, label: 0.75 }),
  },
]);
