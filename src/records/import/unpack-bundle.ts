/**
 * A parsed Bundle (http://hl7.org/fhir/R4/bundle.html) turned into the resources to import,
 * each with its location `file#entry[i]`:
 *
 * - transaction, batch and history entries are imports only when their request is POST or PUT
 *   (http://hl7.org/fhir/R4/http.html#transaction); DELETE, GET, HEAD and PATCH entries are
 *   refused, not carried out. collection, searchset, document and message Bundles import every
 *   entry (the Composition or MessageHeader is then skipped as a type Ward does not keep).
 *   transaction-response and batch-response Bundles hold a server's answers and are refused.
 * - an entry without `id` takes the uuid of its `urn:uuid:` fullUrl (or the id at the end of a
 *   RESTful fullUrl `.../<Type>/<id>`): deterministic, so importing the file again updates the
 *   same resources instead of duplicating them.
 * - references to another entry's fullUrl are rewritten to `<Type>/<id>` of that entry
 *   (http://hl7.org/fhir/R4/bundle.html#references). A `urn:uuid:` reference that matches no
 *   entry is a transaction error in FHIR; Synthea's provider-directory Bundles make them across
 *   files (PractitionerRole.organization points at the hospital Bundle's urn:uuid), so when the
 *   element allows exactly one resource type (or the Reference states its `type`) it becomes
 *   `<Type>/<uuid>`, which is the id the other file's entry receives here. Otherwise the entry
 *   is invalid.
 *
 * Problems name entries and paths, never values. The Bundle's entries are modified in place.
 */
import { isResourceType } from '@medplum/core';
import { FHIR_ID_PATTERN, isSupportedResourceType } from '../fhir-resource.js';
import type { FhirResource } from '../fhir-resource.js';
import type { ImportItem } from './import-item.js';
import { walkElements } from './walk-elements.js';

export type InvalidItem = Extract<ImportItem, { kind: 'invalid' }>;

/** An entry's resource to classify and validate, or an entry refused as it stands. */
export type BundleEntryOutcome = { kind: 'entry'; location: string; resource: Record<string, unknown> } | InvalidItem;

const IMPORTED_TYPES = new Set(['transaction', 'batch', 'history', 'collection', 'searchset', 'document', 'message']);
const RESPONSE_TYPES = new Set(['transaction-response', 'batch-response']);
const HTTP_VERBS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH']);
const UUID_URN = /^urn:uuid:([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$/;
const RESTFUL_URL = /(?:^|\/)([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[A-Za-z0-9\-.]{1,64})?$/;
const TARGET_PROFILE = /^http:\/\/hl7\.org\/fhir\/StructureDefinition\/([A-Z][A-Za-z]+)$/;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function invalid(location: string, code: string, problems: string[]): InvalidItem {
  return { kind: 'invalid', location, code, problems };
}

/** The id of an entry whose resource has none: the uuid of `urn:uuid:`, or `.../<Type>/<id>`. */
function idFromFullUrl(resourceType: string, fullUrl: unknown): string | undefined {
  if (typeof fullUrl !== 'string') return undefined;
  const uuid = UUID_URN.exec(fullUrl);
  if (uuid) return uuid[1]?.toLowerCase();
  const rest = RESTFUL_URL.exec(fullUrl);
  return rest && rest[1] === resourceType ? rest[2] : undefined;
}

/** The single resource type a Reference element allows, if it allows exactly one. */
function singleTargetType(targetProfiles: readonly string[] | undefined): string | undefined {
  if (targetProfiles?.length !== 1) return undefined;
  const type = TARGET_PROFILE.exec(targetProfiles[0] ?? '')?.[1];
  return type !== undefined && type !== 'Resource' && isResourceType(type) ? type : undefined;
}

/**
 * Rewrites the references of one resource that point at entries of the Bundle; returns the
 * paths of `urn:` references it could not resolve.
 */
function rewriteReferences(resource: FhirResource, targets: ReadonlyMap<string, string>): string[] {
  const unresolved: string[] = [];
  walkElements(resource, ({ value, element, type, path }) => {
    if (type !== 'Reference' || !isObject(value) || typeof value.reference !== 'string') return;
    const ref = value.reference;
    const target = targets.get(ref);
    if (target !== undefined) {
      value.reference = target;
      return;
    }
    if (!ref.startsWith('urn:')) return;
    const uuid = UUID_URN.exec(ref)?.[1]?.toLowerCase();
    const stated = typeof value.type === 'string' && isResourceType(value.type) ? value.type : undefined;
    const targetType = stated ?? singleTargetType(element.type.find((t) => t.code === 'Reference')?.targetProfile);
    if (uuid !== undefined && targetType !== undefined) value.reference = `${targetType}/${uuid}`;
    else unresolved.push(path);
  });
  return unresolved;
}

export function unpackBundle(bundle: Record<string, unknown>, file: string): BundleEntryOutcome[] {
  const type = bundle.type;
  if (typeof type !== 'string') return [invalid(file, 'import.invalid_bundle', ['Bundle.type: missing'])];
  if (RESPONSE_TYPES.has(type)) {
    return [invalid(file, 'import.invalid_bundle', [`Bundle.type: ${type} Bundles hold a server's responses, not data to import`])];
  }
  if (!IMPORTED_TYPES.has(type)) return [invalid(file, 'import.invalid_bundle', ['Bundle.type: not a FHIR R4 Bundle type'])];
  const entries = bundle.entry ?? [];
  if (!Array.isArray(entries)) return [invalid(file, 'import.invalid_bundle', ['Bundle.entry: not an array'])];
  const requests = type === 'transaction' || type === 'batch' || type === 'history';

  const outcomes: BundleEntryOutcome[] = [];
  const targets = new Map<string, string>();
  for (const [i, entry] of (entries as unknown[]).entries()) {
    const location = `${file}#entry[${i}]`;
    const at = `Bundle.entry[${i}]`;
    if (!isObject(entry)) {
      outcomes.push(invalid(location, 'import.not_a_resource', [`${at}: not an object`]));
      continue;
    }
    const method = requests && isObject(entry.request) ? entry.request.method : 'POST';
    if (typeof method !== 'string' || !HTTP_VERBS.has(method)) {
      outcomes.push(invalid(location, 'import.unsupported_request', [`${at}.request.method: not an HTTP verb FHIR R4 allows`]));
      continue;
    }
    if (method !== 'POST' && method !== 'PUT') {
      outcomes.push(invalid(location, 'import.unsupported_request', [
        `${at}.request.method: only POST and PUT entries are imported; ${method} entries are not carried out`,
      ]));
      continue;
    }
    const resource = entry.resource;
    if (!isObject(resource) || typeof resource.resourceType !== 'string') {
      outcomes.push(invalid(location, 'import.not_a_resource', [`${at}.resource: missing or not a FHIR resource`]));
      continue;
    }
    if (resource.id === undefined) {
      const derived = idFromFullUrl(resource.resourceType, entry.fullUrl);
      if (derived === undefined) {
        outcomes.push(invalid(location, 'import.missing_id', [
          `${at}: the resource has no id and its fullUrl is neither urn:uuid nor <Type>/<id> (Ward keeps every resource under its id)`,
        ]));
        continue;
      }
      resource.id = derived;
    }
    if (typeof entry.fullUrl === 'string' && typeof resource.id === 'string' && FHIR_ID_PATTERN.test(resource.id)) {
      // bdl-7: fullUrl is unique within a Bundle; a second entry with it is ambiguous.
      if (targets.has(entry.fullUrl)) {
        outcomes.push(invalid(location, 'import.invalid_bundle', [`${at}.fullUrl: the same as an earlier entry's (bdl-7)`]));
        continue;
      }
      targets.set(entry.fullUrl, `${resource.resourceType}/${resource.id}`);
    }
    outcomes.push({ kind: 'entry', location, resource });
  }

  return outcomes.map((o) => {
    // Types Ward does not keep are skipped whole, whatever their references.
    if (o.kind !== 'entry' || !isSupportedResourceType(String(o.resource.resourceType))) return o;
    const unresolved = rewriteReferences(o.resource as FhirResource, targets);
    if (unresolved.length === 0) return o;
    return invalid(o.location, 'import.unresolved_reference', unresolved.map(
      (p) => `${p}: urn: reference matches no entry of this Bundle (http://hl7.org/fhir/R4/bundle.html#references)`,
    ));
  });
}
