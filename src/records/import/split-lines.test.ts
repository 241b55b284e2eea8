import { describe, expect, it } from 'vitest';
import { splitLines } from './split-lines.js';
import type { Line } from './split-lines.js';

async function* chunked(text: string, size: number): AsyncGenerator<Buffer> {
  const bytes = Buffer.from(text, 'utf8');
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

async function lines(text: string, size: number, max = 1024): Promise<Line[]> {
  const out: Line[] = [];
  for await (const l of splitLines(chunked(text, size), max)) out.push(l);
  return out;
}

describe('splitLines', () => {
  it('splits LF and CRLF lines across any chunk boundary, multi-byte characters included', async () => {
    const text = '\ufeff{"a":"é"}\r\n\n{"b":"日本"}\n{"c":1}';
    for (const size of [1, 2, 3, 5, 64]) {
      expect(await lines(text, size)).toEqual([
        { number: 1, text: '{"a":"é"}' },
        { number: 2, text: '' },
        { number: 3, text: '{"b":"日本"}' },
        { number: 4, text: '{"c":1}' },
      ]);
    }
  });

  it('drops a line longer than the limit and goes on with the next', async () => {
    const text = `short\n${'x'.repeat(50)}\nafter\n`;
    for (const size of [1, 7, 100]) {
      expect(await lines(text, size, 20)).toEqual([
        { number: 1, text: 'short' },
        { number: 2, tooLong: true },
        { number: 3, text: 'after' },
      ]);
    }
    expect(await lines('x'.repeat(30), 4, 20)).toEqual([{ number: 1, tooLong: true }]);
  });

  it('yields nothing for an empty stream and no extra line after a final newline', async () => {
    expect(await lines('', 4)).toEqual([]);
    expect(await lines('a\n', 4)).toEqual([{ number: 1, text: 'a' }]);
  });
});
