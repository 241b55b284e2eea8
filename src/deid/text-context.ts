/**
 * Context look-ups around a span, bounded to a small window so they cost O(window), not O(text).
 */

/** The lower-cased text just before `start` (at most `window` characters). */
export function before(text: string, start: number, window = 32): string {
  return text.slice(Math.max(0, start - window), start).toLowerCase();
}

/** The lower-cased text just after `end` (at most `window` characters). */
export function after(text: string, end: number, window = 32): string {
  return text.slice(end, end + window).toLowerCase();
}

/** The first context word from `words` found in the window before `start`, if any. */
export function contextWordBefore(text: string, start: number, words: RegExp, window = 32): string | undefined {
  const m = words.exec(before(text, start, window));
  return m?.[0];
}
