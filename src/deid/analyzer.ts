import { analysisContext } from './analysis-context.js';
import { boostByContext } from './context-boost.js';
import { DEFAULT_RECOGNIZERS } from './default-recognizers.js';
import type { Detection } from './detection.js';
import type { DeidDictionaries } from './dictionaries.js';
import type { Recognizer } from './recognizer.js';
import { joinLocationPhrases } from './join-location-phrases.js';
import { resolveOverlaps } from './resolve-overlaps.js';

export interface AnalyzeOptions {
  /** Detections below this confidence are dropped before overlaps are merged. Default 0.4. */
  readonly minConfidence?: number;
  /** Replace the default registry (tests, or a deployment adding its own recognizer). */
  readonly recognizers?: readonly Recognizer[];
}

export const DEFAULT_MIN_CONFIDENCE = 0.4;

/**
 * The analyzer: runs every recognizer over the text once, raises confidence by context, drops
 * what is below the threshold and merges overlaps. Pure and synchronous; dictionaries are handed
 * in. Location pieces of one reference are joined (join-location-phrases.ts). Returns non-overlapping detections sorted by start.
 */
export function analyze(text: string, dictionaries: DeidDictionaries, options: AnalyzeOptions = {}): Detection[] {
  const context = analysisContext(text, dictionaries);
  const recognizers = options.recognizers ?? DEFAULT_RECOGNIZERS;
  const min = options.minConfidence ?? DEFAULT_MIN_CONFIDENCE;
  const raw: Detection[] = [];
  for (const r of recognizers) {
    const found = r.detect(context);
    for (let i = 0; i < found.length; i += 1) raw.push(found[i] as Detection);
  }
  const kept = boostByContext(text, raw).filter((d) => d.confidence >= min);
  return joinLocationPhrases(text, resolveOverlaps(kept));
}
