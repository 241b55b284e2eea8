import { describe, expect, it } from 'vitest';
import { hierarchyFor } from './generalization-hierarchy.js';
import { parseTable } from './parse-table.js';
import { proposeGeneralization } from './propose-generalization.js';
import { assessRisk } from './risk-assessment.js';

const CSV = `age,zip,sex,dx
34,02139,F,flu
34,02139,F,asthma
35,02139,F,flu
36,02140,M,flu
36,02140,M,flu
91,02141,M,copd
`;

describe('assessRisk', () => {
  const records = parseTable(CSV);
  it('computes equivalence classes, k, unique share, prosecutor risk and l-diversity', () => {
    const r = assessRisk(records, { quasiIdentifiers: ['age', 'zip', 'sex'], sensitive: 'dx' });
    expect(r.records).toBe(6);
    expect(r.classes).toBe(4); // {34,F}x2, {35,F}, {36,M}x2, {91,M}
    expect(r.k).toBe(1);
    expect(r.uniqueShare).toBeCloseTo(2 / 6);
    expect(r.prosecutorRiskMax).toBe(1);
    expect(r.prosecutorRiskMean).toBeCloseTo(4 / 6);
    expect(r.lDiversity).toBe(1); // the {36,02140,M} class all have flu
    expect(r.journalistIsUpperBound).toBe(true);
    expect([...r.classSizeHistogram.entries()].sort()).toEqual([
      [1, 2],
      [2, 2],
    ]);
  });
  it('uses population class sizes for journalist risk when given', () => {
    const r = assessRisk(records, { quasiIdentifiers: ['sex'], populationClassSize: () => 1000 });
    expect(r.journalistRiskMax).toBeCloseTo(0.001);
    expect(r.journalistIsUpperBound).toBe(false);
  });
});

describe('proposeGeneralization', () => {
  it('finds the least generalization that reaches k, or says none exists', () => {
    const records = parseTable(CSV);
    const p = proposeGeneralization(records, ['age', 'zip', 'sex'], 2);
    expect(p?.report.k).toBeGreaterThanOrEqual(2);
    const levels = Object.values(p?.levels ?? {}).reduce((a, b) => a + b, 0);
    expect(levels).toBeGreaterThan(0);
    expect(proposeGeneralization(records.slice(0, 1), ['age'], 2)).toBeUndefined();
  });
  it('has hierarchies that coarsen ages into bands and 90+, ZIPs into prefixes', () => {
    expect(hierarchyFor('age')[1]?.('37')).toBe('35-39');
    expect(hierarchyFor('age')[1]?.('93')).toBe('90+');
    expect(hierarchyFor('zip')[1]?.('02139')).toBe('021');
    expect(hierarchyFor('birthDate')[2]?.('1931-04-17')).toBe('1931');
  });
});

describe('parseTable', () => {
  it('reads quoted CSV, JSON lines and FHIR Patients', () => {
    expect(parseTable('a,b\n"x, y","say ""hi"""\n')).toEqual([{ a: 'x, y', b: 'say "hi"' }]);
    expect(parseTable('{"a":1}\n{"a":2}\n')).toEqual([{ a: '1' }, { a: '2' }]);
    const bundle = { resourceType: 'Bundle', entry: [{ resource: { resourceType: 'Patient', gender: 'male', birthDate: '1950-01-02', address: [{ postalCode: '02139', state: 'MA' }] } }, { resource: { resourceType: 'Observation' } }] };
    expect(parseTable(JSON.stringify(bundle))).toEqual([{ birthDate: '1950-01-02', gender: 'male', zip: '02139', state: 'MA' }]);
  });
  it('refuses text that is not a table', () => expect(() => parseTable('{not json')).toThrow(/neither CSV/));
});
