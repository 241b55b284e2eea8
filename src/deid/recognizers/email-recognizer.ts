import { patternRecognizer } from './pattern-recognizer.js';

/**
 * 45 CFR 164.514(b)(2)(i)(F) electronic mail addresses. Quantifiers are bounded (RFC 5321 sizes)
 * and the local part may only start where no local-part character precedes it, so a long run
 * without "@" is scanned once.
 */
export const emailRecognizer = patternRecognizer('email', [
  {
    name: 'email_address',
    regex: /(?<![\w.%+-])[\w.%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){0,8}\.[A-Za-z]{2,24}(?![\w-])/g,
    type: 'EMAIL',
    confidence: 0.95,
    requiredChars: '@.',
  },
]);
