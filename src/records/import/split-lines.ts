/**
 * Splits a byte stream into lines (LF or CRLF, as NDJSON allows: http://ndjson.org/ and the
 * Bulk Data IG output format https://hl7.org/fhir/uv/bulkdata/STU2/export.html#bulk-data-output-file-format)
 * holding at most one line in memory. A line longer than `maxLineBytes` is dropped as it
 * streams and reported as too long, so one runaway line cannot exhaust memory.
 */
export type Line = { number: number; text: string } | { number: number; tooLong: true };

const LF = 0x0a;

export async function* splitLines(chunks: AsyncIterable<Buffer>, maxLineBytes: number): AsyncGenerator<Line> {
  let parts: Buffer[] = [];
  let size = 0;
  let tooLong = false;
  let number = 0;

  const finish = (): Line => {
    number += 1;
    if (tooLong) return { number, tooLong: true };
    let text = Buffer.concat(parts, size).toString('utf8');
    if (text.endsWith('\r')) text = text.slice(0, -1);
    // A UTF-8 byte order mark is not part of the first line's JSON.
    if (number === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    return { number, text };
  };
  const append = (piece: Buffer): void => {
    if (tooLong) return;
    if (size + piece.length > maxLineBytes) {
      tooLong = true;
      parts = [];
      size = 0;
      return;
    }
    parts.push(piece);
    size += piece.length;
  };

  for await (const chunk of chunks) {
    let start = 0;
    for (;;) {
      const end = chunk.indexOf(LF, start);
      if (end === -1) {
        if (start < chunk.length) append(chunk.subarray(start));
        break;
      }
      append(chunk.subarray(start, end));
      yield finish();
      parts = [];
      size = 0;
      tooLong = false;
      start = end + 1;
    }
  }
  if (size > 0 || tooLong) yield finish();
}
