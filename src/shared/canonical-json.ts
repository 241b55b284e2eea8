/**
 * Canonical JSON after RFC 8785 (JCS) for the value shapes Ward hashes: objects with keys
 * sorted by UTF-16 code units, no whitespace, strings escaped as JSON.stringify does (which
 * matches JCS), and only finite numbers that are integers (safe range) so number formatting
 * can never differ between producers. `undefined` members are dropped, as JSON.stringify does.
 */
import { WardError } from './ward-error.js';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [k: string]: JsonValue | undefined };

export function canonicalJson(value: JsonValue): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'string':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isSafeInteger(value)) {
        throw new WardError('shared.canonical_json_number', 'canonical JSON accepts only safe integers');
      }
      return String(value);
    case 'object': {
      if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
      const keys = Object.keys(value).filter((k) => value[k] !== undefined).sort();
      const parts = keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k] as JsonValue)}`);
      return `{${parts.join(',')}}`;
    }
    default:
      throw new WardError('shared.canonical_json_type', 'value is not JSON');
  }
}
