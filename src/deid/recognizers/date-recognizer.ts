import { after, before } from '../text-context.js';
import { patternRecognizer, type PatternVerdict } from './pattern-recognizer.js';

/**
 * 45 CFR 164.514(b)(2)(i)(C): all elements of dates (except year) directly related to an
 * individual. Every format that carries a day or month is flagged: "April 12, 2023",
 * "12 Apr 2023", "4/12/23", "2023-04-12", "12-Apr-2023", partial "3/4", "March 4th",
 * "March 2023", "03/2023". A bare year is kept (Safe Harbor keeps the year), and fractions,
 * ratios and blood pressures are not dates (month/day ranges and the words around are checked).
 */
const MONTH =
  String.raw`(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)`;
const DAY = String.raw`(?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?`;
const YEAR = String.raw`(?:\d{4}|'\d{2})`;

const NOT_AFTER_PARTIAL = /^\s*(?:of\b|tab|cap|strength|dose|teaspoon|tsp|cup|inch|in\b|mm|cm|mg|ml|units?\b|times|x\b|%)/;
const NOT_BEFORE_PARTIAL = /(?:bp|blood pressure|ratio|score|scores|scale|grade|strength|pain|rated|rates|apgar|apgars|motor|power|reflexes|\/)\s*:?\s*$/;

function validMonthDay(month: number, day: number): boolean {
  return month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

function numeric(order: 'mdy' | 'ymd'): (m: RegExpExecArray) => PatternVerdict | undefined {
  return (m) => {
    const parts = m[0].split(/[/.-]/).map(Number);
    const [a = 0, b = 0, c = 0] = parts;
    const ok = order === 'ymd' ? validMonthDay(b, c) : validMonthDay(a, b) || validMonthDay(b, a);
    return ok ? { confidence: 0.9, explanation: { validation: 'passed' } } : undefined;
  };
}

export const dateRecognizer = patternRecognizer('date', [
  {
    // April 12, 2023 · Apr. 12th 2023 · March 4th · Sept 3
    name: 'month_day_year',
    regex: new RegExp(String.raw`\b${MONTH}\.?\s{1,3}${DAY}(?:,?\s{1,3}${YEAR})?(?![\w:])`, 'gi'),
    type: 'DATE',
    confidence: 0.9,
    minDigits: 1,
    validate: (m, text) =>
      // "may 5 mg" is not a date: the lower-case modal verb before a dose.
      /^may\b/.test(m[0]) || /^\s*(?:mg|mcg|ml|units?|tabs?|times)\b/i.test(after(text, m.index + m[0].length, 8))
        ? undefined
        : { confidence: 0.9 },
  },
  {
    // 12 April 2023 · 4th of March · 12-Apr-2023 · 12Apr2023
    name: 'day_month_year',
    regex: new RegExp(String.raw`\b${DAY}(?:\s{1,3}(?:of\s{1,3})?|[-/ ]?)${MONTH}\.?(?:(?:,?\s{1,3}|[-/])${YEAR})?(?![\w])`, 'gi'),
    type: 'DATE',
    confidence: 0.85,
    minDigits: 1,
    validate: (m) => (/^\d+\s*may$/i.test(m[0]) ? undefined : { confidence: 0.85 }),
  },
  {
    // March 2023 · Mar 2023 · March, 2023 · March of 2023
    name: 'month_year',
    regex: new RegExp(String.raw`\b${MONTH}\.?,?\s{1,3}(?:of\s{1,3})?(?:19|20)\d{2}\b`, 'gi'),
    type: 'DATE',
    confidence: 0.8,
    minDigitRun: 4,
    validate: (m) => (/^may\b/.test(m[0]) ? undefined : { confidence: 0.8 }),
  },
  {
    name: 'numeric_mdy',
    regex: /(?<![\w/.-])\d{1,2}([/.-])\d{1,2}\1(?:\d{4}|\d{2})(?![\w/-]|\.\d)/g,
    type: 'DATE',
    confidence: 0.9,
    minDigits: 4,
    validate: numeric('mdy'),
  },
  {
    name: 'numeric_ymd',
    regex: /(?<![\w/.-])(?:19|20)\d{2}([/.-])\d{1,2}\1\d{1,2}(?![\w/-]|\.\d)/g,
    type: 'DATE',
    confidence: 0.9,
    minDigits: 6,
    minDigitRun: 4,
    validate: numeric('ymd'),
  },
  {
    // 03/2023 · 3/23 is ambiguous with a partial date; handled below.
    name: 'numeric_month_year',
    regex: /(?<![\w/.-])(?:0?[1-9]|1[0-2])[/-](?:19|20)\d{2}(?![\w/-])/g,
    type: 'DATE',
    confidence: 0.8,
    minDigits: 5,
    minDigitRun: 4,
  },
  {
    // 3/4 · 12/25: only a plausible month/day, and not a fraction, dose, ratio or BP.
    name: 'numeric_partial',
    regex: /(?<![\w/.-])\d{1,2}\/\d{1,2}(?![\w/-]|\.\d)/g,
    type: 'DATE',
    confidence: 0.6,
    requiredChars: '/',
    minDigits: 2,
    validate: (m, text) => {
      const [a = 0, b = 0] = m[0].split('/').map(Number);
      if (!validMonthDay(a, b)) return undefined;
      if (NOT_AFTER_PARTIAL.test(after(text, m.index + m[0].length, 16))) return undefined;
      if (NOT_BEFORE_PARTIAL.test(before(text, m.index, 20))) return undefined;
      return { confidence: 0.6, explanation: { validation: 'passed' } };
    },
  },
  {
    // "in March", "since August", "early June": a month alone still is a date element. "May"
    // alone is left out (the modal verb), as is a lower-case month.
    name: 'month_alone_with_context',
    regex: /\b(?:in|since|during|on|of|early|late|mid|until|through|before|after|by|last|next|this)(?:\s{1,3}|-)(?:January|February|March|April|June|July|August|September|October|November|December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\.?(?![\w])/g,
    type: 'DATE',
    confidence: 0.6,
    validate: (m) => ({ confidence: 0.6, relStart: m[0].search(/[A-Z]/) }),
  },
  {
    name: 'holiday',
    regex: /\b(?:Christmas(?: Day| Eve)?|Thanksgiving(?: Day)?|New Year's (?:Day|Eve)|Independence Day|Easter(?: Sunday)?|Halloween|Valentine's Day|Memorial Day|Labor Day)\b/g,
    type: 'DATE',
    confidence: 0.6,
  },
]);
