/**
 * Word tokens with offsets, computed once per text and shared by the dictionary-driven
 * recognizers (names, places, facilities). A word is letters/digits joined by single
 * apostrophes or hyphens ("O'Brien", "Smith-Jones"); each repetition starts with a separator, so
 * the pattern is unambiguous and linear.
 */
export interface Token {
  readonly text: string;
  /** Lower case, possessive "'s" removed, curly apostrophe normalized. */
  readonly key: string;
  readonly start: number;
  /** End of the word without a possessive "'s". */
  readonly end: number;
  /** First character is an upper-case letter. */
  readonly capitalized: boolean;
  /** Two or more letters, all upper case. */
  readonly allCaps: boolean;
  readonly hasDigit: boolean;
  readonly isWord: boolean;
  /**
   * Dictionary facts about `key` (first name, surname rank, everyday word: lexicon.ts),
   * filled on first use and cached here so each word is looked up once per analysis, whichever
   * recognizer asks. 0 = nothing known yet. Tokens belong to one analysis, hence to one set of
   * dictionaries.
   */
  lex: number;
}

/**
 * The word pattern the scanner below implements: letters, marks and digits, joined by single
 * apostrophes or hyphens. Kept as the specification (tokenize.test.ts checks the scanner
 * against it on random text); the scanner has an ASCII fast path and allocates only the words.
 */
export const WORD_PATTERN = /[\p{L}\p{M}\p{N}]+(?:['’-][\p{L}\p{M}\p{N}]+)*/gu;
const WORD_CHAR = /^[\p{L}\p{M}\p{N}]$/u;
const UPPER = /^\p{Lu}/u;
const LOWER = /\p{Ll}/u;

/** Basic Multilingual Plane word characters, filled as met: 0 unknown, 1 word, 2 not a word. */
const BMP_WORD = new Uint8Array(0x10000);

/** Length (1, or 2 for a surrogate pair) of the word character at `i`, 0 when there is none. */
function wordCharAt(text: string, i: number): number {
  if (i >= text.length) return 0;
  const c = text.charCodeAt(i);
  if (c < 128) {
    const l = c | 32;
    return (l >= 97 && l <= 122) || (c >= 48 && c <= 57) ? 1 : 0;
  }
  if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
    const low = text.charCodeAt(i + 1);
    if (low >= 0xdc00 && low <= 0xdfff) return WORD_CHAR.test(text.slice(i, i + 2)) ? 2 : 0;
  }
  let known = BMP_WORD[c];
  if (known === 0) {
    known = WORD_CHAR.test(text.charAt(i)) ? 1 : 2;
    BMP_WORD[c] = known;
  }
  return known === 1 ? 1 : 0;
}

/** End of the word starting at `start` (a word character): WORD_PATTERN's greedy match. */
function wordEnd(text: string, start: number): number {
  let i = start;
  for (;;) {
    const n = wordCharAt(text, i);
    if (n > 0) {
      i += n;
      continue;
    }
    const c = text.charCodeAt(i);
    if ((c === 39 || c === 0x2019 || c === 45) && wordCharAt(text, i + 1) > 0) {
      i += 1;
      continue;
    }
    return i;
  }
}

/**
 * Dictionary key: lower case, curly apostrophe straightened, diacritics removed ("Müller" ->
 * "muller"), because the Census and SSA lists are plain ASCII.
 */
export function foldKey(lower: string): string {
  let key = lower.includes('’') ? lower.replace(/’/g, "'") : lower;
  // eslint-disable-next-line no-control-regex
  if (/[^\x00-\x7f]/.test(key)) key = key.normalize('NFD').replace(/\p{M}/gu, '');
  return key;
}

export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  for (let at = 0; at < text.length; ) {
    const firstLength = wordCharAt(text, at);
    if (firstLength === 0) {
      at += 1;
      continue;
    }
    const start = at;
    const rawEnd = wordEnd(text, start + firstLength);
    at = rawEnd;
    let n = rawEnd - start;
    const last = text.charCodeAt(rawEnd - 1);
    const apostrophe = n > 2 ? text.charCodeAt(rawEnd - 2) : 0;
    if (n > 2 && (last === 115 || last === 83) && (apostrophe === 39 || apostrophe === 0x2019)) n -= 2;
    const word = text.slice(start, start + n);
    // One pass over the characters: case and digits, ASCII fast path; Unicode properties otherwise.
    let ascii = true;
    let hasLower = false;
    let hasUpper = false;
    let hasDigit = false;
    for (let i = 0; i < n; i += 1) {
      const c = word.charCodeAt(i);
      if (c >= 97 && c <= 122) hasLower = true;
      else if (c >= 65 && c <= 90) hasUpper = true;
      else if (c >= 48 && c <= 57) hasDigit = true;
      else if (c > 127) ascii = false;
    }
    const first = word.charCodeAt(0);
    const upperFirst = ascii ? first >= 65 && first <= 90 : UPPER.test(word);
    if (!ascii && !hasLower) hasLower = LOWER.test(word);
    tokens.push({
      text: word,
      // An ASCII word needs no folding, and no copy at all when it has no capital.
      key: hasDigit ? word : ascii ? (hasUpper ? word.toLowerCase() : word) : foldKey(word.toLowerCase()),
      start,
      end: start + n,
      capitalized: upperFirst,
      allCaps: n > 1 && upperFirst && !hasLower && !hasDigit,
      hasDigit,
      isWord: !hasDigit,
      lex: 0,
    });
  }
  return tokens;
}
