import { before } from '../text-context.js';
import type { PatternVerdict } from './pattern-recognizer.js';

export interface ChecksumOrLabelConfidence {
  /** Check digit passes and the label is there. */
  readonly both: number;
  /** Check digit passes, no label. */
  readonly checksum: number;
  /** Label only: a mistyped number still identifies someone. */
  readonly label: number;
}

/**
 * Validation shared by check-digit identifiers (NPI, DEA, VIN): a match counts when its check
 * digit passes or its label stands just before it; the explanation says which.
 */
export function checksumOrLabel(
  isValid: (candidate: string) => boolean,
  label: RegExp,
  confidence: ChecksumOrLabelConfidence,
): (match: RegExpExecArray, text: string) => PatternVerdict | undefined {
  return (m, text) => {
    const valid = isValid(m[0]);
    const word = label.exec(before(text, m.index, 24))?.[0];
    if (!valid && word === undefined) return undefined;
    return {
      confidence: valid && word !== undefined ? confidence.both : valid ? confidence.checksum : confidence.label,
      explanation: { validation: valid ? 'passed' : 'failed', ...(word !== undefined ? { contextWord: word } : {}) },
    };
  };
}
