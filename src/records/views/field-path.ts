/**
 * Checks a view's element path against the FHIR R4 StructureDefinitions of its resource type
 * and compiles it to the JSON keys it may match (`ViewPath`), so a misspelt field is refused
 * when the views load instead of silently disclosing nothing, or the wrong thing.
 *
 * Path syntax: element names joined by dots (`name`, `address.state`, `subject.reference`),
 * through complex types, backbone elements and Reference; never into a primitive (FHIR JSON
 * keeps a primitive's id and extensions in a `_name` twin, which views never return). A
 * choice element is written either as `onset[x]`, meaning every typed variant and nothing
 * below it, or as one variant by its JSON name, `onsetDateTime` or `onsetPeriod.start`.
 */
import { tryGetDataType } from '@medplum/core';
import type { InternalSchemaElement, InternalTypeSchema } from '@medplum/core';
import { ensureFhirDefinitions } from '../fhir-definitions.js';
import { ALWAYS_RETURNED } from './data-view.js';
import type { ViewPath } from './data-view.js';

export type FieldPathResult = { ok: true; path: ViewPath } | { ok: false; problem: string };

const STEP = /^[a-z][A-Za-z0-9]*(\[x\])?$/;
const MAX_PATH_LENGTH = 200;
/** Audit entries accept `Type.path` of at most six elements (AUDIT_FIELD_PATTERN). */
export const MAX_PATH_STEPS = 6;

/** The path quoted for a message, when it has the shape of one; other text is not echoed. */
export function quotePath(path: string): string {
  return path.length <= MAX_PATH_LENGTH && /^[A-Za-z0-9_.[\]-]+$/.test(path) ? `"${path}"` : `a field that is not an element path (${path.length} characters)`;
}

function isPrimitiveCode(code: string): boolean {
  // FHIR primitive types are lower case (string, dateTime, xhtml); `id` elements are typed
  // with FHIRPath system types (http://hl7.org/fhirpath/System.String).
  return /^[a-z]/.test(code) || code.startsWith('http://hl7.org/fhirpath/');
}

/** The JSON name of a choice element's variant: onset[x] + dateTime -> onsetDateTime. */
export function choiceKey(choiceElement: string, code: string): string {
  return choiceElement.slice(0, -'[x]'.length) + code.charAt(0).toUpperCase() + code.slice(1);
}

interface Match {
  keys: string[];
  /** The one type of the matched element, when it has one (a choice element as a whole has none). */
  code?: string;
}

function matchStep(schema: InternalTypeSchema, step: string): Match | undefined {
  const elements = schema.elements;
  if (step.endsWith('[x]')) {
    const element: InternalSchemaElement | undefined = Object.hasOwn(elements, step) ? elements[step] : undefined;
    return element === undefined ? undefined : { keys: element.type.map((t) => choiceKey(step, t.code)) };
  }
  if (Object.hasOwn(elements, step)) {
    const element = elements[step];
    const code = element?.type.length === 1 ? element.type[0]?.code : undefined;
    return { keys: [step], ...(code !== undefined ? { code } : {}) };
  }
  for (const [name, element] of Object.entries(elements)) {
    if (!name.endsWith('[x]')) continue;
    const variant = element.type.find((t) => choiceKey(name, t.code) === step);
    if (variant !== undefined) return { keys: [step], code: variant.code };
  }
  return undefined;
}

/** Resolves `path` within resource type `type` (which must be a FHIR R4 resource type). */
export function resolveFieldPath(type: string, path: string): FieldPathResult {
  ensureFhirDefinitions();
  const quoted = quotePath(path);
  const steps = path.split('.');
  if (path.length > MAX_PATH_LENGTH || !steps.every((s) => STEP.test(s))) {
    return { ok: false, problem: `${quoted} is not an element path (element names joined by dots, such as address.state or onset[x])` };
  }
  if ((ALWAYS_RETURNED as readonly string[]).includes(path)) return { ok: false, problem: `${quoted} is always returned; leave it out` };
  if (steps.length > MAX_PATH_STEPS) return { ok: false, problem: `${quoted} is more than ${MAX_PATH_STEPS} elements deep; name an element higher up` };

  let schema = tryGetDataType(type);
  if (schema === undefined) return { ok: false, problem: `${type} is not a FHIR R4 resource type` };
  const compiled: string[][] = [];
  for (const [i, step] of steps.entries()) {
    const match = matchStep(schema, step);
    if (match === undefined) {
      return { ok: false, problem: i === 0 ? `${quoted} is not an element of ${type}` : `${quoted} is not an element of ${type}: ${schema.name} has no element "${step}"` };
    }
    compiled.push(match.keys);
    if (i === steps.length - 1) break;
    const through = steps.slice(0, i + 1).join('.');
    if (match.code === undefined) {
      return { ok: false, problem: `${quoted}: ${through} is a choice of types; to go deeper, name one variant (${match.keys.join(', ')})` };
    }
    if (isPrimitiveCode(match.code)) {
      const name = match.code.replace(/^http:\/\/hl7\.org\/fhirpath\/System\.(\w)/, (_, c: string) => c.toLowerCase());
      return { ok: false, problem: `${quoted}: ${through} is a ${name}, which has no sub-elements` };
    }
    if (match.code === 'Resource') return { ok: false, problem: `${quoted}: ${through} holds whole resources; list ${through} itself or leave it out` };
    const next = tryGetDataType(match.code);
    if (next === undefined) return { ok: false, problem: `${quoted}: the elements of ${through} (${match.code}) are not known` };
    schema = next;
  }
  return { ok: true, path: { path, steps: compiled } };
}
