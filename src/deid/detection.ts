import type { PhiType } from './phi-type.js';

/**
 * Why a span was flagged, as data (a reviewer or auditor reads it; nothing parses prose):
 * the pattern or rule that fired, the outcome of a checksum or range validation, and the
 * context word that raised the confidence. Never holds the matched text itself.
 */
export interface Explanation {
  readonly pattern: string;
  readonly validation?: 'passed' | 'failed' | 'not_applicable';
  readonly contextWord?: string;
  readonly contextBoost?: number;
}

/** One finding: offsets are JavaScript string indices into the analyzed text, end-exclusive. */
export interface Detection {
  readonly start: number;
  readonly end: number;
  readonly type: PhiType;
  /** 0..1: how sure the recognizer is that this is an identifier of this type. */
  readonly confidence: number;
  readonly recognizer: string;
  readonly explanation: Explanation;
}

export function detection(
  start: number,
  end: number,
  type: PhiType,
  confidence: number,
  recognizer: string,
  explanation: Explanation,
): Detection {
  return { start, end, type, confidence, recognizer, explanation };
}
