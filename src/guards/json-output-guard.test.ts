/** The structured-output guard: truncated, not JSON, schema mismatch (paths, never values), bad schemas refused. */
import { describe, expect, it } from 'vitest';
import { JsonOutputGuard, MAX_SCHEMA_BYTES } from './json-output-guard.js';
import { WardError } from '../shared/ward-error.js';

const person = {
  type: 'object',
  properties: { age: { type: 'integer', minimum: 0 }, tags: { type: 'array', items: { type: 'string' } } },
  required: ['age'],
  additionalProperties: false,
};

function schemaError(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  return undefined;
}

describe('JsonOutputGuard.check', () => {
  it('accepts valid JSON that satisfies the schema and hands back the parsed value', () => {
    const guard = new JsonOutputGuard();
    expect(guard.check(person, ' {"age": 42, "tags": ["a"]}\n', 'stop')).toEqual({ ok: true, value: { age: 42, tags: ['a'] } });
  });

  it('refuses a truncated answer even when it parses', () => {
    const guard = new JsonOutputGuard();
    expect(guard.check(person, '{"age": 42}', 'length')).toEqual({ ok: false, code: 'guard.output_truncated', paths: [] });
  });

  it('refuses text that is not JSON, including fenced JSON', () => {
    const guard = new JsonOutputGuard();
    expect(guard.check(person, '{"age": 4', 'stop')).toEqual({ ok: false, code: 'guard.output_not_json', paths: [] });
    expect(guard.check(person, '```json\n{"age": 4}\n```', 'stop')).toMatchObject({ ok: false, code: 'guard.output_not_json' });
  });

  it('reports a mismatch as pointer + keyword, never the value', () => {
    const guard = new JsonOutputGuard();
    const verdict = guard.check(person, '{"age": "Jane Roe 123-45-6789"}', 'stop');
    expect(verdict).toEqual({ ok: false, code: 'guard.output_schema_mismatch', paths: ['/age: type'] });
    expect(JSON.stringify(verdict)).not.toContain('Jane');
    expect(guard.check(person, '{"tags": []}', 'stop')).toEqual({ ok: false, code: 'guard.output_schema_mismatch', paths: [': required'] });
    expect(guard.check(person, '{"age": 3, "tags": ["x", 7]}', 'stop')).toEqual({
      ok: false,
      code: 'guard.output_schema_mismatch',
      paths: ['/tags/1: type'],
    });
  });

  it('masks object keys the schema does not declare (a model-invented key could be a name)', () => {
    const guard = new JsonOutputGuard();
    const schema = { type: 'object', additionalProperties: { type: 'object', properties: { mrn: { type: 'string' } } } };
    const verdict = guard.check(schema, '{"John Smith": {"mrn": 12345}}', 'stop');
    expect(verdict).toEqual({ ok: false, code: 'guard.output_schema_mismatch', paths: ['/*/mrn: type'] });
  });

  it('supports OpenAI-style 2020-12 schemas with $defs, local $ref, descriptions and formats', () => {
    const guard = new JsonOutputGuard();
    const schema = {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'object',
      properties: { visit: { $ref: '#/$defs/visit' }, code: { type: 'string', format: 'uuid', description: 'x' } },
      required: ['visit', 'code'],
      additionalProperties: false,
      $defs: { visit: { type: 'object', properties: { n: { type: 'number', multipleOf: 0.5 } }, required: ['n'] } },
    };
    expect(guard.check(schema, '{"visit": {"n": 1.5}, "code": "not-a-uuid"}', 'stop')).toMatchObject({ ok: true });
    expect(guard.check(schema, '{"visit": {"n": 1.25}, "code": "c"}', 'stop')).toEqual({
      ok: false,
      code: 'guard.output_schema_mismatch',
      paths: ['/visit/n: multipleOf'],
    });
  });

  it('accepts a draft-07 schema that says so', () => {
    const guard = new JsonOutputGuard();
    const schema = { $schema: 'http://json-schema.org/draft-07/schema#', type: 'array', items: [{ type: 'string' }] };
    expect(guard.check(schema, '["a", 1]', 'stop')).toMatchObject({ ok: true });
    expect(guard.check(schema, '[1]', 'stop')).toMatchObject({ ok: false, code: 'guard.output_schema_mismatch' });
  });
});

describe('JsonOutputGuard.compile', () => {
  const bad: [string, Record<string, unknown>][] = [
    ['a schema ajv rejects', { type: 'nope' }],
    ['a remote $ref', { type: 'object', properties: { a: { $ref: 'https://example.org/schema.json' } } }],
    ['a relative $ref to another document', { $ref: 'other.json#/x' }],
    ['a $ref that resolves nowhere', { $ref: '#/$defs/missing' }],
    ['an unknown dialect', { $schema: 'https://example.org/my-dialect', type: 'string' }],
    ['an async schema', { $async: true, type: 'string' }],
    ['a number JSON cannot express', { type: 'number', maximum: Number.POSITIVE_INFINITY }],
    // A backtracking regular expression from a caller would stall the server (ReDoS).
    ['a pattern', { type: 'object', properties: { v: { type: 'string', pattern: '^(a+)+$' } } }],
    ['patternProperties', { type: 'object', patternProperties: { '^(a+)+$': { type: 'string' } } }],
  ];
  it('still accepts a property that happens to be called "pattern"', () => {
    expect(() => new JsonOutputGuard().compile({ type: 'object', properties: { pattern: { type: 'string' } } })).not.toThrow();
  });
  for (const [what, schema] of bad) {
    it(`refuses ${what} with guard.schema_invalid (400)`, () => {
      const e = schemaError(() => new JsonOutputGuard().compile(schema));
      expect(e).toBeInstanceOf(WardError);
      expect(e).toMatchObject({ code: 'guard.schema_invalid', status: 400 });
    });
  }

  it('refuses a schema over 64 KiB and one nested too deep', () => {
    const big = { type: 'string', description: 'x'.repeat(MAX_SCHEMA_BYTES) };
    expect(schemaError(() => new JsonOutputGuard().compile(big))).toMatchObject({ code: 'guard.schema_invalid' });
    let deep: Record<string, unknown> = { type: 'string' };
    for (let i = 0; i < 100; i++) deep = { type: 'object', properties: { a: deep } };
    expect(schemaError(() => new JsonOutputGuard().compile(deep))).toMatchObject({ code: 'guard.schema_invalid' });
  });

  it('check also refuses an invalid schema (it compiles first)', () => {
    expect(schemaError(() => new JsonOutputGuard().check({ type: 'nope' }, '1', 'stop'))).toMatchObject({ code: 'guard.schema_invalid' });
  });

  it('caches by canonical form (key order does not matter) and stays bounded', () => {
    const guard = new JsonOutputGuard({ maxSchemas: 2 });
    guard.compile({ type: 'string', minLength: 1 });
    guard.compile({ minLength: 1, type: 'string' });
    expect(guard.size).toBe(1);
    for (let i = 0; i < 10; i++) guard.compile({ type: 'integer', minimum: i });
    expect(guard.size).toBe(2);
    // An evicted schema compiles again and still works.
    expect(guard.check({ type: 'integer', minimum: 0 }, '-1', 'stop')).toMatchObject({ ok: false, paths: [': minimum'] });
  });

  it('lets two schemas share an $id (they are never registered by it)', () => {
    const guard = new JsonOutputGuard();
    guard.compile({ $id: 'https://example.org/answer', type: 'string' });
    expect(guard.check({ $id: 'https://example.org/answer', type: 'integer' }, '"x"', 'stop')).toMatchObject({ ok: false });
    expect(guard.check({ $id: 'https://example.org/answer', type: 'string' }, '"x"', 'stop')).toMatchObject({ ok: true });
  });

  it('refuses a schema claiming a meta-schema $id, so eviction can never unregister the meta-schema', () => {
    const guard = new JsonOutputGuard({ maxSchemas: 1 });
    for (const id of ['https://json-schema.org/draft/2020-12/schema', 'https://json-schema.org/draft/2020-12/meta/core#']) {
      expect(schemaError(() => guard.compile({ $id: id, type: 'string' }))).toMatchObject({ code: 'guard.schema_invalid' });
    }
    guard.compile({ type: 'string' });
    guard.compile({ type: 'integer' });
    // The meta-schema still validates new schemas: an invalid one is still caught as invalid.
    expect(schemaError(() => guard.compile({ type: 'nope' }))).toMatchObject({ code: 'guard.schema_invalid' });
    expect(guard.check({ type: 'boolean' }, 'true', 'stop')).toMatchObject({ ok: true });
  });

  it('is not affected when the caller later mutates its schema object', () => {
    const guard = new JsonOutputGuard();
    const schema: Record<string, unknown> = { type: 'string' };
    guard.compile(schema);
    schema.type = 'integer';
    expect(guard.check({ type: 'string' }, '"x"', 'stop')).toMatchObject({ ok: true });
  });
});
