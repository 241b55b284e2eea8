/**
 * Visits every element value of a resource together with its R4 element definition, following
 * the StructureDefinitions indexed by `ensureFhirDefinitions()`: backbone elements, data types,
 * choice elements (`valueQuantity` is `value[x]` as Quantity, http://hl7.org/fhir/R4/formats.html#choice)
 * and contained resources. Keys the definitions do not know are not visited (the validator
 * reports them); primitive extensions (`_birthDate`) are not visited either.
 */
import { isResourceType, tryGetDataType } from '@medplum/core';
import type { InternalSchemaElement, InternalTypeSchema } from '@medplum/core';
import { ensureFhirDefinitions } from '../fhir-definitions.js';
import type { FhirResource } from '../fhir-resource.js';

export interface ElementVisit {
  /** The JSON value (one item of an array element). */
  value: unknown;
  element: InternalSchemaElement;
  /** The FHIR type of this value: `code`, `Reference`, `HumanName`, `EncounterParticipant`... */
  type: string;
  /** Where it sits, e.g. `Encounter.participant[0].individual`. */
  path: string;
}

/** The element a JSON key stands for, and the type of its value. */
function elementFor(schema: InternalTypeSchema, key: string): { element: InternalSchemaElement; type: string } | undefined {
  const direct = schema.elements[key];
  if (direct) {
    const type = direct.type.length === 1 ? direct.type[0]?.code : undefined;
    return type === undefined ? undefined : { element: direct, type };
  }
  for (const [name, element] of Object.entries(schema.elements)) {
    if (!name.endsWith('[x]')) continue;
    const prefix = name.slice(0, -3);
    if (!key.startsWith(prefix)) continue;
    const suffix = key.slice(prefix.length);
    const match = element.type.find((ty) => ty.code.charAt(0).toUpperCase() + ty.code.slice(1) === suffix);
    if (match) return { element, type: match.code };
  }
  return undefined;
}

/**
 * Deeper than any real resource (recursive elements such as Extension.extension or
 * Questionnaire.item nest a handful of levels); bounds the recursion on hostile input.
 */
const MAX_DEPTH = 64;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function walk(value: Record<string, unknown>, schema: InternalTypeSchema, path: string, visit: (v: ElementVisit) => void, depth: number): void {
  if (depth > MAX_DEPTH) return;
  for (const [key, raw] of Object.entries(value)) {
    if (key === 'resourceType' || key.startsWith('_')) continue;
    const found = elementFor(schema, key);
    if (!found) continue;
    const { element, type } = found;
    const items: unknown[] = Array.isArray(raw) ? raw : [raw];
    items.forEach((item, i) => {
      const at = Array.isArray(raw) ? `${path}.${key}[${i}]` : `${path}.${key}`;
      visit({ value: item, element, type, path: at });
      if (!isObject(item)) return;
      let inner: InternalTypeSchema | undefined;
      if (type === 'Resource') {
        const rt = item.resourceType;
        inner = typeof rt === 'string' && isResourceType(rt) ? tryGetDataType(rt) : undefined;
      } else {
        inner = tryGetDataType(type);
      }
      if (inner) walk(item, inner, at, visit, depth + 1);
    });
  }
}

export function walkElements(resource: FhirResource, visit: (v: ElementVisit) => void): void {
  ensureFhirDefinitions();
  const type = resource.resourceType;
  if (!isResourceType(type)) return;
  const schema = tryGetDataType(type);
  if (schema) walk(resource, schema, type, visit, 0);
}
