import type { DeidDictionaries } from './dictionaries.js';
import { tokenize, type Token } from './tokenize.js';

/** What every recognizer sees: the text, its tokens (computed once) and the dictionaries. */
export interface AnalysisContext {
  readonly text: string;
  readonly tokens: readonly Token[];
  readonly dictionaries: DeidDictionaries;
}

export function analysisContext(text: string, dictionaries: DeidDictionaries): AnalysisContext {
  return { text, tokens: tokenize(text), dictionaries };
}
