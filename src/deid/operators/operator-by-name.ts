import type { DeidDictionaries } from '../dictionaries.js';
import { WardError } from '../../shared/ward-error.js';
import { generalizeOperator } from './generalize-operator.js';
import type { Operator } from './operator.js';
import { placeholderOperator } from './placeholder-operator.js';
import { pseudonymOperator, type PseudonymOptions } from './pseudonym-operator.js';
import { redactOperator } from './redact-operator.js';
import { surrogateOperator } from './surrogate-operator.js';

export const OPERATOR_NAMES = ['redact', 'placeholder', 'surrogate', 'generalize', 'pseudonym'] as const;
export type OperatorName = (typeof OPERATOR_NAMES)[number];

export function isOperatorName(value: string): value is OperatorName {
  return (OPERATOR_NAMES as readonly string[]).includes(value);
}

export interface OperatorSettings {
  readonly dictionaries: DeidDictionaries;
  /** Needed by surrogate and pseudonym. */
  readonly key?: Uint8Array;
  readonly patientId?: string;
  /** The year ages are measured from (45 CFR 164.514(b)(2)(i)(C)); supplied by the caller's clock. */
  readonly referenceYear: number;
  readonly onPseudonym?: PseudonymOptions['onPseudonym'];
}

/** Builds a named operator; a keyed operator without a key is a configuration error. */
export function operatorByName(name: OperatorName, settings: OperatorSettings): Operator {
  switch (name) {
    case 'redact':
      return redactOperator;
    case 'placeholder':
      return placeholderOperator;
    case 'generalize':
      return generalizeOperator(settings.dictionaries, { referenceYear: settings.referenceYear });
    case 'surrogate':
    case 'pseudonym': {
      const key = settings.key;
      if (key === undefined) throw new WardError('deid.key_required', `the ${name} operator needs a de-identification key`);
      return name === 'surrogate'
        ? surrogateOperator({ key, patientId: settings.patientId ?? '', dictionaries: settings.dictionaries, referenceYear: settings.referenceYear })
        : pseudonymOperator({ key, ...(settings.onPseudonym ? { onPseudonym: settings.onPseudonym } : {}) });
    }
  }
}
