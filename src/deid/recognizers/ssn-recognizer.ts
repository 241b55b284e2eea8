import { before } from '../text-context.js';
import { patternRecognizer } from './pattern-recognizer.js';

const SSN_CONTEXT = /ssn|social security|soc sec|ss#|ss #|\bss\b/;

/**
 * SSA never issues area 000, 666 or 900-999, group 00 or serial 0000
 * (https://www.ssa.gov/employer/randomization.html), so those are not SSNs.
 */
export function isValidSsn(digits: string): boolean {
  if (!/^\d{9}$/.test(digits)) return false;
  const area = digits.slice(0, 3);
  return area !== '000' && area !== '666' && !area.startsWith('9') && digits.slice(3, 5) !== '00' && digits.slice(5) !== '0000';
}

/**
 * 45 CFR 164.514(b)(2)(i)(G) social security numbers: 3-2-4 with dashes or spaces, or nine bare
 * digits after an SSN context word, range-validated; masked forms ("XXX-XX-1234") still carry the
 * last four digits, an identifier in their own right.
 */
const SSN_WORD = String.raw`(?:ssn|social security(?:\s{1,2}(?:number|no\.?|#))?|soc\.?\s?sec\.?|ss\s?#)`;
const LAST_FOUR = String.raw`(?:last|final)\s{1,2}(?:4|four)(?:\s{1,2}digits)?`;
/** "SSN last 4: 6789", "last four of SSN 6789", "last 4 digits of her social security number is 6789". */
const SSN_LAST_FOUR_BEFORE = new RegExp(
  String.raw`(?:${SSN_WORD}\s{0,2}[:#(-]?\s{0,2}(?:\(\s?)?${LAST_FOUR}|${LAST_FOUR}\s{1,2}of\s{1,2}(?:(?:the|his|her|their|pt'?s|patient'?s)\s{1,2})?${SSN_WORD})\s{0,2}\)?\s{0,2}(?:[:#=-]|is|was)?\s{0,3}$`,
);

export const ssnRecognizer = patternRecognizer('ssn', [
  {
    name: 'ssn_separated',
    regex: /(?<![\w-])\d{3}([- ])\d{2}\1\d{4}(?![\w-])/g,
    type: 'SSN',
    confidence: 0.85,
    minDigits: 9,
    minDigitRun: 4,
    validate: (m, text) => {
      const valid = isValidSsn(m[0].replace(/\D/g, ''));
      const context = SSN_CONTEXT.test(before(text, m.index, 24));
      if (valid) return { confidence: context ? 0.98 : 0.85, explanation: { validation: 'passed' } };
      // An impossible SSN in a 3-2-4 shape is still some identifier; keep it, typed as such.
      return { type: 'OTHER_ID', confidence: context ? 0.7 : 0.5, explanation: { validation: 'failed' } };
    },
  },
  {
    name: 'ssn_bare_with_context',
    regex: /(?<![\w-])\d{9}(?![\w-])/g,
    type: 'SSN',
    confidence: 0.9,
    minDigitRun: 9,
    validate: (m, text) =>
      SSN_CONTEXT.test(before(text, m.index, 24))
        ? { confidence: 0.9, explanation: { validation: isValidSsn(m[0]) ? 'passed' : 'failed' } }
        : undefined,
  },
  {
    // The last four digits alone, named as such: still part of the SSN (G).
    name: 'ssn_last_four',
    regex: /(?<![\w-])\d{4}(?![\w]|[-./]\d)/g,
    type: 'SSN',
    confidence: 0.85,
    minDigitRun: 4,
    validate: (m, text) =>
      SSN_LAST_FOUR_BEFORE.test(before(text, m.index, 48)) ? { confidence: 0.85, explanation: { contextWord: 'last four' } } : undefined,
  },
  {
    name: 'ssn_masked',
    regex: /(?<![\w-])(?:[Xx*#]{3}[- ]?[Xx*#]{2}[- ]?|\*{3,5}[- ]?)\d{4}(?![\w-])/g,
    type: 'SSN',
    confidence: 0.8,
    minDigitRun: 4,
  },
]);
