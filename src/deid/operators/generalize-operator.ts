import type { DeidDictionaries } from '../dictionaries.js';
import type { Operator } from './operator.js';
import { revealsAgeOver89, yearOfDetected } from './date-shift.js';

/**
 * Safe Harbor generalizations, 45 CFR 164.514(b)(2)(i):
 *  (B) a ZIP code becomes its first three digits, or "000" when the ZIP-3 area holds 20,000
 *      people or fewer (or has no Census population at all);
 *  (C) an age over 89 becomes "90+"; a date becomes its year (a date without a year is removed),
 *      except a date more than 89 years before the reference year: its year could reveal an
 *      age over 89 ("DOB 03/04/1931"), so it becomes "[DATE]". A 2-digit year after a birth cue
 *      is a past year ("DOB 3/4/31" is 1931, so "[DATE]", never "2031").
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

export interface GeneralizeOptions {
  /** The year ages are measured from (the note's date, or the current year at the edge). Passed in: the engine reads no clock. */
  readonly referenceYear: number;
}

export function generalizeOperator(dictionaries: DeidDictionaries, options: GeneralizeOptions): Operator {
  const referenceYear = options.referenceYear;
  return {
    name: 'generalize',
    replace: ({ original, detection }) => {
      switch (detection.type) {
        case 'LOCATION':
          return generalizeZip(original, dictionaries) ?? '[LOCATION]';
        case 'AGE':
          return '90+';
        case 'DATE': {
          const year = yearOfDetected(original, detection.explanation.contextWord, referenceYear);
          return year === undefined || revealsAgeOver89(year, referenceYear) ? '[DATE]' : String(year);
        }
        default:
          return `[${detection.type}]`;
      }
    },
  };
}
