import type { DeidDictionaries } from '../dictionaries.js';
import type { Operator } from './operator.js';
import { yearOf } from './date-shift.js';

/**
 * Safe Harbor generalizations, 45 CFR 164.514(b)(2)(i):
 *  (B) a ZIP code becomes its first three digits, or "000" when the ZIP-3 area holds 20,000
 *      people or fewer (or has no Census population at all);
 *  (C) an age over 89 becomes "90+"; a date becomes its year (a date without a year is removed).
 * Everything else is redacted to its type.
 */
const ZIP = /^(\d{3})\d{2}(?:-\d{4})?$/;

export function generalizeZip(zip: string, dictionaries: DeidDictionaries): string | undefined {
  const m = ZIP.exec(zip.trim());
  const zip3 = m?.[1];
  if (zip3 === undefined) return undefined;
  const population = dictionaries.zip3Population.get(zip3);
  const restricted = dictionaries.restrictedZip3.has(zip3) || population === undefined || population <= 20_000;
  return restricted ? '000' : zip3;
}

export function generalizeOperator(dictionaries: DeidDictionaries): Operator {
  return {
    name: 'generalize',
    replace: ({ original, detection }) => {
      switch (detection.type) {
        case 'LOCATION':
          return generalizeZip(original, dictionaries) ?? '[LOCATION]';
        case 'AGE':
          return '90+';
        case 'DATE': {
          const year = yearOf(original);
          return year === undefined ? '[DATE]' : String(year);
        }
        default:
          return `[${detection.type}]`;
      }
    },
  };
}
