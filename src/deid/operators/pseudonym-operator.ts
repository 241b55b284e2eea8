import { keyedHash } from '../keyed-hash.js';
import type { PhiType } from '../phi-type.js';
import { normalizeOriginal, type Operator } from './operator.js';

export interface PseudonymOptions {
  readonly key: Uint8Array;
  /** Called once per replacement so the caller can store the mapping in a re-identification vault. */
  readonly onPseudonym?: (pseudonym: string, type: PhiType, original: string) => void;
}

/**
 * Keyed pseudonyms: "NAME-3f9c2a71d0" = type + the first 40 bits of HMAC-SHA-256(key, type,
 * normalised original). Stable across documents and patients (linkage for research), and not
 * reversible without the vault; a plain hash would be, by trying every name in a dictionary.
 */
export function pseudonym(key: Uint8Array, type: PhiType, original: string): string {
  return `${type}-${keyedHash(key, 'deid.pseudonym', type, normalizeOriginal(original)).toString('hex').slice(0, 10)}`;
}

export function pseudonymOperator(options: PseudonymOptions): Operator {
  return {
    name: 'pseudonym',
    replace: ({ original, detection }) => {
      const p = pseudonym(options.key, detection.type, original);
      options.onPseudonym?.(p, detection.type, original);
      return `[${p}]`;
    },
  };
}
