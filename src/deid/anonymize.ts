import type { Detection } from './detection.js';
import { WardError } from '../shared/ward-error.js';
import { newDocumentState, type DocumentState, type Operator } from './operators/operator.js';
import type { PhiType } from './phi-type.js';

export interface AnonymizedItem {
  readonly start: number;
  readonly end: number;
  readonly type: PhiType;
  /** Offsets of the replacement in the output text. */
  readonly outputStart: number;
  readonly outputEnd: number;
  readonly operator: string;
}

export interface AnonymizeResult {
  readonly text: string;
  readonly items: readonly AnonymizedItem[];
}

export type OperatorChoice = Operator | Partial<Record<PhiType, Operator>> & { readonly default: Operator };

function operatorFor(choice: OperatorChoice, type: PhiType): Operator {
  if ('replace' in choice) return choice;
  return choice[type] ?? choice.default;
}

/**
 * Applies operators to the detected spans (sorted, non-overlapping: the analyzer's output) and
 * returns the new text with a map of where each replacement landed. The anonymizer knows
 * nothing about recognizers: spans are the only contract between the two halves.
 */
export function anonymize(text: string, detections: readonly Detection[], choice: OperatorChoice, state: DocumentState = newDocumentState()): AnonymizeResult {
  const items: AnonymizedItem[] = [];
  let out = '';
  let cursor = 0;
  for (const d of detections) {
    if (d.start < cursor || d.end > text.length || d.end <= d.start) {
      throw new WardError('deid.invalid_spans', 'detections must be sorted, non-overlapping and inside the text');
    }
    const op = operatorFor(choice, d.type);
    out += text.slice(cursor, d.start);
    const replacement = op.replace({ original: text.slice(d.start, d.end), detection: d, state });
    items.push({ start: d.start, end: d.end, type: d.type, outputStart: out.length, outputEnd: out.length + replacement.length, operator: op.name });
    out += replacement;
    cursor = d.end;
  }
  out += text.slice(cursor);
  return { text: out, items };
}
