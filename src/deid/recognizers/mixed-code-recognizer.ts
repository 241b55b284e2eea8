import type { AnalysisContext } from '../analysis-context.js';
import { detection, type Detection } from '../detection.js';
import type { Recognizer } from '../recognizer.js';
import { before } from '../text-context.js';

/**
 * 45 CFR 164.514(b)(2)(i)(R) "any other unique identifying ... code": a code mixing letters and
 * digits ("X7Q2K9", "7XK2Q9M", "jsmith77") right after a word that introduces one ("the code",
 * "bracelet #", "number", "token", "ID"), when no label of labelled-id-recognizer.ts names it.
 * The shape alone is not enough (gene, strain and lab names mix letters and digits: "CYP2D6",
 * "H1N1", "HbA1c"), so the id word is required, and so are at least 6 characters with at least two
 * letters and two digits. Clinical codes are excluded by their own context word (ICD, CPT, LOINC,
 * SNOMED, NDC, HCPCS, "diagnosis", "billing") and by the ICD-10-CM shape written without its
 * period ("S72001A": letter, two digits, then up to four letters or digits).
 *
 * Word-level: reads the tokens (one pass, no extra scan of the text).
 */
const ID_WORD_BEFORE =
  /(?:\b(?:code|codes|number|no\.?|id|identifier|ref|reference|barcode|tag|token|key|label|sticker|bracelet|wristband|serial|handle|username|login)|#)\s{0,2}[:#=]?\s{0,2}(?:(?:is|was|reads)\s{1,2})?$/;
const CLINICAL_CODE_CONTEXT = /\b(?:icd(?:-?10|-?9)?(?:-cm)?|cpt|loinc|snomed|ndc|hcpcs|rxnorm|dx|diagnosis|diagnostic|billing|procedure|drg|gene|genes|allele|variant|genotype|mutation|strain|serotype|lineage)\b/;
const ICD10_WITHOUT_PERIOD = /^[A-Z]\d{2}[0-9A-Z]{1,4}$/;
const MIN_LENGTH = 6;
const MAX_LENGTH = 20;

function isAsciiWordOrDash(c: number): boolean {
  const l = c | 32;
  return (l >= 97 && l <= 122) || (c >= 48 && c <= 57) || c === 95 || c === 45;
}

/** Letters and digits in an ASCII alphanumeric word; undefined when it has anything else. */
function mix(word: string): { letters: number; digits: number } | undefined {
  let letters = 0;
  let digits = 0;
  for (let i = 0; i < word.length; i += 1) {
    const c = word.charCodeAt(i);
    const l = c | 32;
    if (c >= 48 && c <= 57) digits += 1;
    else if (l >= 97 && l <= 122) letters += 1;
    else return undefined;
  }
  return { letters, digits };
}

export const mixedCodeRecognizer: Recognizer = {
  name: 'mixed_code',
  types: ['OTHER_ID'],
  detect(context: AnalysisContext): Detection[] {
    const { text, tokens } = context;
    const out: Detection[] = [];
    if (context.features.digits < 2) return out;
    for (const t of tokens) {
      const n = t.end - t.start;
      if (!t.hasDigit || n < MIN_LENGTH || n > MAX_LENGTH || t.end !== t.start + t.text.length) continue;
      // A whole word of its own: no letter, digit, "_" or "-" glued on either side.
      if (t.start > 0 && isAsciiWordOrDash(text.charCodeAt(t.start - 1))) continue;
      if (t.end < text.length && isAsciiWordOrDash(text.charCodeAt(t.end))) continue;
      const counts = mix(t.text);
      if (counts === undefined || counts.letters < 2 || counts.digits < 2 || ICD10_WITHOUT_PERIOD.test(t.text)) continue;
      const ctx = before(text, t.start, 32);
      const word = ID_WORD_BEFORE.exec(ctx);
      if (word === null || CLINICAL_CODE_CONTEXT.test(ctx)) continue;
      out.push(detection(t.start, t.end, 'OTHER_ID', 0.7, 'mixed_code', { pattern: 'mixed_code_after_id_word', contextWord: word[0].trim() }));
    }
    return out;
  },
};
