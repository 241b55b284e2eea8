import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { tokenize, WORD_PATTERN } from './tokenize.js';

/** The words WORD_PATTERN finds, minus a possessive "'s": what the scanner must return. */
function reference(text: string): { start: number; end: number }[] {
  return [...text.matchAll(WORD_PATTERN)].map((m) => {
    const raw = m[0];
    const possessive = raw.length > 2 && /['’][sS]$/.test(raw);
    return { start: m.index, end: m.index + raw.length - (possessive ? 2 : 0) };
  });
}

const spans = (text: string): { start: number; end: number }[] => tokenize(text).map((t) => ({ start: t.start, end: t.end }));

describe('tokenize', () => {
  it.each([
    ["O'Brien's MRI", ["O'Brien", 'MRI']],
    ['Smith-Jones, Müller; José’s', ['Smith-Jones', 'Müller', 'José']],
    ['a--b x- -y 3/4 12Apr2023', ['a', 'b', 'x', 'y', '3', '4', '12Apr2023']],
    ['𝐀bc 日本語 ١٢٣', ['𝐀bc', '日本語', '١٢٣']],
  ])('%s', (text, words) => {
    expect(tokenize(text).map((t) => t.text)).toEqual(words);
  });

  it('keys: lower case, folded, digits kept as written', () => {
    expect(tokenize('Müller O’NEIL Ab12 smith').map((t) => t.key)).toEqual(['muller', "o'neil", 'Ab12', 'smith']);
  });

  it('matches the word pattern on random text (property)', () => {
    const alphabet = fc.constantFrom('a', 'Z', '7', "'", '’', '-', ' ', 's', 'S', 'é', '\u0301', '日', '𝐀', '\ud800', '.', '_');
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'grapheme', maxLength: 80 }), fc.string({ unit: alphabet, maxLength: 80 })), (text) => {
        expect(spans(text)).toEqual(reference(text));
      }),
      { numRuns: 2000 },
    );
  });
});
