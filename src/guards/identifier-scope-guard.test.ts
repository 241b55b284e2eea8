/** The out-of-scope-patient guard: candidates from detections, then a verdict from the owners. All data synthetic. */
import { describe, expect, it } from 'vitest';
import { analyze } from '../deid/analyzer.js';
import { detection, type Detection } from '../deid/detection.js';
import type { PhiType } from '../deid/phi-type.js';
import { testDictionaries } from '../deid/testing/detect-text.js';
import { identifierCandidates, identifierScopeVerdict, normalizeIdentifier, type IdentifierCandidate } from './identifier-scope-guard.js';

function det(text: string, needle: string, type: PhiType): Detection {
  const start = text.indexOf(needle);
  if (start < 0) throw new Error('needle not in text');
  return detection(start, start + needle.length, type, 0.9, 'test', { pattern: 'test' });
}

function cand(value: string, type: PhiType = 'MRN'): IdentifierCandidate {
  return { type, value, start: 0, end: value.length };
}

describe('identifierCandidates', () => {
  it('keeps strong identifiers only, normalized, with their offsets', () => {
    const text = 'Jane Roe, SSN 123 45 6789, MRN (A-55012), plan: HP-0099; seen 2024-03-04.';
    const detections = [
      det(text, 'Jane Roe', 'NAME'),
      det(text, '123 45 6789', 'SSN'),
      det(text, '(A-55012),', 'MRN'),
      det(text, ' HP-0099;', 'HEALTH_PLAN'),
      det(text, '2024-03-04', 'DATE'),
    ];
    expect(identifierCandidates(text, detections)).toEqual([
      { type: 'SSN', value: '123-45-6789', start: 14, end: 25 },
      { type: 'MRN', value: 'A-55012', start: 31, end: 41 },
      { type: 'HEALTH_PLAN', value: 'HP-0099', start: 47, end: 56 },
    ]);
  });

  it('normalizes SSNs so every spelling of one number matches, and drops what names no one', () => {
    expect(normalizeIdentifier('SSN', '123456789')).toBe('123-45-6789');
    expect(normalizeIdentifier('SSN', '123-45-6789')).toBe('123-45-6789');
    expect(normalizeIdentifier('SSN', 'XXX-XX-6789')).toBeUndefined();
    expect(normalizeIdentifier('OTHER_ID', ' #@! ')).toBeUndefined();
    expect(normalizeIdentifier('ACCOUNT', '"99-123456".')).toBe('99-123456');
  });

  it('works on the analyzer output for a synthetic answer', () => {
    const text = 'Her SSN 123456789 and member ID: ABC123456 match; the other chart lists 123-45-6789.';
    const candidates = identifierCandidates(text, analyze(text, testDictionaries()));
    expect(candidates.map((c) => [c.type, c.value])).toEqual([
      ['SSN', '123-45-6789'],
      ['HEALTH_PLAN', 'ABC123456'],
      ['SSN', '123-45-6789'],
    ]);
  });
});

describe('identifierScopeVerdict', () => {
  const owners = new Map<string, readonly string[]>([
    ['MRN-1', ['patient-a']],
    ['MRN-2', ['patient-b']],
    ['PLAN-F', ['patient-a', 'patient-b']],
  ]);

  it("passes the scope patient's own identifiers and counts the unknown ones as unresolved", () => {
    expect(identifierScopeVerdict({ candidates: [cand('MRN-1'), cand('X-9', 'OTHER_ID')], owners, scopePatient: 'patient-a' })).toEqual({ ok: true, unresolved: 1 });
  });

  it("blocks another patient's identifier and reports types and count, never values", () => {
    const verdict = identifierScopeVerdict({
      candidates: [cand('MRN-1'), cand('MRN-2'), cand('MRN-2', 'OTHER_ID'), cand('NOPE')],
      owners,
      scopePatient: 'patient-a',
    });
    expect(verdict).toEqual({ ok: false, code: 'guard.out_of_scope_patient', types: ['MRN', 'OTHER_ID'], count: 2 });
    expect(JSON.stringify(verdict)).not.toContain('MRN-2');
  });

  it('allows a shared identifier only when the scope patient is among its owners', () => {
    expect(identifierScopeVerdict({ candidates: [cand('PLAN-F', 'HEALTH_PLAN')], owners, scopePatient: 'patient-b' })).toEqual({ ok: true, unresolved: 0 });
    expect(identifierScopeVerdict({ candidates: [cand('PLAN-F', 'HEALTH_PLAN')], owners, scopePatient: 'patient-c' })).toMatchObject({
      ok: false,
      types: ['HEALTH_PLAN'],
      count: 1,
    });
  });

  it('without a scope patient, blocks any identifier a known patient owns', () => {
    expect(identifierScopeVerdict({ candidates: [cand('MRN-1')], owners })).toMatchObject({ ok: false, count: 1 });
    expect(identifierScopeVerdict({ candidates: [cand('NOPE')], owners })).toEqual({ ok: true, unresolved: 1 });
    expect(identifierScopeVerdict({ candidates: [], owners })).toEqual({ ok: true, unresolved: 0 });
  });

  it('treats an empty owner list as unresolved, not as owned', () => {
    expect(identifierScopeVerdict({ candidates: [cand('MRN-9')], owners: new Map([['MRN-9', []]]), scopePatient: 'patient-a' })).toEqual({ ok: true, unresolved: 1 });
  });
});
