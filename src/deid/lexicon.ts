import type { Token } from './tokenize.js';

/**
 * One word's dictionary facts packed in one integer, so a token costs one look-up in
 * `DeidDictionaries.lexicon` (built once with the dictionaries) instead of one per list, and the
 * result is cached on the token (`Token.lex`) for every recognizer that asks again.
 *
 * Bits: KNOWN (looked up), FIRST_NAME, MEDICAL (ICD-10-CM word), COMMON (common-words.ts), the
 * largest number of words of a place starting with this word (0-7, capped), the surname rank.
 */
export const LEX_KNOWN = 1;
export const LEX_FIRST_NAME = 2;
export const LEX_MEDICAL = 4;
export const LEX_COMMON = 8;
const PLACE_SHIFT = 4;
const PLACE_MASK = 7;
const RANK_SHIFT = 7;
/** Ranks above this are not stored (none of the Census list comes near: 2^23 ranks). */
export const LEX_MAX_RANK = (1 << 23) - 1;

/** The bits saying that a place starting with this word has `placeWords` words (capped at 7). */
export function lexPlaceBits(placeWords: number): number {
  return Math.min(placeWords, PLACE_MASK) << PLACE_SHIFT;
}

/** The bits holding a surname rank (capped at LEX_MAX_RANK). */
export function lexRankBits(rank: number): number {
  return Math.min(rank, LEX_MAX_RANK) << RANK_SHIFT;
}

/** The packed facts of a token's key (`DeidDictionaries.lexicon`), looked up on first use and cached on the token. */
export function lexiconOf(token: Token, lexicon: ReadonlyMap<string, number>): number {
  let lex = token.lex;
  if (lex === 0) {
    lex = (lexicon.get(token.key) ?? 0) | LEX_KNOWN;
    token.lex = lex;
  }
  return lex;
}

/** Surname rank (1 = most common), 0 when the word is not a listed surname. */
export function lexRank(lex: number): number {
  return lex >>> RANK_SHIFT;
}

/** The most words a listed place starting with this word has (capped at 7), 0 when none. */
export function lexPlaceWords(lex: number): number {
  return (lex >>> PLACE_SHIFT) & PLACE_MASK;
}
