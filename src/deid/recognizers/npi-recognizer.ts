import { luhnValid } from '../luhn.js';
import { checksumOrLabel } from './checksum-or-label.js';
import { patternRecognizer } from './pattern-recognizer.js';

/**
 * NPI check digit: Luhn over the ISO 7812 card-issuer prefix 80840 plus the first nine digits
 * (CMS, "Requirements for the NPI check digit"). NPIs start with 1 or 2.
 */
export function isValidNpi(npi: string): boolean {
  return /^[12]\d{9}$/.test(npi) && luhnValid(`80840${npi}`);
}

/**
 * National Provider Identifiers: a provider's, not the patient's, but a unique number that with
 * the note can identify the encounter: flagged under 164.514(b)(2)(i)(R). Bare 10-digit runs are
 * also phone-shaped, so an NPI without the "NPI" context word must pass the check digit.
 */
export const npiRecognizer = patternRecognizer('npi', [
  {
    name: 'npi',
    regex: /(?<![\w-])[12]\d{9}(?![\w-])/g,
    type: 'OTHER_ID',
    confidence: 0.6,
    wordRunLength: 10,
    minDigitRun: 10,
    validate: checksumOrLabel(isValidNpi, /\bnpi\b/, { both: 0.98, checksum: 0.6, label: 0.8 }),
  },
]);
