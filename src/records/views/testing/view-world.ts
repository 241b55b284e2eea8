/**
 * Test support (imported by *.test.ts only): the shipped views file, the Synthea sample
 * resources, and a views document built from view objects.
 */
import { readFileSync } from 'node:fs';
import { DATA_VIEW_NAMES } from '../../../policy/data-views.js';
import type { FhirResource } from '../../fhir-resource.js';
import { parseViews } from '../parse-views.js';
import type { ViewCatalog } from '../view-catalog.js';

export const DEFAULT_VIEWS_TEXT = readFileSync(new URL('../../../../data/views/default-views.json', import.meta.url), 'utf8');

export function defaultCatalog(): ViewCatalog {
  return parseViews(DEFAULT_VIEWS_TEXT, { names: DATA_VIEW_NAMES });
}

/** Fourteen Synthea resources (fixtures/README.md): a patient's latest records and a few shared ones. */
export function syntheaSample(): FhirResource[] {
  const text = readFileSync(new URL('../fixtures/synthea-sample.ndjson', import.meta.url), 'utf8');
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as FhirResource);
}

export function sampleOf(type: string): FhirResource {
  const found = syntheaSample().find((r) => r.resourceType === type);
  if (found === undefined) throw new Error(`no ${type} in the sample`);
  return found;
}

/** A view with a description filled in, for brevity. */
export function view(name: string, resources: readonly unknown[]): Record<string, unknown> {
  return { name, description: 'test view', resources };
}

export function viewsText(views: readonly unknown[], version = 'test.1'): string {
  return JSON.stringify({ format: 'ward.views.v1', version, views });
}
