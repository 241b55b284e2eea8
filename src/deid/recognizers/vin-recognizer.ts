import { checksumOrLabel } from './checksum-or-label.js';
import { patternRecognizer } from './pattern-recognizer.js';

const TRANSLITERATION: Record<string, number> = {
  A: 1, B: 2, C: 3, D: 4, E: 5, F: 6, G: 7, H: 8, J: 1, K: 2, L: 3, M: 4, N: 5, P: 7, R: 9,
  S: 2, T: 3, U: 4, V: 5, W: 6, X: 7, Y: 8, Z: 9,
};
const WEIGHTS = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2];

/** 49 CFR 565.15 check digit (position 9) of a 17-character VIN; I, O and Q never occur. */
export function isValidVin(vin: string): boolean {
  const v = vin.toUpperCase();
  if (!/^[A-HJ-NPR-Z0-9]{17}$/.test(v)) return false;
  let sum = 0;
  for (let i = 0; i < 17; i += 1) {
    const c = v.charAt(i);
    const value = /\d/.test(c) ? Number(c) : (TRANSLITERATION[c] ?? 0);
    sum += value * (WEIGHTS[i] ?? 0);
  }
  const check = sum % 11;
  return v.charAt(8) === (check === 10 ? 'X' : String(check));
}

const vinCheck = checksumOrLabel(isValidVin, /\bvin\b|vehicle/, { both: 0.97, checksum: 0.92, label: 0.75 });

/** 45 CFR 164.514(b)(2)(i)(L) vehicle identifiers: VINs by check digit, or by the "VIN" label. */
export const vinRecognizer = patternRecognizer('vin', [
  {
    name: 'vin',
    regex: /(?<![\w-])[A-HJ-NPR-Za-hj-npr-z0-9]{17}(?![\w-])/g,
    type: 'VEHICLE',
    confidence: 0.9,
    wordRunLength: 17,
    minDigits: 1,
    // A VIN mixes letters and digits; then the check digit or a "VIN" label decides.
    validate: (m, text) => (/\d/.test(m[0]) && /[A-Za-z]/.test(m[0]) ? vinCheck(m, text) : undefined),
  },
]);
