/**
 * Where the synthetic Synthea FHIR R4 test data lives: `test-data/` in the repository (copied
 * from the workplace's shared data with provenance in test-data/README.md), so a clean clone
 * runs the records suites anywhere.
 */
import { fileURLToPath } from 'node:url';

export const SYNTHEA_BULK = fileURLToPath(new URL('../../../test-data/fhir-r4-synthea-bulk-10-patients', import.meta.url));
export const SYNTHEA_BUNDLES = fileURLToPath(new URL('../../../test-data/fhir-r4-synthea-bundles', import.meta.url));
