import { patternRecognizer } from './pattern-recognizer.js';

/** Dotted abbreviations that look like initials but are not a person's. */
const NOT_INITIALS: ReadonlySet<string> = new Set([
  'U.S.', 'U.S.A.', 'P.O.', 'A.M.', 'P.M.', 'M.D.', 'D.O.', 'R.N.', 'N.P.', 'P.A.', 'B.S.', 'B.A.', 'M.S.', 'O.D.',
  'O.S.', 'O.U.', 'A.D.', 'A.S.', 'A.U.', 'Q.D.', 'B.I.D.', 'T.I.D.', 'Q.I.D.', 'N.P.O.', 'P.R.N.', 'D.C.', 'E.R.',
  'I.V.', 'I.M.', 'S.Q.', 'S.C.', 'P.T.', 'O.T.', 'D.M.', 'H.S.', 'Q.H.S.', 'E.D.', 'C.T.', 'U.K.', 'E.U.',
]);

/** 45 CFR 164.514(b)(2)(i)(A): a person's initials written with periods ("J.S.", "M. A. K."). */
export const initialsRecognizer = patternRecognizer('initials', [
  {
    name: 'dotted_initials',
    regex: /(?<![\w.])[A-Z]\.\s?[A-Z]\.(?:\s?[A-Z]\.)?(?![\w.])/g,
    type: 'NAME',
    confidence: 0.55,
    requiredChars: '.',
    validate: (m) => (NOT_INITIALS.has(m[0].replace(/\s/g, '')) ? undefined : { confidence: 0.55 }),
  },
]);
