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
    name: 'ssn_masked',
    regex: /(?<![\w-])(?:[Xx*#]{3}[- ]?[Xx*#]{2}[- ]?|\*{3,5}[- ]?)\d{4}(?![\w-])/g,
    type: 'SSN',
    confidence: 0.8,
    minDigitRun: 4,
  },
]);
