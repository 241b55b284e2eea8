import { before } from '../text-context.js';
import { patternRecognizer } from './pattern-recognizer.js';

/** Words before "by" that make "X by J D" a list of grades, leads or types, not a signature. */
const NOT_SIGNATURE_BEFORE = /(?:hep(?:atitis)?|type|vit(?:amin)?|factor|grade|stage|class|group|zone|phase|level|leads?|channel|section|multiply|multiplied|divided|times)\s{0,3}[a-z]?\s{0,3}$/;

/** Dotted abbreviations that look like initials but are not a person's. */
const NOT_INITIALS: ReadonlySet<string> = new Set([
  'U.S.', 'U.S.A.', 'P.O.', 'A.M.', 'P.M.', 'M.D.', 'D.O.', 'R.N.', 'N.P.', 'P.A.', 'B.S.', 'B.A.', 'M.S.', 'O.D.',
  'O.S.', 'O.U.', 'A.D.', 'A.S.', 'A.U.', 'Q.D.', 'B.I.D.', 'T.I.D.', 'Q.I.D.', 'N.P.O.', 'P.R.N.', 'D.C.', 'E.R.',
  'I.V.', 'I.M.', 'S.Q.', 'S.C.', 'P.T.', 'O.T.', 'D.M.', 'H.S.', 'Q.H.S.', 'E.D.', 'C.T.', 'U.K.', 'E.U.', 'D.O.B.',
]);

/**
 * 45 CFR 164.514(b)(2)(i)(A): a person's initials written with periods ("J.S.", "M. A. K."), or
 * spaced capitals after "by" ("by J D").
 */
export const initialsRecognizer = patternRecognizer('initials', [
  {
    name: 'dotted_initials',
    regex: /(?<![\w.])[A-Z]\.\s?[A-Z]\.(?:\s?[A-Z]\.)?(?![\w.])/g,
    type: 'NAME',
    confidence: 0.55,
    requiredChars: '.',
    validate: (m) => (NOT_INITIALS.has(m[0].replace(/\s/g, '')) ? undefined : { confidence: 0.55 }),
  },
  {
    // "by J D": two capital letters separated by a space after a bare "by" (a signature). The
    // stronger cues ("signed", "Cc:", "seen by") are the name recognizer's; "A"/"I" are words,
    // so they never start one, and a third letter or a word run-on ("by J Doe") is left to it.
    name: 'spaced_initials_after_by',
    regex: /\bby\s{1,3}[B-HJ-Z]\s[A-Z](?![\w'-]|\.\w|\s[A-Z]\b)/g,
    prefilter: (text) => text.includes('by'),
    type: 'NAME',
    confidence: 0.6,
    validate: (m, text) =>
      NOT_SIGNATURE_BEFORE.test(before(text, m.index, 24)) ? undefined : { confidence: 0.6, relStart: m[0].search(/[A-Z]/) },
  },
]);
