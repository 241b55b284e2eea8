/**
 * Streaming answers must be guarded before bytes leave (a byte sent cannot be recalled). The
 * holdback keeps the last `holdChars` characters of what the model produced, and never releases
 * part of a word: the release point moves back to the last whitespace, so an identifier or a
 * `[NAME-1]` placeholder split across deltas is released whole or not at all. The caller runs
 * its guards over `text` (everything so far) before sending what `push` returned, and stops the
 * stream (sending nothing more) when a guard objects.
 *
 * A run without whitespace longer than `holdChars` is held until it ends (or until `end()`):
 * latency for a long token, never a half-released one. Pure; whitespace is `\s` (Unicode).
 */
import { WardError } from '../shared/ward-error.js';

export class StreamHoldback {
  private buffer = '';
  private releasedChars = 0;
  private ended = false;
  /** Characters before this index have been scanned for whitespace. */
  private scanned = 0;
  /** Index of the last whitespace before `scanned` (-1: none). */
  private lastSpace = -1;

  constructor(private readonly holdChars = 64) {
    if (!Number.isInteger(holdChars) || holdChars < 0) {
      throw new WardError('config.invalid', 'stream holdback needs holdChars >= 0');
    }
  }

  /** Everything pushed so far (released or not). */
  get text(): string {
    return this.buffer;
  }

  /** How many characters of `text` have been released. */
  get released(): number {
    return this.releasedChars;
  }

  /** Add a delta; returns the text now safe to release ('' when nothing is). */
  push(delta: string): string {
    if (this.ended) throw new WardError('guard.stream_ended', 'the stream holdback has already ended');
    this.buffer += delta;
    const limit = this.buffer.length - this.holdChars;
    if (limit <= this.releasedChars) return '';
    // Cut at `limit` only if a word ends there (whitespace after it); otherwise just after the
    // last whitespace before it. Either way one side of the cut is whitespace. `limit` only
    // grows, so each character is scanned once (a long run without whitespace stays linear).
    for (; this.scanned < limit; this.scanned++) {
      if (isSpace(this.buffer.charCodeAt(this.scanned))) this.lastSpace = this.scanned;
    }
    const cut = limit < this.buffer.length && isSpace(this.buffer.charCodeAt(limit)) ? limit : this.lastSpace + 1;
    if (cut <= this.releasedChars) return '';
    const out = this.buffer.slice(this.releasedChars, cut);
    this.releasedChars = cut;
    return out;
  }

  /** The stream is complete: everything not yet released. Later pushes throw. */
  end(): string {
    this.ended = true;
    const out = this.buffer.slice(this.releasedChars);
    this.releasedChars = this.buffer.length;
    return out;
  }
}

const SPACE = /\s/;

function isSpace(code: number): boolean {
  return SPACE.test(String.fromCharCode(code));
}
