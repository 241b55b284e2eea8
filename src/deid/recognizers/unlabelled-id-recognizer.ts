import { patternRecognizer } from './pattern-recognizer.js';

/**
 * 45 CFR 164.514(b)(2)(i)(R) "any other unique identifying number": identifier-shaped runs with no
 * label. Clinical values are decimals, short integers or number+unit, so these shapes are
 * excluded by construction: an upper-case prefix with at least four digits ("AB4471902"), seven
 * or more bare digits, or dash-grouped digits totalling six or more ("44-2391-77").
 * ICD-10 ("E11.9") and LOINC ("2345-7") codes do not match these shapes.
 */
export const unlabelledIdRecognizer = patternRecognizer('unlabelled_id', [
  {
    name: 'prefixed_number',
    regex: /(?<![\w-])[A-Z]{1,5}-?\d{4,20}[A-Z0-9]{0,10}(?![\w-])/g,
    type: 'OTHER_ID',
    confidence: 0.6,
    minDigitRun: 4,
  },
  {
    name: 'long_number',
    regex: /(?<![\w.,-])\d{7,30}(?![\w-]|[.,]\d)/g,
    type: 'OTHER_ID',
    confidence: 0.55,
    minDigitRun: 7,
  },
  {
    name: 'grouped_number',
    regex: /(?<![\w.-])[A-Z0-9]{2,10}(?:-[A-Z0-9]{1,10}){1,5}(?![\w-])/g,
    type: 'OTHER_ID',
    confidence: 0.5,
    requiredChars: '-',
    minDigits: 6,
    validate: (m) => {
      const digits = (m[0].match(/\d/g) ?? []).length;
      const last = m[0].slice(m[0].lastIndexOf('-') + 1);
      // LOINC "2345-7" and short ranges "10-20" are not identifiers.
      if (digits < 6 || (/^\d+-\d$/.test(m[0]) && last.length === 1)) return undefined;
      return { confidence: 0.5 };
    },
  },
]);
