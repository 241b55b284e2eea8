import { detection } from '../detection.js';
import type { Recognizer } from '../recognizer.js';
import { after, before } from '../text-context.js';
import { patternRecognizer, type PatternVerdict } from './pattern-recognizer.js';

/** A digit with an ordinal ending ("14th"): the cheap precondition of the ordinal patterns. */
const ORDINAL = /\d(?:st|nd|rd|th)\b/i;
const hasOrdinal = (text: string): boolean => ORDINAL.test(text);
/** Preconditions of the compact ("14MAR2024") and hyphenated ("Mar-14") patterns: cheap scans. */
const DIGIT_THEN_MONTH = /\d-?(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)/i;
const LETTER_HYPHEN_DIGIT = /[A-Za-z]-\d/;

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

/** A noun after "on the 3rd" makes the ordinal a count, not a day of the month. */
const ORDINAL_NOUN =
  /^[\s-]{1,3}(?:floor|level|day|night|dose|attempt|try|time|visit|cycle|week|month|year|round|session|injection|infusion|fraction|trimester|percentile|rib|intercostal|cranial|nerve|toe|finger|digit|metatarsal|metacarpal|vertebra|lumbar|thoracic|cervical|line|grade|hour|minute|post|pod|postoperative|postop|street|st\b|avenue|ave\b|birthday|place|position|step|stage|degree|generation|dorsal|interspace|space|sacral|ventricle|episode|occasion|admission|pregnancy|child|bed|room|wing|ward|trial|course|pass|cup|bottle|of\s+(?:the|these|those|them|its|his|her|their)\b)/;

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

const datePatterns = patternRecognizer('date', [
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
    // Lab/pharmacy style: 14MAR2024 · 14-MAR-2024 · 14Mar24. A three-letter month between a
    // day and a 2- or 4-digit year, with the same separator (none or "-") on both sides.
    name: 'compact_day_month_year',
    regex: /\b(?:[12]\d|3[01]|0?[1-9])(-?)(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\1(?:\d{4}|\d{2})(?![\w])/gi,
    prefilter: (text) => DIGIT_THEN_MONTH.test(text),
    type: 'DATE',
    confidence: 0.85,
    minDigits: 3,
  },
  {
    // "March the 14th": the ordinal suffix is required (no "May the 4 mg").
    name: 'month_the_ordinal',
    regex: new RegExp(String.raw`\b${MONTH}\.?\s{1,3}the\s{1,3}(?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)\b`, 'gi'),
    prefilter: hasOrdinal,
    type: 'DATE',
    confidence: 0.85,
    minDigits: 1,
    validate: (m) => (/^may\b/.test(m[0]) ? undefined : { confidence: 0.85 }),
  },
  {
    // "Mar-14", "March-14": title case only, so the MAR (medication administration record)
    // "MAR-14" and lower-case "may-5" are not dates.
    name: 'month_hyphen_day',
    regex: /\b(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sept?(?:ember)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)-(?:[12]\d|3[01]|0?[1-9])(?![\w:-]|\.\d)/g,
    prefilter: (text) => LETTER_HYPHEN_DIGIT.test(text),
    type: 'DATE',
    confidence: 0.8,
    minDigits: 1,
    requiredChars: '-',
    validate: (m, text) =>
      /^\s*(?:mg|mcg|ml|units?|tabs?|times|%)/i.test(after(text, m.index + m[0].length, 8)) ? undefined : { confidence: 0.8 },
  },
  {
    // "in May", "since late May", "by mid-May": "May" alone is a month only capitalised and
    // after a preposition (with an optional early/late/mid), and not before a verb ("of May be").
    name: 'may_alone_with_context',
    regex: /\b(?:in|since|until|by|during|of)\s{1,3}(?:(?:early|late|mid)(?:\s{1,3}|-))?May(?![\w'-])/g,
    prefilter: (text) => text.includes('May'),
    type: 'DATE',
    confidence: 0.6,
    validate: (m, text) =>
      /^\s{1,3}(?:be|have|had|not|also|need|require|benefit|help|cause|occur|take|use|want|go|do|still|well|never|only|represent|reflect|indicate|increase|decrease|worsen|improve)\b/.test(
        after(text, m.index + m[0].length, 16),
      )
        ? undefined
        : { confidence: 0.6, relStart: m[0].search(/May$/) },
  },
  {
    // "on the 14th": a day of the month without the month, only after "on the" and with an
    // ordinal, and not when a noun follows it ("on the 3rd floor", "on the 2nd day/dose").
    name: 'on_the_ordinal',
    regex: /\bon\s{1,3}the\s{1,3}(?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)\b/gi,
    prefilter: hasOrdinal,
    type: 'DATE',
    confidence: 0.6,
    minDigits: 1,
    validate: (m, text) =>
      ORDINAL_NOUN.test(after(text, m.index + m[0].length, 24))
        ? undefined
        : { confidence: 0.6, relStart: m[0].search(/\d/) },
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

/**
 * A birth cue right before a date ("DOB 3/4/31", "born on", "date of birth:"). It is recorded as
 * the explanation's context word ('dob'), so operators read a 2-digit year as the past century
 * ("31" is 1931, not 2031) and Safe Harbor's over-89 rule still sees it (`date-shift.ts`).
 */
const BIRTH_CUE = /(?:\bdob|\bd\.o\.b|\bborn|\bbirth\s?date|\bdate of birth|\bbirthday|\bb-?day)\b\.?[\s:=#-]{0,4}(?:(?:on|is|was|of)\s{1,3})?$/;
export const BIRTH_CONTEXT_WORD = 'dob';

export const dateRecognizer: Recognizer = {
  name: datePatterns.name,
  types: datePatterns.types,
  detect(context) {
    return datePatterns.detect(context).map((d) =>
      d.explanation.contextWord === undefined && BIRTH_CUE.test(before(context.text, d.start, 24))
        ? detection(d.start, d.end, d.type, d.confidence, d.recognizer, { ...d.explanation, contextWord: BIRTH_CONTEXT_WORD })
        : d,
    );
  },
};
