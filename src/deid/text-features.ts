/**
 * Cheap facts about a text, computed in one pass per analysis, that let a pattern skip its scan
 * when it cannot match at all: no "@" means no e-mail address, a longest digit run of 3 means no
 * ZIP code, no run of exactly 9 ASCII word characters means no DEA number. A gate only skips work; it never changes
 * what a pattern finds (every gate is implied by the pattern's own shape).
 */
export interface TextFeatures {
  /** ASCII digits (what `\d` matches) in the whole text. */
  readonly digits: number;
  /** Longest run of consecutive ASCII digits. */
  readonly maxDigitRun: number;
  /** Colons and hyphens in the text (MAC addresses need five of one). */
  readonly colons: number;
  readonly hyphens: number;
  /** Printable ASCII (32-127) present: bit (c & 31) of word (c >> 5) - 1. */
  readonly ascii: readonly [number, number, number];
  /**
   * Bit n (n < 31) set when some maximal run of ASCII word characters ([A-Za-z0-9_], what `\w`
   * matches) is exactly n long; bit 31 for any longer run. A match of `(?<![\w-])[A-Z0-9]{9}(?![\w-])`
   * is such a run of 9. (Word tokens are Unicode and would not do: "AB1234563é" is one token.)
   */
  readonly wordRunLengths: number;
}

function isAsciiWordChar(c: number): boolean {
  const l = c | 32;
  return (l >= 97 && l <= 122) || (c >= 48 && c <= 57) || c === 95;
}

export function textFeatures(text: string): TextFeatures {
  let a1 = 0;
  let a2 = 0;
  let a3 = 0;
  let digits = 0;
  let colons = 0;
  let hyphens = 0;
  let wordRunLengths = 0;
  let wordRun = 0;
  let run = 0;
  let maxDigitRun = 0;
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if (isAsciiWordChar(c)) wordRun += 1;
    else if (wordRun > 0) {
      wordRunLengths |= 1 << Math.min(wordRun, 31);
      wordRun = 0;
    }
    if (c >= 48 && c <= 57) {
      digits += 1;
      run += 1;
      if (run > maxDigitRun) maxDigitRun = run;
      continue;
    }
    run = 0;
    if (c < 32 || c > 127) continue;
    if (c === 58) colons += 1;
    else if (c === 45) hyphens += 1;
    const bit = 1 << (c & 31);
    if (c < 64) a1 |= bit;
    else if (c < 96) a2 |= bit;
    else a3 |= bit;
  }
  if (wordRun > 0) wordRunLengths |= 1 << Math.min(wordRun, 31);
  return { digits, maxDigitRun, colons, hyphens, ascii: [a1, a2, a3], wordRunLengths };
}

/** Every character of `chars` (ASCII) occurs in the text. */
export function hasChars(features: TextFeatures, chars: string): boolean {
  for (let i = 0; i < chars.length; i += 1) {
    const c = chars.charCodeAt(i);
    const word = c >= 32 && c < 128 ? features.ascii[(c >> 5) - 1] : undefined;
    if (word === undefined || (word & (1 << (c & 31))) === 0) return false;
  }
  return true;
}

/** Some maximal run of ASCII word characters is exactly `length` long (or, for 31+, at least 31). */
export function hasWordRunOfLength(features: TextFeatures, length: number): boolean {
  return (features.wordRunLengths & (1 << Math.min(length, 31))) !== 0;
}
