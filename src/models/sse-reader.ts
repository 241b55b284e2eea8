/**
 * Server-sent events (WHATWG HTML "Server-sent events", 9.2.6 parsing) as OpenAI-compatible
 * servers send them: `data:` lines, events ended by a blank line (LF, CRLF or CR line ends),
 * `:` comments, and `data: [DONE]` as the end of the stream. Only `data` matters here; `event`,
 * `id` and `retry` are read and ignored. Lines and events are bounded so a server that never
 * sends a line end cannot make Ward buffer without limit.
 */
import { WardError } from '../shared/ward-error.js';

export type SseMessage = { readonly kind: 'data'; readonly data: string } | { readonly kind: 'done' };

export interface SseReaderOptions {
  /** Longest line or event (characters) before the stream is refused. Default 1 MiB. */
  readonly maxLineChars?: number;
}

const DEFAULT_MAX_LINE_CHARS = 1024 * 1024;

function tooLong(): WardError {
  return new WardError('model.upstream_invalid', 'the model server sent an over-long event', { status: 502 });
}

/**
 * Yields each event's data (multi-line `data:` joined with LF), then `{kind: 'done'}` and
 * returns when `data: [DONE]` arrives. A stream that ends without `[DONE]` just ends (an event
 * cut off by the end of the stream is dropped, as the standard says); the caller decides
 * whether that is complete.
 */
export async function* readSse(source: AsyncIterable<Uint8Array>, options: SseReaderOptions = {}): AsyncGenerator<SseMessage> {
  const max = options.maxLineChars ?? DEFAULT_MAX_LINE_CHARS;
  const decoder = new TextDecoder('utf-8');
  let pending = '';
  let skipLf = false; // the previous chunk ended with CR: a leading LF completes that CRLF
  let data: string[] = [];
  let dataChars = 0;

  // Returns a message to yield when the line completes an event.
  const takeLine = (line: string): SseMessage | undefined => {
    if (line === '') {
      if (data.length === 0) return undefined;
      const joined = data.join('\n');
      data = [];
      dataChars = 0;
      return joined === '[DONE]' ? { kind: 'done' } : { kind: 'data', data: joined };
    }
    if (line.startsWith(':')) return undefined;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    if (field !== 'data') return undefined;
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    dataChars += value.length + 1;
    if (dataChars > max) throw tooLong();
    data.push(value);
    return undefined;
  };

  for await (const chunk of source) {
    let text = decoder.decode(chunk, { stream: true });
    if (skipLf && text.startsWith('\n')) text = text.slice(1);
    skipLf = false;
    pending += text;
    let start = 0;
    for (;;) {
      const cr = pending.indexOf('\r', start);
      const lf = pending.indexOf('\n', start);
      const end = cr < 0 ? lf : lf < 0 ? cr : Math.min(cr, lf);
      if (end < 0) break;
      const line = pending.slice(start, end);
      if (pending[end] === '\r') {
        if (end + 1 === pending.length) {
          skipLf = true;
          start = end + 1;
        } else {
          start = pending[end + 1] === '\n' ? end + 2 : end + 1;
        }
      } else {
        start = end + 1;
      }
      const message = takeLine(line);
      if (message !== undefined) {
        yield message;
        if (message.kind === 'done') return;
      }
    }
    pending = pending.slice(start);
    if (pending.length > max) throw tooLong();
  }
}
