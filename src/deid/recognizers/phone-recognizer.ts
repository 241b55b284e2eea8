import { before } from '../text-context.js';
import { patternRecognizer, type PatternVerdict } from './pattern-recognizer.js';

const FAX_CONTEXT = /fax|facsimile|\bf:|\(f\)/;
const PHONE_CONTEXT = /phone|tel|cell|mobile|call|contact|pager|beeper|\bph\b|\bp:|\(p\)|\bc:|\bh:|\bw:|home|work/;

/**
 * 45 CFR 164.514(b)(2)(i)(D) telephone and (E) fax numbers: the same shapes, told apart by the
 * words before them ("Fax:", "F:"). North American forms with optional +1 and extension, and
 * international "+CC" forms (+1 is North American, handled by the first pattern); bare 10 and 7 digit runs only with a phone or fax context word.
 */
function typed(m: RegExpExecArray, text: string, confidence: number): PatternVerdict {
  const ctx = before(text, m.index, 24);
  const fax = FAX_CONTEXT.exec(ctx);
  return fax
    ? { type: 'FAX', confidence: Math.max(confidence, 0.9), explanation: { contextWord: fax[0] } }
    : { confidence };
}

function needsContext(m: RegExpExecArray, text: string, confidence: number): PatternVerdict | undefined {
  const ctx = before(text, m.index, 24);
  if (!FAX_CONTEXT.test(ctx) && !PHONE_CONTEXT.test(ctx)) return undefined;
  return typed(m, text, confidence);
}

/** The narrower cue a UK-style national number ("07700 900123") needs: it has no +CC to show it. */
const UK_PHONE_CONTEXT = /phone|\btel\b|\btel:|\btelephone|\bcell|\bmobile|\bmob\b|\bcall|\bfax/;

const EXTENSION = String.raw`(?:\s{0,2}(?:x|ext\.?|extension)\s{0,2}\d{1,6})?`;

export const phoneRecognizer = patternRecognizer('phone', [
  {
    name: 'nanp',
    regex: new RegExp(
      String.raw`(?<![\w+])(?:\+?1[\s.-]?)?(?:\(\d{3}\)\s?|\d{3}[\s.-])\d{3}[\s.-]\d{4}${EXTENSION}(?![\w-])`,
      'g',
    ),
    type: 'PHONE',
    confidence: 0.85,
    minDigits: 10,
    minDigitRun: 4,
    validate: (m, text) => typed(m, text, 0.85),
  },
  {
    name: 'international',
    // Groups of up to 6 digits: "+44 7700 900123".
    regex: /(?<![\w+])\+[2-9]\d{0,2}(?:[\s.-]\(?\d{1,6}\)?){2,5}(?![\w-])/g,
    type: 'PHONE',
    confidence: 0.8,
    requiredChars: '+',
    minDigits: 8,
    validate: (m, text) => ((m[0].match(/\d/g) ?? []).length >= 8 ? typed(m, text, 0.8) : undefined),
  },
  {
    // UK-style national numbers with the trunk 0: "07700 900123", "020 7946 0958",
    // "0161 496 0000" (10-11 digits). Only after a phone/fax cue: bare digit groups stay unflagged.
    name: 'uk_national_with_context',
    regex: /(?<![\w.)+-])0\d{2,4}[\s-]?\d{3,4}(?:[\s-]?\d{3,4})?(?![\w-]|\.\d)/g,
    type: 'PHONE',
    confidence: 0.75,
    minDigits: 10,
    minDigitRun: 3,
    validate: (m, text) => {
      const digits = (m[0].match(/\d/g) ?? []).length;
      if (digits < 10 || digits > 11) return undefined;
      const cue = UK_PHONE_CONTEXT.exec(before(text, m.index, 24));
      if (cue === null) return undefined;
      const verdict = typed(m, text, 0.75);
      return { ...verdict, explanation: { ...verdict.explanation, contextWord: verdict.explanation?.contextWord ?? cue[0] } };
    },
  },
  {
    name: 'digits_with_context',
    regex: /(?<![\w.)-]|\d[\s.-]|\)\s)(?:1?\d{10}|\d{3}[\s.-]\d{4})(?![\w-]|\.\d)/g,
    type: 'PHONE',
    confidence: 0.7,
    minDigits: 7,
    minDigitRun: 4,
    validate: (m, text) => needsContext(m, text, 0.7),
  },
]);
