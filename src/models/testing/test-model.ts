/**
 * The test model for the embedded adapter: `test-data/models/stories260K.gguf` in the repository
 * (MIT weights, provenance in test-data/models/README.md), so a clean clone runs the embedded
 * suites anywhere without a network. It writes nonsense: it proves plumbing, not quality.
 */
import { fileURLToPath } from 'node:url';

export const TEST_MODEL_PATH = fileURLToPath(new URL('../../../test-data/models/stories260K.gguf', import.meta.url));

/** The context the model was trained with (its metadata claims 2048; llama2.c trained on 512). */
export const TEST_MODEL_CONTEXT_TOKENS = 512;
