import { patternRecognizer } from './pattern-recognizer.js';

/**
 * 45 CFR 164.514(b)(2)(i)(M) device identifiers: FDA Unique Device Identifiers in GS1 form
 * ("(01)00643169007222(17)160128(21)SN123") and HIBCC form ("+H123PROD1/$$LOT5/S123").
 */
export const udiRecognizer = patternRecognizer('udi', [
  {
    name: 'udi_gs1',
    regex: /\(01\)\d{14}(?:\((?:10|11|17|21|240|7003)\)[A-Za-z0-9-]{1,20}){0,5}/g,
    type: 'DEVICE',
    confidence: 0.95,
    prefilter: (text) => text.includes('(01)'),
  },
  {
    name: 'udi_hibcc',
    regex: /(?<![\w+])\+[A-Z]\d{3}[A-Z0-9]{1,18}(?:\/[$+%A-Z0-9]{1,30}){0,4}(?![\w/])/g,
    type: 'DEVICE',
    confidence: 0.85,
    prefilter: (text) => text.includes('+'),
  },
]);
