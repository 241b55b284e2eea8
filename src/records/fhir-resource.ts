/**
 * FHIR R4 resources as Ward holds them: plain JSON objects, checked against the R4
 * StructureDefinitions at import (see `import/validate-resource.ts`).
 */
export interface FhirResource {
  resourceType: string;
  id?: string;
  [element: string]: unknown;
}

/**
 * The resource types administrative workflows use (scheduling, intake, prior authorization,
 * coding). Others in an import are reported as skipped, never stored.
 */
export const SUPPORTED_RESOURCE_TYPES = [
  'Patient', 'Practitioner', 'PractitionerRole', 'Organization', 'Location', 'Encounter', 'Condition', 'Procedure',
  'Observation', 'MedicationRequest', 'AllergyIntolerance', 'Coverage', 'Claim', 'ServiceRequest', 'DocumentReference',
  'Schedule', 'Slot', 'Appointment', 'Questionnaire', 'QuestionnaireResponse', 'Consent',
] as const;

export type SupportedResourceType = (typeof SUPPORTED_RESOURCE_TYPES)[number];

const supported: ReadonlySet<string> = new Set(SUPPORTED_RESOURCE_TYPES);

export function isSupportedResourceType(type: string): type is SupportedResourceType {
  return supported.has(type);
}

/** FHIR R4 `id` datatype: 1-64 of [A-Za-z0-9-.]. */
export const FHIR_ID_PATTERN = /^[A-Za-z0-9\-.]{1,64}$/;
