/**
 * Re-identification risk of a released table, for Expert Determination (45 CFR 164.514(b)(1)):
 * records are grouped into equivalence classes by their quasi-identifiers (e.g. birth year, sex,
 * ZIP-3). From the class sizes:
 *  - k (k-anonymity): the smallest class; every record hides among at least k-1 others;
 *  - prosecutor risk (attacker knows the target is in the data): max and mean of 1/|class|;
 *  - journalist risk (target may not be in the data): 1/|population class|; without population
 *    counts the sample class is used, which makes it an upper bound equal to prosecutor risk;
 *  - share of unique records (classes of size 1);
 *  - l-diversity: the fewest distinct sensitive values in any class (l = 1: a class where
 *    everyone shares the diagnosis discloses it without identifying anyone).
 */
export type TableRecord = Readonly<Record<string, string | undefined>>;

export interface RiskOptions {
  readonly quasiIdentifiers: readonly string[];
  readonly sensitive?: string;
  /** Optional population size per class key (same key as in the result), for journalist risk. */
  readonly populationClassSize?: (classKey: string) => number | undefined;
}

export interface RiskReport {
  readonly records: number;
  readonly classes: number;
  readonly k: number;
  readonly uniqueShare: number;
  readonly prosecutorRiskMax: number;
  readonly prosecutorRiskMean: number;
  readonly journalistRiskMax: number;
  readonly journalistIsUpperBound: boolean;
  readonly lDiversity: number | undefined;
  /** Class size -> number of classes of that size. */
  readonly classSizeHistogram: ReadonlyMap<number, number>;
}

export function classKey(record: TableRecord, quasiIdentifiers: readonly string[]): string {
  return JSON.stringify(quasiIdentifiers.map((q) => record[q] ?? ''));
}

export function assessRisk(records: readonly TableRecord[], options: RiskOptions): RiskReport {
  const classes = new Map<string, { size: number; sensitive: Set<string> }>();
  for (const r of records) {
    const key = classKey(r, options.quasiIdentifiers);
    const c = classes.get(key) ?? { size: 0, sensitive: new Set<string>() };
    c.size += 1;
    if (options.sensitive !== undefined) c.sensitive.add(r[options.sensitive] ?? '');
    classes.set(key, c);
  }
  let k = Number.POSITIVE_INFINITY;
  let unique = 0;
  let l = Number.POSITIVE_INFINITY;
  let journalistMax = 0;
  let usedPopulation = false;
  const histogram = new Map<number, number>();
  for (const [key, c] of classes) {
    k = Math.min(k, c.size);
    if (c.size === 1) unique += 1;
    l = Math.min(l, c.sensitive.size);
    histogram.set(c.size, (histogram.get(c.size) ?? 0) + 1);
    const population = options.populationClassSize?.(key);
    if (population !== undefined && population >= c.size) usedPopulation = true;
    journalistMax = Math.max(journalistMax, 1 / (population !== undefined && population >= c.size ? population : c.size));
  }
  const n = records.length;
  return {
    records: n,
    classes: classes.size,
    k: n === 0 ? 0 : k,
    uniqueShare: n === 0 ? 0 : unique / n,
    prosecutorRiskMax: n === 0 ? 0 : 1 / k,
    // Mean over records of 1/|class| = number of classes / number of records.
    prosecutorRiskMean: n === 0 ? 0 : classes.size / n,
    journalistRiskMax: journalistMax,
    journalistIsUpperBound: !usedPopulation,
    lDiversity: options.sensitive === undefined || n === 0 ? undefined : l,
    classSizeHistogram: histogram,
  };
}
