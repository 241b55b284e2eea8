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
  return {
    firstNames: new Set(firstNameList),
    surnames,
    places: new Set(placeList),
    placeFirstWords,
    medicalWords: new Set(lower(source.medicalWords ?? [])),
    zip3Population: new Map(source.zip3Population ?? []),
    restrictedZip3: new Set(source.restrictedZip3 ?? []),
    firstNameList,
    surnameList,
    placeList,
  };
}
