/**
 * Text as the analyzer should judge it, and as it is sent when it must be de-identified: what
 * is checked is what is sent. Unicode lets a value stay readable to a person or a model while
 * slipping past patterns: zero-width spaces and soft hyphens inside an SSN, fullwidth digits,
 * another script's digits. NFKC folds compatibility forms (fullwidth, superscripts) to their
 * plain letters and digits, format characters (\p{Cf}: zero-width, soft hyphen, bidi marks) are
 * removed, and decimal digits of other scripts become ASCII.
 */
const FORMAT_CHARACTERS = /\p{Cf}/gu;
const NON_ASCII_DIGIT = /(?![0-9])\p{Nd}/gu;
const DIGIT = /^\p{Nd}$/u;

/** The value of a decimal digit of any script: Unicode allocates each script's 0-9 as one run of ten. */
function digitValue(d: string): string {
  const cp = d.codePointAt(0) ?? 0;
  let start = cp;
  while (start > 0 && DIGIT.test(String.fromCodePoint(start - 1)) && cp - start < 9) start -= 1;
  return String((cp - start) % 10);
}

export function normalizeText(text: string): string {
  return text.normalize('NFKC').replace(FORMAT_CHARACTERS, '').replace(NON_ASCII_DIGIT, digitValue);
}

/**
 * A word mixing Latin letters with Cyrillic or Greek ones ("Jеssica" with a Cyrillic е): the
 * usual way to make a name look right to a reader and wrong to a dictionary. Text bound for a
 * model outside the walls that holds one is refused rather than guessed at.
 */
const MIXED_SCRIPT_WORD = /(?=[^\s]*\p{Script=Latin})(?=[^\s]*[\p{Script=Cyrillic}\p{Script=Greek}])[^\s]+/u;

export function hasMixedScriptWord(text: string): boolean {
  return MIXED_SCRIPT_WORD.test(text);
}
