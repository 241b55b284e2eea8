import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { analysisContext, type AnalysisContext } from './analysis-context.js';
import { DEFAULT_RECOGNIZERS } from './default-recognizers.js';
import { hasChars, hasWordRunOfLength, textFeatures, type TextFeatures } from './text-features.js';
import { testDictionaries } from './testing/detect-text.js';

/** Features that let every gate pass: what the recognizers would find with no gating at all. */
const OPEN: TextFeatures = {
  digits: Number.MAX_SAFE_INTEGER,
  maxDigitRun: Number.MAX_SAFE_INTEGER,
  colons: Number.MAX_SAFE_INTEGER,
  hyphens: Number.MAX_SAFE_INTEGER,
  ascii: [-1, -1, -1],
  wordRunLengths: -1,
};

function findAll(context: AnalysisContext): string[] {
  return DEFAULT_RECOGNIZERS.flatMap((r) => r.detect(context).map((d) => `${r.name}:${d.start}-${d.end}:${d.type}:${d.confidence}`));
}

/** Fragments that make identifier shapes likely, so the property exercises every pattern. */
const FRAGMENT = fc.constantFrom(
  '1', '12', '123', '2023', '55109', '4412', '0', '9', '1B', 'ab', '3A:', 'B7-', ' ', ' ', '  ', '\n', '/', '-', '.', ',', ':', '::', '@', '+', '#', '(', ')', '(01)',
  'Jan', 'March', 'may', 'MRN', 'SSN', 'NPI', 'DEA', 'VIN', 'ID', 'Ref', 'age', 'ninety', 'www.', 'http://', '.com', 'x', 'AB', 'Z',
  'Street', 'St', 'TX', 'County', 'Apt', 'yo', 'M', 'fax', 'phone', 'a', 'b.org', 'é',
);

describe('text features and pattern gates', () => {
  it('counts digits, the longest digit run, characters and token lengths', () => {
    const text = 'MRN 00482113, call 612-555-0187 @ home';
    const f = textFeatures(text);
    expect(f.digits).toBe(18);
    expect(f.maxDigitRun).toBe(8);
    expect(hasChars(f, '@-,')).toBe(true);
    expect(hasChars(f, '/')).toBe(false);
    expect(hasWordRunOfLength(f, 8)).toBe(true);
    expect(hasWordRunOfLength(f, 9)).toBe(false);
    // Runs are ASCII word characters: a letter with a diacritic ends one, "_" does not.
    expect(hasWordRunOfLength(textFeatures('AB1234563é'), 9)).toBe(true);
    expect(hasWordRunOfLength(textFeatures('x_AB1234563'), 9)).toBe(false);
  });

  it('gates never change what a recognizer finds (property)', () => {
    const d = testDictionaries();
    fc.assert(
      fc.property(fc.array(FRAGMENT, { maxLength: 40 }), (parts) => {
        const text = parts.join('');
        const gated = analysisContext(text, d);
        const open: AnalysisContext = { ...analysisContext(text, d), features: OPEN };
        expect(findAll(gated)).toEqual(findAll(open));
      }),
      { numRuns: 3000 },
    );
  });
});
