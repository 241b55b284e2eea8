import type { DeidDictionaries } from './dictionaries.js';
import { textFeatures, type TextFeatures } from './text-features.js';
import { tokenize, type Token } from './tokenize.js';

/** What every recognizer sees: the text, its tokens and features (computed once) and the dictionaries. */
export interface AnalysisContext {
  readonly text: string;
  readonly tokens: readonly Token[];
  readonly features: TextFeatures;
  readonly dictionaries: DeidDictionaries;
}

export function analysisContext(text: string, dictionaries: DeidDictionaries): AnalysisContext {
  const tokens = tokenize(text);
  return { text, tokens, features: textFeatures(text), dictionaries };
}
