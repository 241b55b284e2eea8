import { after, before } from '../text-context.js';
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

/** A label just before an age (the window is lower-cased by `before`). */
const AGE_LABEL_BEFORE = /\b(?:age|aged|ages|turned|turns|turning|now)\s{0,3}:?\s{0,3}$/;
/** "he is", "she was", "patient is", "pt was": a weaker cue, ages 90-125 only. */
const PERSON_IS_BEFORE = /\b(?:he|she|patient|pt\.?)\s{1,2}(?:is|was)\s{1,2}(?:now\s{1,2})?$/;
/** A measurement unit after the number: "is 95%", "was 96 kg" are not ages. */
const UNIT_AFTER = /^\s{0,2}(?:%|percent|kg|lbs?|pounds?|mm|cm|in\b|inches|°|deg|degrees|bpm|mg|ml|units?|\/|-\d|minutes?|min\b|seconds?|sec\b|hours?|hrs?\b|days?|weeks?|months?|f\b|c\b)/;

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
    // age 93 · aged 95 · Age: 91 · AGE: 92. · 94M · 96 F (age-sex shorthand). A sentence-final
    // full stop ends the number ("Age: 97."); a decimal ("96.5") does not.
    name: 'age_labelled',
    regex: /(?<![\w.])\d{2,3}(?![\w]|\.\d)|(?<![\w.])\d{2,3}(?=\s?(?:M|F|yo[MF])\b)/g,
    type: 'AGE',
    confidence: 0.85,
    minDigitRun: 2,
    validate: (m, text) => {
      const n = Number(m[0]);
      if (n < 90 || n > 125) return undefined;
      const labelled = AGE_LABEL_BEFORE.test(before(text, m.index, 12));
      const sexAfter = /^\s?(?:M|F|yo[MF])\b/.test(text.slice(m.index + m[0].length, m.index + m[0].length + 5));
      if (labelled || sexAfter) return over89(n);
      // Weaker cue: "he is 95", "patient was 97" (not "is 95%", "was 96 kg", "is 98 F" read above).
      if (PERSON_IS_BEFORE.test(before(text, m.index, 16)) && !UNIT_AFTER.test(after(text, m.index + m[0].length, 12))) {
        return { confidence: 0.7, explanation: { validation: 'passed', contextWord: 'is' } };
      }
      return undefined;
    },
  },
  {
    // "Age: ninety-two", "turned ninety-one": an age in words after a label, no unit needed.
    name: 'age_words_labelled',
    regex: new RegExp(String.raw`\b${WORD_AGE}\b`, 'gi'),
    type: 'AGE',
    confidence: 0.85,
    validate: (m, text) => {
      const n = wordsToNumber(m[0]);
      if (n === undefined) return undefined;
      if (UNIT_AFTER.test(after(text, m.index + m[0].length, 12))) return undefined;
      const cue = AGE_LABEL_BEFORE.test(before(text, m.index, 12)) || PERSON_IS_BEFORE.test(before(text, m.index, 16));
      return cue ? over89(n) : undefined;
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
