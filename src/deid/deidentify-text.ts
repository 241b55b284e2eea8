import { analyze, type AnalyzeOptions } from './analyzer.js';
import { anonymize, type AnonymizedItem, type OperatorChoice } from './anonymize.js';
import type { Detection } from './detection.js';
import type { DeidDictionaries } from './dictionaries.js';
import type { DocumentState } from './operators/operator.js';

export interface DeidentifyTextOptions extends AnalyzeOptions {
  readonly dictionaries: DeidDictionaries;
  readonly operator: OperatorChoice;
  readonly state?: DocumentState;
}

export interface DeidentifiedText {
  readonly text: string;
  /** The detections, with offsets into the input text. */
  readonly detections: readonly Detection[];
  readonly items: readonly AnonymizedItem[];
}

/** Analyze, then anonymize: the one-call library API for a piece of free text. */
export function deidentifyText(text: string, options: DeidentifyTextOptions): DeidentifiedText {
  const detections = analyze(text, options.dictionaries, options);
  const result = anonymize(text, detections, options.operator, options.state);
  return { text: result.text, detections, items: result.items };
}
