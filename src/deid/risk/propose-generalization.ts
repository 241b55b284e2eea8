import { hierarchyFor, type Hierarchy } from './generalization-hierarchy.js';
import { assessRisk, type RiskReport, type TableRecord } from './risk-assessment.js';

export interface GeneralizationProposal {
  /** Column -> hierarchy level (0 = as is). */
  readonly levels: Readonly<Record<string, number>>;
  readonly report: RiskReport;
}

const MAX_COMBINATIONS = 20_000;

function apply(records: readonly TableRecord[], columns: readonly string[], hierarchies: readonly Hierarchy[], levels: readonly number[]): TableRecord[] {
  return records.map((r) => {
    const out: Record<string, string | undefined> = { ...r };
    columns.forEach((c, i) => {
      const f = hierarchies[i]?.[levels[i] ?? 0];
      const v = r[c];
      if (f !== undefined && v !== undefined) out[c] = f(v);
    });
    return out;
  });
}

/**
 * The least generalization that reaches k: every combination of levels is tried in order of
 * total level (least information lost first; ties: fewer columns touched), and the first whose
 * smallest equivalence class is at least k wins. The lattice is small (a few levels per column),
 * and bounded; undefined when even full suppression does not reach k (fewer than k records).
 */
export function proposeGeneralization(records: readonly TableRecord[], quasiIdentifiers: readonly string[], targetK: number, sensitive?: string): GeneralizationProposal | undefined {
  const hierarchies = quasiIdentifiers.map(hierarchyFor);
  const maxLevels = hierarchies.map((h) => h.length - 1);
  const combos: number[][] = [[]];
  for (const max of maxLevels) {
    const next: number[][] = [];
    for (const c of combos) for (let l = 0; l <= max; l += 1) next.push([...c, l]);
    combos.splice(0, combos.length, ...next.slice(0, MAX_COMBINATIONS));
  }
  const sum = (c: readonly number[]): number => c.reduce((a, b) => a + b, 0);
  const touched = (c: readonly number[]): number => c.filter((x) => x > 0).length;
  combos.sort((a, b) => sum(a) - sum(b) || touched(a) - touched(b));
  for (const levels of combos) {
    const generalized = apply(records, quasiIdentifiers, hierarchies, levels);
    const report = assessRisk(generalized, { quasiIdentifiers, ...(sensitive !== undefined ? { sensitive } : {}) });
    if (report.k >= targetK) {
      return { levels: Object.fromEntries(quasiIdentifiers.map((q, i) => [q, levels[i] ?? 0])), report };
    }
  }
  return undefined;
}
