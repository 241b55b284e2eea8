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
}

const WORD = /[\p{L}\p{M}\p{N}]+(?:['’-][\p{L}\p{M}\p{N}]+)*/gu;
const UPPER = /^\p{Lu}/u;
const LOWER = /\p{Ll}/u;

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
  WORD.lastIndex = 0;
  for (let m = WORD.exec(text); m !== null; m = WORD.exec(text)) {
    const raw = m[0];
    const start = m.index;
    let n = raw.length;
    const last = raw.charCodeAt(n - 1);
    const apostrophe = n > 2 ? raw.charCodeAt(n - 2) : 0;
    if (n > 2 && (last === 115 || last === 83) && (apostrophe === 39 || apostrophe === 0x2019)) n -= 2;
    const word = n === raw.length ? raw : raw.slice(0, n);
    // One pass over the characters: case and digits, ASCII fast path; Unicode properties otherwise.
    let ascii = true;
    let hasLower = false;
    let hasDigit = false;
    for (let i = 0; i < n; i += 1) {
      const c = word.charCodeAt(i);
      if (c >= 97 && c <= 122) hasLower = true;
      else if (c >= 48 && c <= 57) hasDigit = true;
      else if (c > 127) ascii = false;
    }
    const first = word.charCodeAt(0);
    const upperFirst = ascii ? first >= 65 && first <= 90 : UPPER.test(word);
    if (!ascii && !hasLower) hasLower = LOWER.test(word);
    tokens.push({
      text: word,
      key: hasDigit ? word : foldKey(word.toLowerCase()),
      start,
      end: start + n,
      capitalized: upperFirst,
      allCaps: n > 1 && upperFirst && !hasLower && !hasDigit,
      hasDigit,
      isWord: !hasDigit,
    });
  }
  return tokens;
}
