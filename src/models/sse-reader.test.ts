import { describe, expect, it } from 'vitest';
import { readSse } from './sse-reader.js';
import type { SseMessage } from './sse-reader.js';

async function* bytes(...parts: (string | Uint8Array)[]): AsyncGenerator<Uint8Array> {
  for (const part of parts) yield typeof part === 'string' ? new TextEncoder().encode(part) : part;
}

async function all(source: AsyncIterable<Uint8Array>, maxLineChars?: number): Promise<SseMessage[]> {
  const out: SseMessage[] = [];
  for await (const m of readSse(source, maxLineChars === undefined ? {} : { maxLineChars })) out.push(m);
  return out;
}

describe('readSse', () => {
  it('reads LF-separated events and stops at [DONE]', async () => {
    const got = await all(bytes('data: {"a":1}\n\ndata: {"a":2}\n\ndata: [DONE]\n\ndata: {"after":true}\n\n'));
    expect(got).toEqual([
      { kind: 'data', data: '{"a":1}' },
      { kind: 'data', data: '{"a":2}' },
      { kind: 'done' },
    ]);
  });

  it('reads CRLF and CR line ends, also split across chunks', async () => {
    const got = await all(bytes('data: one\r', '\n\r', '\ndata: two\r\rdata:three\r\n\r\n'));
    expect(got).toEqual([
      { kind: 'data', data: 'one' },
      { kind: 'data', data: 'two' },
      { kind: 'data', data: 'three' },
    ]);
  });

  it('joins multi-line data, skips comments and other fields', async () => {
    const got = await all(bytes(': keep-alive\n\nevent: x\nid: 7\ndata: a\ndata:  b\nretry: 10\n\n'));
    expect(got).toEqual([{ kind: 'data', data: 'a\n b' }]);
  });

  it('decodes UTF-8 split inside a character and across chunk boundaries', async () => {
    const encoded = new TextEncoder().encode('data: é✓\n\n');
    const got = await all(bytes(encoded.slice(0, 7), encoded.slice(7, 9), encoded.slice(9)));
    expect(got).toEqual([{ kind: 'data', data: 'é✓' }]);
  });

  it('drops an event cut off by the end of the stream', async () => {
    expect(await all(bytes('data: complete\n\ndata: cut'))).toEqual([{ kind: 'data', data: 'complete' }]);
  });

  it('refuses a line longer than the bound, even without a line end', async () => {
    await expect(all(bytes('data: ' + 'x'.repeat(200)), 100)).rejects.toMatchObject({ code: 'model.upstream_invalid' });
    await expect(all(bytes(...Array.from({ length: 50 }, () => 'data: xxxxxxxx\n')), 100)).rejects.toMatchObject({
      code: 'model.upstream_invalid',
    });
  });
});
