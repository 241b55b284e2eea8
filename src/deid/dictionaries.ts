import { COMMON_WORDS } from './common-words.js';
import { LEX_COMMON, LEX_FIRST_NAME, LEX_MEDICAL, lexPlaceBits, lexRankBits } from './lexicon.js';

/**
 * Reference data the analyzer and operators read: name, place and medical-vocabulary lists and
 * ZIP-3 populations. Built once at the edge (load-dictionaries.ts reads data/deid) and handed in,
 * so the engine itself does no I/O. All words are stored lower case.
 */
export interface DeidDictionaries {
  readonly firstNames: ReadonlySet<string>;
  /** Surname -> frequency rank (1 = most common), from the 1990 Census list. */
  readonly surnames: ReadonlyMap<string, number>;
  /** City, town and county names, possibly several words ("san antonio"). */
  readonly places: ReadonlySet<string>;
  /** First word of each place -> the largest number of words a place starting with it has. */
  readonly placeFirstWords: ReadonlyMap<string, number>;
  /** Words of ICD-10-CM titles and the ICD-10-CM Drug table: clinical, so not a name alone. */
  readonly medicalWords: ReadonlySet<string>;
  /**
   * Every word of the lists above (and common-words.ts) -> its facts packed in one number
   * (lexicon.ts): first name, medical word, everyday word, place first-word length, surname rank.
   * One look-up per token instead of one per list.
   */
  readonly lexicon: ReadonlyMap<string, number>;
  /** ZIP-3 prefix -> 2020 Census population of its ZCTAs. */
  readonly zip3Population: ReadonlyMap<string, number>;
  /** ZIP-3 prefixes HIPAA requires to become 000 (164.514(b)(2)(i)(B)). */
  readonly restrictedZip3: ReadonlySet<string>;
  /** Arrays for surrogate choice (deterministic index into a stable order). */
  readonly firstNameList: readonly string[];
  readonly surnameList: readonly string[];
  readonly placeList: readonly string[];
}

export interface DictionarySource {
  readonly firstNames: readonly string[];
  /** In rank order, most common first. */
  readonly surnames: readonly string[];
  readonly places: readonly string[];
  readonly medicalWords: readonly string[];
  /** `[zip3, population]` pairs. */
  readonly zip3Population: readonly (readonly [string, number])[];
  readonly restrictedZip3: readonly string[];
}

const lower = (words: readonly string[]): string[] => words.map((w) => w.trim().toLowerCase()).filter((w) => w.length > 0);

export function createDictionaries(source: Partial<DictionarySource> = {}): DeidDictionaries {
  const firstNameList = lower(source.firstNames ?? []);
  const surnameList = lower(source.surnames ?? []);
  const placeList = lower(source.places ?? []);
  const surnames = new Map<string, number>();
  surnameList.forEach((s, i) => {
    if (!surnames.has(s)) surnames.set(s, i + 1);
  });
  const placeFirstWords = new Map<string, number>();
  for (const place of placeList) {
    const words = place.split(/\s+/);
    const first = words[0] ?? '';
    placeFirstWords.set(first, Math.max(placeFirstWords.get(first) ?? 0, words.length));
  }
  const firstNames = new Set(firstNameList);
  const medicalWords = new Set(lower(source.medicalWords ?? []));
  // Each list ORs its bits in; every word appears once per list (they are sets and maps).
  const lexicon = new Map<string, number>();
  const add = (word: string, bits: number): void => {
    lexicon.set(word, (lexicon.get(word) ?? 0) | bits);
  };
  for (const [w, rank] of surnames) add(w, lexRankBits(rank));
  for (const w of firstNames) add(w, LEX_FIRST_NAME);
  for (const [w, n] of placeFirstWords) add(w, lexPlaceBits(n));
  for (const w of medicalWords) add(w, LEX_MEDICAL);
  for (const w of COMMON_WORDS) add(w, LEX_COMMON);
  return {
    firstNames,
    surnames,
    places: new Set(placeList),
    placeFirstWords,
    lexicon,
    medicalWords,
    zip3Population: new Map(source.zip3Population ?? []),
    restrictedZip3: new Set(source.restrictedZip3 ?? []),
    firstNameList,
    surnameList,
    placeList,
  };
}
