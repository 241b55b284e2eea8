import type { Detection } from '../detection.js';
import type { PhiType } from '../phi-type.js';

/** Per-document memory an operator may use for consistency ("[NAME-1]" twice for one name). */
export interface DocumentState {
  readonly placeholders: Map<string, string>;
  readonly counters: Map<PhiType, number>;
}

export function newDocumentState(): DocumentState {
  return { placeholders: new Map(), counters: new Map() };
}

export interface OperatorInput {
  /** The original text of the span (never logged). */
  readonly original: string;
  readonly detection: Detection;
  readonly state: DocumentState;
}

/** Turns one detected identifier into its replacement. Pure apart from `state`. */
export interface Operator {
  readonly name: string;
  replace(input: OperatorInput): string;
}

/** Case- and space-insensitive identity of a span's text, for consistency maps. */
export function normalizeOriginal(original: string): string {
  return original.toLowerCase().replace(/\s+/g, ' ').replace(/[.,]$/, '').trim();
}
