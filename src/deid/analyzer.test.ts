import { describe, expect, it } from 'vitest';
import { analyze } from './analyzer.js';
import type { Detection } from './detection.js';
import { PHI_TYPES } from './phi-type.js';
import type { Recognizer } from './recognizer.js';
import { resolveOverlaps } from './resolve-overlaps.js';
import { analyzeText, testDictionaries, uncovered } from './testing/detect-text.js';

describe('analyze: what must not be flagged', () => {
  it.each([
    "72 yo M with Parkinson's disease and Crohn's, Apgar 9/9 at birth (history).",
    'Foley catheter in place; Swan-Ganz removed; Holter monitor for 48 hours.',
    'Metformin 1000 mg PO BID, lisinopril 20 mg daily, atorvastatin 40 mg qHS, insulin glargine 22 units.',
    'BP 142/88, HR 96, RR 18, SpO2 94% RA, T 37.9 C, weight 58.2 kg, BMI 27.1.',
    'Labs: WBC 11.2, Hgb 10.4, Plt 250, Na 138, K 4.1, Cr 1.3, HbA1c 7.8%, INR 2.4, LDL 142.',
    'Diagnoses: E11.9, I10, N18.3, J44.1; LOINC 4548-4 and 2345-7 resulted.',
    'She is 45 years old; her mother died at 89; quit smoking in 1998; surgery in 2019.',
    'ASSESSMENT AND PLAN: Continue current regimen. Follow up in 2 weeks. Return precautions given.',
    'Will start furosemide. Hope to discharge tomorrow if she can walk 200 feet with PT.',
    'Normal sinus rhythm, no ST changes. Chest x-ray clear. Glasgow Coma Scale 15.',
  ])('%s', (text) => expect(analyzeText(text)).toEqual([]));
});

describe('analyze: detections', () => {
  it('returns sorted, non-overlapping spans with a known type, a confidence and an explanation', () => {
    const text = 'Pt John Smith (MRN 00482113) seen 03/04/2023 at Mercy General Hospital; call 217-555-0143.';
    const found = analyze(text, testDictionaries());
    expect(found.map((d) => d.type)).toEqual(['NAME', 'MRN', 'DATE', 'LOCATION', 'PHONE']);
    for (let i = 1; i < found.length; i += 1) expect(found[i]?.start).toBeGreaterThanOrEqual(found[i - 1]?.end ?? 0);
    for (const d of found) {
      expect(PHI_TYPES).toContain(d.type);
      expect(d.confidence).toBeGreaterThanOrEqual(0.4);
      expect(d.confidence).toBeLessThanOrEqual(1);
      expect(d.explanation.pattern.length).toBeGreaterThan(0);
    }
    expect(found.find((d) => d.type === 'MRN')?.explanation.contextWord).toBe('mrn');
  });

  it('raises confidence by context and says so', () => {
    const withContext = analyze('DOB 3/4', testDictionaries())[0];
    const without = analyze('reviewed 3/4', testDictionaries())[0];
    expect(withContext?.explanation.contextBoost).toBeGreaterThan(0);
    expect(without?.explanation.contextBoost).toBeUndefined();
    expect(withContext?.confidence ?? 0).toBeGreaterThan(without?.confidence ?? 1);
  });

  it('joins a facility, its city and state into one location reference', () => {
    expect(uncovered('seen at Mayo Clinic in Rochester, MN on 3/4/2022', 'Mayo Clinic in Rochester, MN')).toBe('');
  });

  it('honours a custom recognizer registry and threshold', () => {
    const always: Recognizer = {
      name: 'test',
      types: ['OTHER_ID'],
      detect: () => [{ start: 0, end: 3, type: 'OTHER_ID', confidence: 0.3, recognizer: 'test', explanation: { pattern: 'x' } }],
    };
    expect(analyze('abc def', testDictionaries(), { recognizers: [always] })).toEqual([]);
    expect(analyze('abc def', testDictionaries(), { recognizers: [always], minConfidence: 0.2 })).toHaveLength(1);
  });
});

describe('resolveOverlaps', () => {
  const d = (start: number, end: number, confidence: number, type: Detection['type'] = 'NAME'): Detection => ({
    start, end, type, confidence, recognizer: 'r', explanation: { pattern: 'p' },
  });
  it('covers the union of a cluster and keeps the most confident type', () => {
    expect(resolveOverlaps([d(0, 5, 0.6, 'NAME'), d(3, 9, 0.9, 'LOCATION'), d(20, 22, 0.5)])).toEqual([
      { ...d(0, 9, 0.9, 'LOCATION') },
      d(20, 22, 0.5),
    ]);
  });
  it('keeps adjacent spans apart and prefers the longer span on a tie', () => {
    expect(resolveOverlaps([d(0, 3, 0.5), d(3, 6, 0.5)])).toHaveLength(2);
    expect(resolveOverlaps([d(0, 3, 0.5, 'NAME'), d(0, 6, 0.5, 'DATE')])[0]?.type).toBe('DATE');
  });
});
