/** The stream holdback: nothing lost, the tail held, never half a word released. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StreamHoldback } from './stream-holdback.js';
import { WardError } from '../shared/ward-error.js';

/** Splits `text` at the given (sorted, deduplicated) cut points. */
function split(text: string, cuts: number[]): string[] {
  const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
  const parts: string[] = [];
  let from = 0;
  for (const p of points) {
    parts.push(text.slice(from, p));
    from = p;
  }
  parts.push(text.slice(from));
  return parts;
}

const isSpace = (ch: string | undefined): boolean => ch !== undefined && /\s/.test(ch);

// Words and placeholders separated by assorted whitespace: the shapes a model streams.
const word = fc.oneof(fc.string({ unit: fc.constantFrom('a', 'B', '7', '-', '[', ']', 'é'), minLength: 1, maxLength: 12 }), fc.constantFrom('[NAME-1]', '123-45-6789', 'MRN:A55012'));
const streamText = fc.array(fc.tuple(word, fc.constantFrom(' ', '\n', '\t', '  ', '\u00a0')), { maxLength: 40 }).map((ws) => ws.map(([w, s]) => w + s).join(''));
const anyText = fc.oneof(streamText, fc.string({ maxLength: 200 }));

describe('StreamHoldback', () => {
  it('releases everything before the held tail, cut at a word boundary', () => {
    const h = new StreamHoldback(10);
    expect(h.push('Patient is')).toBe('');
    expect(h.push(' stable, see [NA')).toBe('Patient is ');
    expect(h.push('ME-1] tomorrow')).toBe('stable, see ');
    expect(h.released).toBe('Patient is stable, see '.length);
    expect(h.end()).toBe('[NAME-1] tomorrow');
    expect(h.text).toBe('Patient is stable, see [NAME-1] tomorrow');
  });

  it('holds a long run without whitespace until it ends', () => {
    const h = new StreamHoldback(4);
    expect(h.push('ok ')).toBe('');
    expect(h.push('x'.repeat(50))).toBe('ok ');
    expect(h.push('y'.repeat(50))).toBe('');
    expect(h.push(' and more text')).toBe(`${'x'.repeat(50)}${'y'.repeat(50)} and more `);
  });

  it('with holdChars 0 still never releases a word that may continue', () => {
    const h = new StreamHoldback(0);
    expect(h.push('123-45')).toBe('');
    expect(h.push('-6789 is')).toBe('123-45-6789 ');
    expect(h.end()).toBe('is');
  });

  it('refuses pushes after end and a negative hold', () => {
    const h = new StreamHoldback();
    h.end();
    expect(() => h.push('x')).toThrow(WardError);
    expect(() => new StreamHoldback(-1)).toThrow(WardError);
  });

  it('property: releases + end reassemble the input for any split', () => {
    fc.assert(
      fc.property(anyText, fc.array(fc.nat(), { maxLength: 30 }), fc.nat({ max: 80 }), (text, cuts, hold) => {
        const h = new StreamHoldback(hold);
        let out = '';
        for (const part of split(text, cuts)) out += h.push(part);
        out += h.end();
        expect(out).toBe(text);
        expect(h.text).toBe(text);
        expect(h.released).toBe(text.length);
      }),
    );
  });

  it('property: a release never cuts a word that continues, and never reaches into the held tail', () => {
    fc.assert(
      fc.property(anyText, fc.array(fc.nat(), { maxLength: 30 }), fc.nat({ max: 80 }), (text, cuts, hold) => {
        const h = new StreamHoldback(hold);
        let releasedSoFar = 0;
        let pushed = 0;
        for (const part of split(text, cuts)) {
          pushed += part.length;
          const out = h.push(part);
          releasedSoFar += out.length;
          expect(h.released).toBe(releasedSoFar);
          if (out === '') continue;
          // Held tail: at least `hold` characters of what was pushed stay back.
          expect(releasedSoFar).toBeLessThanOrEqual(pushed - hold);
          // Word boundary in the final text: one side of the cut is whitespace.
          expect(isSpace(text[releasedSoFar - 1]) || isSpace(text[releasedSoFar])).toBe(true);
        }
      }),
    );
  });
});
