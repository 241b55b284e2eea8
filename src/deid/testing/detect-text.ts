/**
 * Test support (imported by *.test.ts only): the real dictionaries, loaded once per test file,
 * and a compact view of what a recognizer or the analyzer found.
 */
import { analysisContext } from '../analysis-context.js';
import { analyze } from '../analyzer.js';
import type { DeidDictionaries } from '../dictionaries.js';
import { loadDictionaries } from '../load-dictionaries.js';
import type { PhiType } from '../phi-type.js';
import type { Recognizer } from '../recognizer.js';

let cached: DeidDictionaries | undefined;

export function testDictionaries(): DeidDictionaries {
  cached ??= loadDictionaries();
  return cached;
}

export interface Found {
  readonly text: string;
  readonly type: PhiType;
}

export function detectWith(recognizer: Recognizer, text: string): Found[] {
  return recognizer.detect(analysisContext(text, testDictionaries())).map((d) => ({ text: text.slice(d.start, d.end), type: d.type }));
}

export function analyzeText(text: string): Found[] {
  return analyze(text, testDictionaries()).map((d) => ({ text: text.slice(d.start, d.end), type: d.type }));
}

/** Letters and digits of `needle` inside `text` that no detection covers ('' when fully masked). */
export function uncovered(text: string, needle: string): string {
  const at = text.indexOf(needle);
  if (at < 0) throw new Error('needle not in text');
  const cov = new Uint8Array(text.length);
  for (const d of analyze(text, testDictionaries())) cov.fill(1, d.start, d.end);
  let out = '';
  for (let i = at; i < at + needle.length; i += 1) if (cov[i] === 0 && /[\p{L}\p{N}]/u.test(text.charAt(i))) out += text.charAt(i);
  return out;
}
