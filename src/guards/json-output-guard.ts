/**
 * Output guard for structured answers: a model asked for JSON under a schema must return JSON that
 * satisfies it, whatever the upstream server promised (constrained decoding is not trusted; the
 * gateway validates again). A truncated answer (`finish_reason: length`) is never accepted, even
 * if it happens to parse: it is not the whole answer.
 *
 * Pure: ajv compiles in memory and never fetches (no `loadSchema`; any `$ref` that leaves the
 * document is refused before ajv sees it). Fail closed: a schema ajv rejects, one over 64 KiB or
 * one too deep is `guard.schema_invalid` (400, the caller's fault); an answer that does not
 * validate is a verdict, not an error.
 *
 * Verdicts never carry output values (the output may be PHI, 45 CFR 164.502(b) minimum necessary):
 * `paths` are JSON-pointer instance paths with the failing keyword (`/age: type`), and a path
 * segment that is not an array index or a property name the schema itself declares becomes `*`,
 * so a model-invented key (which could be a name) never reaches a log.
 */
import { Ajv, type ErrorObject, type Options, type ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { WardError } from '../shared/ward-error.js';
import { LruMap } from '../shared/lru-map.js';

export type JsonVerdict =
  | { readonly ok: true; readonly value: unknown }
  | {
      readonly ok: false;
      readonly code: 'guard.output_truncated' | 'guard.output_not_json' | 'guard.output_schema_mismatch';
      readonly paths: readonly string[];
    };

export interface JsonOutputGuardOptions {
  /** Compiled validators kept (least recently used dropped first). Default 256. */
  readonly maxSchemas?: number;
}

/** Largest schema accepted, in UTF-8 bytes of its canonical form. */
export const MAX_SCHEMA_BYTES = 64 * 1024;
/** Deepest nesting accepted (ajv compiles recursively; a deeper schema is refused, not a stack overflow). */
const MAX_SCHEMA_DEPTH = 64;
/** At most this many failure paths are reported. */
const MAX_ERRORS = 8;

const DRAFT_07 = /^https?:\/\/json-schema\.org\/draft-07\/schema#?$/;
const DRAFT_2020_12 = /^https?:\/\/json-schema\.org\/draft\/2020-12\/schema#?$/;

interface Compiled {
  readonly validate: ValidateFunction;
  /** The object ajv compiled (its cache is keyed by identity): needed to drop it again. */
  readonly schema: Record<string, unknown>;
  readonly ajv: Ajv | Ajv2020;
  /** Property names the schema declares: the only object keys a reported path may show. */
  readonly declared: ReadonlySet<string>;
}

export class JsonOutputGuard {
  /**
   * Canonical schema text -> compiled validator, least recently used dropped first. ajv keeps
   * every compiled schema in its own cache until told otherwise: an eviction removes it there too.
   */
  private readonly cache: LruMap<string, Compiled>;
  private readonly draft07: Ajv;
  private readonly draft2020: Ajv2020;

  constructor(options: JsonOutputGuardOptions = {}) {
    const maxSchemas = options.maxSchemas ?? 256;
    if (!Number.isInteger(maxSchemas) || maxSchemas < 1) {
      throw new WardError('config.invalid', 'json output guard needs maxSchemas >= 1');
    }
    this.cache = new LruMap(maxSchemas, (_key, evicted) => {
      evicted.ajv.removeSchema(evicted.schema);
    });
    const ajvOptions: Options = {
      allErrors: false, // stop at the first failure: cheaper, and one reason is enough to refuse
      // OpenAI-style schemas carry keywords ajv's strict mode rejects (descriptions on $defs,
      // `strict`, unknown formats); unknown keywords are annotations, as JSON Schema says.
      strict: false,
      // No format plugin is a dependency: formats are annotations (JSON Schema 2020-12 default).
      validateFormats: false,
      // Never register a schema by its $id: two callers' schemas with the same $id must not collide.
      addUsedSchema: false,
      logger: false, // ajv would otherwise write to the console
    };
    this.draft07 = new Ajv(ajvOptions);
    this.draft2020 = new Ajv2020(ajvOptions);
  }

  /** Validators cached now (for tests and metrics). */
  get size(): number {
    return this.cache.size;
  }

  /** Compile (and cache) a schema; throws `guard.schema_invalid` (400) if it cannot be used. */
  compile(schema: Record<string, unknown>): void {
    this.compiled(schema);
  }

  /** Judge a model's answer against the schema. Throws only for an unusable schema. */
  check(schema: Record<string, unknown>, text: string, finishReason: 'stop' | 'length'): JsonVerdict {
    const compiled = this.compiled(schema);
    if (finishReason === 'length') return { ok: false, code: 'guard.output_truncated', paths: [] };
    let value: unknown;
    try {
      value = JSON.parse(text) as unknown;
    } catch {
      return { ok: false, code: 'guard.output_not_json', paths: [] };
    }
    if (compiled.validate(value) === true) return { ok: true, value };
    const errors = compiled.validate.errors ?? [];
    const paths = errors.slice(0, MAX_ERRORS).map((e) => pathOf(e, compiled.declared));
    return { ok: false, code: 'guard.output_schema_mismatch', paths: paths.length > 0 ? paths : [': schema'] };
  }

  private compiled(schema: Record<string, unknown>): Compiled {
    const key = canonicalSchemaText(schema);
    const hit = this.cache.get(key);
    if (hit !== undefined) return hit;
    // A fresh copy: later changes to the caller's object cannot change what was compiled.
    const copy = JSON.parse(key) as Record<string, unknown>;
    refuseRemoteRefs(copy);
    // An async validator returns a promise, which `check` would read as a pass: refuse it.
    if (copy.$async !== undefined) throw invalid('asynchronous schemas are not supported');
    const ajv = this.ajvFor(copy);
    // ajv.removeSchema(object) also drops whatever is registered under the object's $id: a schema
    // claiming a meta-schema's $id would, on eviction, unregister that meta-schema for everyone.
    const id = typeof copy.$id === 'string' ? copy.$id.replace(/#$/, '') : '';
    if (id !== '' && (Object.hasOwn(ajv.schemas, id) || Object.hasOwn(ajv.refs, id))) {
      throw invalid('the response schema reuses a reserved $id');
    }
    let validate: ValidateFunction;
    try {
      validate = ajv.compile(copy);
    } catch (e) {
      ajv.removeSchema(copy); // ajv caches the schema before it fails to compile it
      throw invalid('the response schema is not a valid JSON schema', e);
    }
    const entry: Compiled = { validate, schema: copy, ajv, declared: declaredNames(copy) };
    this.cache.set(key, entry);
    return entry;
  }

  private ajvFor(schema: Record<string, unknown>): Ajv | Ajv2020 {
    const dialect = schema.$schema;
    if (dialect === undefined || (typeof dialect === 'string' && DRAFT_2020_12.test(dialect))) return this.draft2020;
    if (typeof dialect === 'string' && DRAFT_07.test(dialect)) return this.draft07;
    throw invalid('the response schema names an unsupported $schema dialect');
  }
}

function invalid(message: string, cause?: unknown): WardError {
  // The cause is ajv's message about the schema (caller-supplied structure, not model output).
  return new WardError('guard.schema_invalid', message, { status: 400, ...(cause === undefined ? {} : { cause }) });
}

/**
 * Sorted-key JSON of the schema, the cache key. Not `shared/canonical-json.ts`: that one accepts
 * only safe integers (for hashes shared across producers), and schemas carry `minimum: 0.5` or
 * `multipleOf: 0.01`; inside one process JSON.stringify's number form is stable. Refuses what
 * is not JSON (functions, NaN, cycles via the depth cap) and anything over the size cap.
 */
function canonicalSchemaText(schema: Record<string, unknown>): string {
  const parts: string[] = [];
  let bytes = 0;
  const emit = (s: string): void => {
    bytes += Buffer.byteLength(s, 'utf8');
    if (bytes > MAX_SCHEMA_BYTES) throw invalid(`the response schema is larger than ${MAX_SCHEMA_BYTES} bytes`);
    parts.push(s);
  };
  const walk = (value: unknown, depth: number): void => {
    if (depth > MAX_SCHEMA_DEPTH) throw invalid(`the response schema is nested deeper than ${MAX_SCHEMA_DEPTH} levels`);
    if (value === null || typeof value === 'boolean' || typeof value === 'string') {
      emit(JSON.stringify(value));
    } else if (typeof value === 'number') {
      if (!Number.isFinite(value)) throw invalid('the response schema holds a number JSON cannot express');
      emit(JSON.stringify(value));
    } else if (Array.isArray(value)) {
      emit('[');
      value.forEach((item: unknown, i) => {
        if (i > 0) emit(',');
        walk(item, depth + 1);
      });
      emit(']');
    } else if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
      const record = value as Record<string, unknown>;
      const keys = Object.keys(record).filter((k) => record[k] !== undefined).sort();
      emit('{');
      keys.forEach((k, i) => {
        emit(`${i > 0 ? ',' : ''}${JSON.stringify(k)}:`);
        walk(record[k], depth + 1);
      });
      emit('}');
    } else {
      throw invalid('the response schema is not JSON');
    }
  };
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) throw invalid('the response schema must be an object');
  walk(schema, 0);
  return parts.join('');
}

const REF_KEYWORDS = ['$ref', '$dynamicRef', '$recursiveRef'];

/**
 * Only same-document references (`#...`) are allowed. ajv without `loadSchema` would not fetch
 * anyway, but refusing here keeps that true if options ever change, and refuses before compiling.
 * Checked on every object in the document (also inside `const`/`enum`: stricter than needed, never looser).
 */
function refuseRemoteRefs(value: unknown): void {
  if (Array.isArray(value)) {
    for (const item of value) refuseRemoteRefs(item);
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  const record = value as Record<string, unknown>;
  for (const keyword of REF_KEYWORDS) {
    const ref = record[keyword];
    if (typeof ref === 'string' && !ref.startsWith('#')) throw invalid('the response schema references a document other than itself');
  }
  // A caller's regular expression runs on JavaScript's backtracking engine over the model's
  // output on the main thread: `^(a+)+$` against 30 characters stalls the whole server for
  // seconds (ReDoS). Without a linear-time engine (RE2) patterns are refused (fail closed).
  if (typeof record.pattern === 'string' || (typeof record.patternProperties === 'object' && record.patternProperties !== null)) {
    throw invalid('regular expressions (pattern, patternProperties) are not supported in response schemas');
  }
  for (const child of Object.values(record)) refuseRemoteRefs(child);
}

/** Every name under a `properties` (or listed in `required`) anywhere in the schema. */
function declaredNames(schema: Record<string, unknown>): ReadonlySet<string> {
  const names = new Set<string>();
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) {
      for (const item of value) walk(item);
      return;
    }
    if (typeof value !== 'object' || value === null) return;
    const record = value as Record<string, unknown>;
    const properties = record.properties;
    if (typeof properties === 'object' && properties !== null && !Array.isArray(properties)) {
      for (const k of Object.keys(properties)) names.add(k);
    }
    const required = record.required;
    if (Array.isArray(required)) for (const k of required) if (typeof k === 'string') names.add(k);
    for (const child of Object.values(record)) walk(child);
  };
  walk(schema);
  return names;
}

/** `/items/0/age: type`, with undeclared object keys masked as `*` (see the file comment). */
function pathOf(error: ErrorObject, declared: ReadonlySet<string>): string {
  const segments = error.instancePath === '' ? [] : error.instancePath.slice(1).split('/');
  const shown = segments.map((s) => {
    const name = s.replace(/~1/g, '/').replace(/~0/g, '~');
    return /^(0|[1-9]\d{0,9})$/.test(s) || declared.has(name) ? s : '*';
  });
  return `${shown.map((s) => `/${s}`).join('')}: ${error.keyword}`;
}
