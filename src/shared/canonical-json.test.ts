import { describe, expect, it } from 'vitest';
import { canonicalJson } from './canonical-json.js';

describe('canonicalJson', () => {
  it('sorts keys, drops undefined and uses no whitespace', () => {
    expect(canonicalJson({ b: 1, a: [true, null, 'x'], c: undefined })).toBe('{"a":[true,null,"x"],"b":1}');
  });
  it('sorts nested keys and escapes strings', () => {
    expect(canonicalJson({ z: { y: 'é\n"', a: 0 } })).toBe('{"z":{"a":0,"y":"é\\n\\""}}');
  });
  it('refuses numbers whose text form could differ between producers', () => {
    expect(() => canonicalJson({ a: 1.5 })).toThrow(/safe integers/);
    expect(() => canonicalJson({ a: Number.NaN })).toThrow();
  });
  it('is independent of insertion order', () => {
    expect(canonicalJson({ a: 1, b: 2 })).toBe(canonicalJson({ b: 2, a: 1 }));
  });
});
