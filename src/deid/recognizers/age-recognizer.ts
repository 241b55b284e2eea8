import { before } from '../text-context.js';
import { patternRecognizer, type PatternVerdict } from './pattern-recognizer.js';

/**
 * 45 CFR 164.514(b)(2)(i)(C): ages over 89 (and all elements of dates indicative of such age)
 * must be aggregated into "90 or older". Ages 0-89 are kept and never flagged. The span is the
 * number (digits or words) only; "years old" stays readable.
 */
const UNITS = String.raw`(?:\s{0,2}-?\s{0,2}(?:years?|yrs?|y\/o|y\.o\.?|yo|y)(?:[\s-]{1,3}old)?)`;
const TENS: Record<string, number> = { ninety: 90, hundred: 100 };
const ONES: Record<string, number> = {
  one: 1, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8, nine: 9,
  ten: 10, eleven: 11, twelve: 12, thirteen: 13, fourteen: 14, fifteen: 15,
};

function over89(n: number): PatternVerdict | undefined {
  return n >= 90 && n <= 125 ? { confidence: 0.9, explanation: { validation: 'passed' } } : undefined;
}

/** "ninety-two", "one hundred and three" -> 92, 103; undefined when not an age in words. */
export function wordsToNumber(words: string): number | undefined {
  const parts = words.toLowerCase().split(/[\s-]+/).filter((w) => w !== 'and');
  let total = 0;
  for (const p of parts) {
    if (p === 'hundred') total = (total === 0 ? 1 : total) * 100;
    else if (TENS[p] !== undefined) total += TENS[p];
    else if (ONES[p] !== undefined) total += ONES[p];
    else return undefined;
  }
  return total;
}

const WORD_AGE = String.raw`(?:ninety(?:[\s-](?:one|two|three|four|five|six|seven|eight|nine))?|(?:one\s)?hundred(?:\s(?:and\s)?(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen))?)`;

export const ageRecognizer = patternRecognizer('age', [
  {
    // 92-year-old · 92 yo · 92yo · 92 y/o · 101 years old
    name: 'age_digits_with_unit',
    regex: new RegExp(String.raw`(?<![\w.])\d{2,3}(?=${UNITS}(?![a-z]))`, 'gi'),
    type: 'AGE',
    confidence: 0.9,
    minDigitRun: 2,
    validate: (m) => over89(Number(m[0])),
  },
  {
    // age 93 · aged 95 · Age: 91 · 94M · 96 F (age-sex shorthand)
    name: 'age_labelled',
    regex: /(?<![\w.])\d{2,3}(?![\w.])|(?<![\w.])\d{2,3}(?=\s?(?:M|F|yo[MF])\b)/g,
    type: 'AGE',
    confidence: 0.85,
    minDigitRun: 2,
    validate: (m, text) => {
      const n = Number(m[0]);
      if (n < 90 || n > 125) return undefined;
      const labelled = /\b(?:age|aged|ages|turned|turns|turning|now)\s{0,3}:?\s{0,3}$/.test(before(text, m.index, 12));
      const sexAfter = /^\s?(?:M|F|yo[MF])\b/.test(text.slice(m.index + m[0].length, m.index + m[0].length + 5));
      return labelled || sexAfter ? over89(n) : undefined;
    },
  },
  {
    // "in her 90s", "nineties"
    name: 'age_decade',
    regex: /\b(?:in (?:his|her|their) |late |early |mid-?)(?:9\d'?s|nineties|100s)\b/gi,
    type: 'AGE',
    confidence: 0.8,
    validate: (m) => {
      const at = m[0].search(/9\d|nineties|100s/i);
      return { confidence: 0.8, relStart: at };
    },
  },
  {
    name: 'age_words',
    regex: new RegExp(String.raw`\b${WORD_AGE}(?=${UNITS}(?![a-z]))`, 'gi'),
    type: 'AGE',
    confidence: 0.85,
    validate: (m) => {
      const n = wordsToNumber(m[0]);
      return n === undefined ? undefined : over89(n);
    },
  },
]);
