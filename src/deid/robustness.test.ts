import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { analyze } from './analyzer.js';
import { anonymize } from './anonymize.js';
import { placeholderOperator } from './operators/placeholder-operator.js';
import { testDictionaries } from './testing/detect-text.js';

const d = testDictionaries();

/** Fastest of five runs, in ms: the minimum is the least disturbed by a busy machine. */
function fastest(text: string): number {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 5; i += 1) {
    const t = performance.now();
    analyze(text, d);
    best = Math.min(best, performance.now() - t);
  }
  return best;
}

/**
 * Inputs built to make a backtracking regex go quadratic: long runs of what a pattern's prefix
 * accepts with the suffix it needs missing (no "@" after a local part, digits without a
 * separator, capitalised words without a street suffix, a label with an endless filler).
 */
const ADVERSARIAL: readonly [string, (n: number) => string][] = [
  ['local part without @', (n) => 'a.'.repeat(n)],
  ['digits', (n) => '1'.repeat(n * 2)],
  ['dotted digits', (n) => '1.'.repeat(n)],
  ['colons', (n) => 'a:'.repeat(n)],
  ['capitalised words', (n) => 'Aa '.repeat(n)],
  ['street number + words', (n) => `12 ${'Oak '.repeat(n)}`],
  ['label fillers', (n) => `MRN ${': '.repeat(n)}`],
  ['slashes', (n) => '1/'.repeat(n)],
  ['hyphen groups', (n) => 'A1-'.repeat(n)],
  ['url without end', (n) => `http://${'a'.repeat(n * 2)}`],
  ['plus digits', (n) => `+1 ${'1 '.repeat(n)}`],
  ['hex pairs', (n) => '1B:'.repeat(n)],
  ['id words and codes', (n) => 'code A1B2C3 '.repeat(n)],
  ['hyphenated names after "in"', (n) => `treated in ${'Aa-'.repeat(n)}Aa`],
];

describe('robustness', () => {
  it('never throws and returns in-range spans on random Unicode (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 300 }), (text) => {
        const found = analyze(text, d);
        let prevEnd = 0;
        for (const s of found) {
          expect(s.start).toBeGreaterThanOrEqual(prevEnd);
          expect(s.end).toBeGreaterThan(s.start);
          expect(s.end).toBeLessThanOrEqual(text.length);
          prevEnd = s.end;
        }
        expect(typeof anonymize(text, found, placeholderOperator).text).toBe('string');
      }),
      { numRuns: 300 },
    );
  });

  it('handles a 1 MB line', () => {
    const line = 'Pt John Smith seen 3/4/2023 at Mercy Hospital, MRN 00482113, call 612-555-0187. BP 120/80. '.repeat(11_500);
    expect(line.length).toBeGreaterThan(1_000_000);
    const found = analyze(line, d);
    expect(found.length).toBeGreaterThan(50_000);
  });

  it.each(ADVERSARIAL)('time grows linearly on %s (4x input, < 10x time)', (_name, make) => {
    const small = make(20_000);
    const large = make(80_000);
    fastest(large); // warm up the JIT on both sizes first
    // Linear work gives a ratio near 4, quadratic near 16. The best of three ratios, each from
    // the fastest of five runs, keeps a busy shared machine from failing a linear input.
    let ratio = Number.POSITIVE_INFINITY;
    for (let i = 0; i < 3 && ratio >= 10; i += 1) ratio = Math.min(ratio, fastest(large) / Math.max(fastest(small), 1));
    expect(ratio).toBeLessThan(10);
  });
});
