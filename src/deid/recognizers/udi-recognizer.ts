import { patternRecognizer } from './pattern-recognizer.js';

/**
 * 45 CFR 164.514(b)(2)(i)(M) device identifiers: FDA Unique Device Identifiers in GS1 form
 * ("(01)00643169007222(17)160128(21)SN123") and HIBCC form ("+H123PROD1/$$LOT5/S123"), and the
 * hardware (MAC) address of a device ("00:1B:44:11:3A:B7": a home monitor, a pump, a phone).
 */
export const udiRecognizer = patternRecognizer('udi', [
  {
    name: 'udi_gs1',
    regex: /\(01\)\d{14}(?:\((?:10|11|17|21|240|7003)\)[A-Za-z0-9-]{1,20}){0,5}/g,
    type: 'DEVICE',
    confidence: 0.95,
    minDigitRun: 14,
    prefilter: (text) => text.includes('(01)'),
  },
  {
    name: 'udi_hibcc',
    regex: /(?<![\w+])\+[A-Z]\d{3}[A-Z0-9]{1,18}(?:\/[$+%A-Z0-9]{1,30}){0,4}(?![\w/])/g,
    type: 'DEVICE',
    confidence: 0.85,
    requiredChars: '+',
    minDigitRun: 3,
  },
  {
    // Six hex pairs with one separator. With "-" a hex letter is required, so a list of numbers
    // ("10-12-14-16-18-20") is not read as an address; a time has at most three ":" groups.
    name: 'mac_address',
    regex: /(?<![\w:.-])[0-9A-Fa-f]{2}([:-])[0-9A-Fa-f]{2}(?:\1[0-9A-Fa-f]{2}){4}(?![\w:-]|\.\w)/g,
    type: 'DEVICE',
    confidence: 0.85,
    gate: (f) => f.colons >= 5 || f.hyphens >= 5,
    validate: (m) => (m[1] === ':' || /[A-Fa-f]/.test(m[0]) ? { confidence: 0.85 } : undefined),
  },
]);
