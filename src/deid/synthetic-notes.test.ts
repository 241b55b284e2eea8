import { describe, expect, it } from 'vitest';
import { analyze } from './analyzer.js';
import { SYNTHETIC_NOTES, type LabelledNote } from './fixtures/synthetic-notes.js';
import { testDictionaries } from './testing/detect-text.js';

const ALNUM = /[\p{L}\p{N}]/u;

function score(note: LabelledNote): { missed: string[]; precision: number } {
  const cov = new Uint8Array(note.text.length);
  for (const d of analyze(note.text, testDictionaries())) cov.fill(1, d.start, d.end);
  const gold = new Uint8Array(note.text.length);
  for (const s of note.spans) gold.fill(1, s.start, s.end);
  const missed = note.spans.filter((s) => [...note.text.slice(s.start, s.end)].some((c, i) => ALNUM.test(c) && cov[s.start + i] === 0)).map((s) => `${s.type}:${s.text}`);
  let predicted = 0;
  let correct = 0;
  for (let i = 0; i < note.text.length; i += 1) {
    if (cov[i] === 1 && ALNUM.test(note.text.charAt(i))) {
      predicted += 1;
      if (gold[i] === 1) correct += 1;
    }
  }
  return { missed, precision: predicted === 0 ? 1 : correct / predicted };
}

describe('long synthetic notes of every kind', () => {
  it('has labelled identifiers of many types', () => {
    const types = new Set(SYNTHETIC_NOTES.flatMap((n) => n.spans.map((s) => s.type)));
    expect(types.size).toBeGreaterThanOrEqual(16);
    for (const n of SYNTHETIC_NOTES) for (const s of n.spans) expect(n.text.slice(s.start, s.end)).toBe(s.text);
  });

  it.each(SYNTHETIC_NOTES.map((n) => [n.name, n] as const))('%s: every identifier fully masked, character precision >= 0.9', (_name, note) => {
    const { missed, precision } = score(note);
    expect(missed).toEqual([]);
    expect(precision).toBeGreaterThanOrEqual(0.9);
  });
});
