import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { analyze } from '../analyzer.js';
import { anonymize } from '../anonymize.js';
import type { Detection } from '../detection.js';
import { SYNTHETIC_NOTES } from '../fixtures/synthetic-notes.js';
import { testDictionaries } from '../testing/detect-text.js';
import { dateShiftDays, shiftDate } from './date-shift.js';
import { generalizeOperator, generalizeZip } from './generalize-operator.js';
import { parseDate } from './parsed-date.js';
import { placeholderOperator } from './placeholder-operator.js';
import { pseudonym, pseudonymOperator } from './pseudonym-operator.js';
import { redactOperator } from './redact-operator.js';
import { surrogateOperator } from './surrogate-operator.js';

const KEY = new Uint8Array(32).fill(42);
const OTHER_KEY = new Uint8Array(32).fill(43);
/** A fixed reference year: the engine reads no clock, so tests pin it. */
const YEAR = 2026;
const d = testDictionaries();
const run = (text: string, op: Parameters<typeof anonymize>[2]): string => anonymize(text, analyze(text, d), op).text;

describe('redact and placeholder', () => {
  it('redacts to the type', () => {
    expect(run('Pt John Smith seen 3/4/2023', redactOperator)).toBe('Pt [NAME] seen [DATE]');
  });
  it('numbers placeholders consistently within a document', () => {
    const out = run('Dr. Hope Whitaker saw Mr. Jones. Dr. Hope Whitaker will call Mr. Jones on 3/4/2023.', placeholderOperator);
    expect(out).toBe('[NAME-1] saw [NAME-2]. [NAME-1] will call [NAME-2] on [DATE-1].');
  });
  it('refuses spans that overlap or leave the text', () => {
    const span = (start: number, end: number): Detection => ({ start, end, type: 'NAME', confidence: 1, recognizer: 't', explanation: { pattern: 't' } });
    expect(() => anonymize('abcdef', [span(0, 3), span(2, 4)], redactOperator)).toThrow(/sorted/);
    expect(() => anonymize('abc', [span(1, 9)], redactOperator)).toThrow();
  });
});

describe('generalize (164.514(b)(2)(i)(B),(C))', () => {
  it.each([
    ['02139', '021'],
    ['02139-4307', '021'],
    ['03601', '000'], // 036 is a restricted ZIP-3 (population <= 20,000)
    ['82301', '000'], // 823
    ['09001', '000'], // military: no Census population at all
  ])('ZIP %s -> %s', (zip, want) => expect(generalizeZip(zip, d)).toBe(want));
  it('turns ages over 89 into 90+ and dates into years', () => {
    expect(run('a 92-year-old seen April 12, 2023 and on 3/4, lives in Boston, MA 02139', generalizeOperator(d, { referenceYear: YEAR }))).toBe(
      'a 90+-year-old seen 2023 and on [DATE], lives in [LOCATION] 021',
    );
  });
  it.each([
    ['DOB 03/04/1931 (age 93)', 2024, 'DOB [DATE] (age [AGE])'],
    ['born March 4, 1934', 2024, 'born [DATE]'], // 90 years before: may be age 90
    ['born March 4, 1935', 2024, 'born 1935'], // 89 years before: age 88 or 89, kept
    ['seen 3/4/2023', 2024, 'seen 2023'],
  ])('%s (reference %d) -> %s', (text, referenceYear, want) => {
    const out = run(text, generalizeOperator(d, { referenceYear }));
    expect(out.replace('90+', '[AGE]')).toBe(want);
  });
  it('without a reference date, measures from the current UTC year', () => {
    expect(run('DOB 03/04/1931', generalizeOperator(d, { referenceYear: YEAR }))).toBe('DOB [DATE]');
    expect(run(`seen 3/4/${YEAR - 1}`, generalizeOperator(d, { referenceYear: YEAR }))).toBe(`seen ${YEAR - 1}`);
  });
  it.each([
    ['DOB 3/4/31', 'DOB [DATE]'], // 1931, over 89 years ago: never "2031"
    ['DOB: 3/4/45', 'DOB: 1945'],
    ['date of birth 04/17/49', 'date of birth 1949'],
    ['born on 3/4/20', 'born on 2020'], // 2020 is not after the reference year: kept
    ['D.O.B. 14MAR31', 'D.O.B. [DATE]'],
    ['f/u 3/4/31', 'f/u 2031'], // no birth cue: a 2-digit year keeps its default century
    ['seen 3/4/24', 'seen 2024'],
  ])('2-digit years after a birth cue are the past century: %s -> %s', (text, want) =>
    expect(run(text, generalizeOperator(d, { referenceYear: YEAR }))).toBe(want),
  );
});

describe('surrogate dates that may reveal an age over 89 (164.514(b)(2)(i)(C))', () => {
  const op = (referenceYear?: number): ReturnType<typeof surrogateOperator> =>
    surrogateOperator({ key: KEY, patientId: 'p-1', dictionaries: d, referenceYear: referenceYear ?? YEAR });
  it.each([
    ['DOB 03/04/1931', 2024],
    ['born March 4, 1934', 2024],
    ['DOB 1931-03-04', undefined],
    ['DOB 3/4/31', undefined],
  ])('%s (reference %s) becomes [DATE]', (text, referenceYear) => {
    expect(run(text, op(referenceYear))).toMatch(/^\w+ \[DATE\]$/);
  });
  it('a recent date is still shifted, not removed', () => {
    const out = run('seen 3/4/2023', op(2024));
    expect(out).toMatch(/^seen \d{1,2}\/\d{1,2}\/20\d\d$/);
    expect(out).not.toBe('seen 3/4/2023');
  });
});

describe('dates: parse, shift, keep the style', () => {
  it.each([
    ['04/17/1931', 10, '04/27/1931'],
    ['2023-03-11', -11, '2023-02-28'],
    ['March 3rd, 2023', 30, 'April 2nd, 2023'],
    ['12-Apr-2024', 1, '13-Apr-2024'],
    ['Feb 27', 2, 'Feb 29'], // a date without a year is shifted within a leap year
    ['3/2', 1, '3/3'],
    ['March 2021', 31, 'April 2021'],
    // Month-granular dates move by whole months (at least one), never stay put.
    ['March 2024', 10, 'April 2024'],
    ['March 2024', -10, 'February 2024'],
    ['January 2024', -200, 'June 2023'],
    ['03/2024', 5, '04/2024'],
    ['December 2023', 1, 'January 2024'],
    ['March', 364, 'February'], // eleven months at most: twelve would give March back
  ])('%s shifted %d days is %s', (text, days, want) => expect(shiftDate(text, days)).toBe(want));
  it('returns undefined for text that is not a date', () => expect(shiftDate('tomorrow', 3)).toBeUndefined());
  it('parses partial dates without inventing a year', () => expect(parseDate('March 4th')?.year).toBeUndefined());
});

describe('per-patient consistency (property)', () => {
  it('the date shift is a non-zero offset under a year, stable per patient and key', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 20 }), (patient) => {
        const days = dateShiftDays(KEY, patient);
        expect(days).toBe(dateShiftDays(KEY, patient));
        expect(Math.abs(days)).toBeGreaterThanOrEqual(1);
        expect(Math.abs(days)).toBeLessThanOrEqual(364); // never a whole year
      }),
    );
  });

  const MONTH_NAMES = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
  const dateText = fc
    .record({ y: fc.integer({ min: 1950, max: 2049 }), m: fc.integer({ min: 1, max: 12 }), d: fc.integer({ min: 1, max: 28 }), style: fc.integer({ min: 0, max: 8 }) })
    .map(({ y, m, d: day, style }) => {
      const mm = String(m).padStart(2, '0');
      const name = MONTH_NAMES[m - 1] ?? 'March';
      return [
        `${y}-${mm}-${String(day).padStart(2, '0')}`,
        `${m}/${day}/${y}`,
        `${m}/${day}`,
        `${name} ${y}`,
        `${name.slice(0, 3)} ${day}, ${y}`,
        `${mm}/${y}`,
        name,
        `${day} ${name} ${y}`,
        `${name} ${day}`,
      ][style] ?? name;
    });

  it('a shifted date never equals the original, for any patient key (property)', () => {
    fc.assert(
      fc.property(dateText, fc.string({ maxLength: 16 }), (text, patient) => {
        const out = shiftDate(text, dateShiftDays(KEY, patient));
        expect(out).toBeDefined();
        expect(out).not.toBe(text);
      }),
      { numRuns: 500 },
    );
  });

  it('a shifted date never equals the original, for any allowed shift (property)', () => {
    fc.assert(
      fc.property(dateText, fc.integer({ min: 1, max: 364 }), fc.boolean(), (text, days, back) => {
        expect(shiftDate(text, back ? -days : days)).not.toBe(text);
      }),
      { numRuns: 1000 },
    );
  });

  it('date shifting keeps the interval between two dates of one patient', () => {
    const day = 86_400_000;
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 20_000 }), fc.integer({ min: 0, max: 400 }), fc.string({ maxLength: 12 }), (base, gap, patient) => {
        const iso = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
        const a = Date.UTC(1970, 0, 1) + base * day;
        const shift = dateShiftDays(KEY, patient);
        const sa = shiftDate(iso(a), shift);
        const sb = shiftDate(iso(a + gap * day), shift);
        expect(sa).toBeDefined();
        expect((Date.parse(sb ?? '') - Date.parse(sa ?? '')) / day).toBe(gap);
      }),
    );
  });

  it('surrogates are the same for the same patient and original, in any document', () => {
    fc.assert(
      fc.property(fc.constantFrom(...SYNTHETIC_NOTES), fc.string({ minLength: 1, maxLength: 10 }), (note, patient) => {
        const op = (): ReturnType<typeof surrogateOperator> => surrogateOperator({ key: KEY, patientId: patient, dictionaries: d, referenceYear: YEAR });
        expect(run(note.text, op())).toBe(run(note.text, op()));
      }),
      { numRuns: 20 },
    );
  });

  it('a name word maps to the same surrogate wherever it appears for one patient, differently for another', () => {
    const op = surrogateOperator({ key: KEY, patientId: 'p-1', dictionaries: d, referenceYear: YEAR });
    const a = run('Seen by Dr. Priya Raman today.', op);
    const b = run('Dear Dr. Raman,', op);
    const surname = /Dr\. \w+ (\w+)/.exec(a)?.[1];
    expect(surname).toBeDefined();
    expect(b).toBe(`Dear Dr. ${surname ?? ''},`);
    const other = run('Seen by Dr. Priya Raman today.', surrogateOperator({ key: KEY, patientId: 'p-2', dictionaries: d, referenceYear: YEAR }));
    const otherKey = run('Seen by Dr. Priya Raman today.', surrogateOperator({ key: OTHER_KEY, patientId: 'p-1', dictionaries: d, referenceYear: YEAR }));
    expect(new Set([a, other, otherKey]).size).toBe(3);
  });

  it('surrogate SSNs are never valid SSNs and contact details use reserved ranges', () => {
    const out = run('SSN 512-44-8830, email c.ruiz47@example.com, IP 10.24.180.7', surrogateOperator({ key: KEY, patientId: 'p', dictionaries: d, referenceYear: YEAR }));
    expect(out).toMatch(/SSN 9\d\d-\d\d-\d{4}/);
    expect(out).toMatch(/@example\.org/);
    expect(out).toMatch(/192\.0\.2\.\d+/);
  });
});

describe('the output never contains a detected span', () => {
  const operators = {
    redact: () => redactOperator,
    placeholder: () => placeholderOperator,
    generalize: () => generalizeOperator(d, { referenceYear: YEAR }),
    surrogate: () => surrogateOperator({ key: KEY, patientId: 'p', dictionaries: d, referenceYear: YEAR }),
    pseudonym: () => pseudonymOperator({ key: KEY }),
  };
  it.each(Object.entries(operators))('%s', (_name, make) => {
    fc.assert(
      fc.property(fc.constantFrom(...SYNTHETIC_NOTES), (note) => {
        const detections = analyze(note.text, d);
        const out = anonymize(note.text, detections, make()).text;
        for (const det of detections) {
          const original = note.text.slice(det.start, det.end);
          // Short fragments ("Apt 4B" digits, a one-letter initial) can occur by chance elsewhere.
          if (original.replace(/\W/g, '').length >= 4) expect(out).not.toContain(original);
        }
      }),
      { numRuns: 12 },
    );
  });
});

describe('keyed pseudonyms', () => {
  it('are deterministic per key, type and value, and case/space-insensitive', () => {
    expect(pseudonym(KEY, 'NAME', 'John  Smith')).toBe(pseudonym(KEY, 'NAME', 'john smith'));
    expect(pseudonym(KEY, 'NAME', 'John Smith')).not.toBe(pseudonym(OTHER_KEY, 'NAME', 'John Smith'));
    expect(pseudonym(KEY, 'NAME', 'John Smith')).toMatch(/^NAME-[0-9a-f]{10}$/);
  });
  it('report each mapping for the vault', () => {
    const seen: string[] = [];
    run('MRN 00482113', pseudonymOperator({ key: KEY, onPseudonym: (p, type) => seen.push(`${type}:${p}`) }));
    expect(seen).toEqual([`MRN:${pseudonym(KEY, 'MRN', '00482113')}`]);
  });
  it('refuse a short key', () => expect(() => pseudonym(new Uint8Array(8), 'NAME', 'x')).toThrow(/32 bytes/));
});
