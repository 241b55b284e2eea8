import type { FhirResource } from '../fhir-resource.js';

/**
 * One thing read from an import source, with where it came from (`file:line` for NDJSON,
 * `file#entry[12]` for a Bundle entry). Problems name paths and rules, never values: the
 * report is printed on a terminal and may be saved, and the values are PHI. The `invalid`
 * codes (`records.invalid_resource`, `import.invalid_json`...) are listed in src/records/README.md.
 */
export type ImportItem =
  | { kind: 'resource'; location: string; resource: FhirResource }
  | { kind: 'invalid'; location: string; code: string; problems: string[] }
  | { kind: 'skipped'; location: string; resourceType: string };
