import type { AnalysisContext } from './analysis-context.js';
import type { Detection } from './detection.js';
import type { PhiType } from './phi-type.js';

/**
 * A recognizer finds one family of identifiers. It is pure: it reads the shared analysis
 * context (text, tokens, dictionaries) and returns detections; it never mutates the context.
 * Patterns must run in linear time: no nested unbounded quantifiers, and a leading `X+` is
 * guarded by a `(?<!X)` look-behind so a failed match is not retried from every position.
 */
export interface Recognizer {
  readonly name: string;
  readonly types: readonly PhiType[];
  detect(context: AnalysisContext): Detection[];
}
