/**
 * The model registry and the gateway's limits (`models` and `gateway` in ward.json). Each model
 * names its adapter, where it runs (trust zone), what it may serve (purposes of use) and its
 * limits. Validation happens once at start; an endpoint Ward may not reach (see
 * `src/models/egress/`) stops the start with a one-line message naming the model.
 */
import { z } from 'zod';

const MODEL_ID = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$/;
const PURPOSE = /^[A-Z][A-Z0-9_-]{1,31}$/;

export const modelLimitsSchema = z
  .object({
    /** Context window in tokens (prompt + completion). */
    contextTokens: z.number().int().min(64).max(1_048_576).default(4096),
    /** Upper bound on generated tokens per call; a caller's `max_tokens` is capped to it. */
    maxTokens: z.number().int().min(1).max(262_144).default(1024),
    /** Calls in flight to this model at once. */
    concurrency: z.number().int().min(1).max(1024).default(4),
    /** Calls waiting for a slot; beyond this the gateway answers 503 with Retry-After. */
    queue: z.number().int().min(0).max(10_000).default(32),
    /** Whole-call timeout (queue wait excluded), milliseconds. */
    timeoutMs: z.number().int().min(100).max(600_000).default(60_000),
  })
  .strict();

const common = {
  id: z.string().regex(MODEL_ID, 'must be a model id (letters, digits, . _ : / -; at most 64)'),
  /** Purposes of use (HL7 v3 PurposeOfUse) the model may serve; absent: every purpose the policy permits. */
  purposes: z.array(z.string().regex(PURPOSE, 'must be a PurposeOfUse code')).min(1).optional(),
  limits: modelLimitsSchema.default(modelLimitsSchema.parse({})),
  /** Models to try when this one fails (same or stronger trust zone only: checked at start). */
  fallback: z.array(z.string().regex(MODEL_ID)).max(8).default([]),
};

const zoneFields = z.discriminatedUnion('zone', [
  z.object({ zone: z.literal('on-prem') }).strict(),
  /** The Business Associate Agreement on file that covers this model (its reference, for the accounting). */
  z.object({ zone: z.literal('baa'), baa: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$/, 'must be the agreement reference (no spaces)') }).strict(),
  z.object({ zone: z.literal('external') }).strict(),
]);

export const openAiCompatibleModelSchema = z
  .object({
    ...common,
    adapter: z.literal('openai-compatible'),
    /** Base URL of the OpenAI-compatible API, up to and including `/v1`. */
    endpoint: z.url({ protocol: /^https?$/ }),
    /** The model name the server knows (vLLM's served name, Ollama's tag); defaults to `id`. */
    upstreamModel: z.string().min(1).max(256).optional(),
    /** How the server takes a JSON schema: OpenAI's `json_schema` (vLLM, Ollama, llama.cpp) or TGI's `json`. */
    dialect: z.enum(['openai', 'tgi']).default('openai'),
    /** Environment variable holding the bearer key for the server (never the key itself in the file). */
    apiKeyEnv: z.string().regex(/^[A-Z_][A-Z0-9_]{0,63}$/).optional(),
    /**
     * Addresses (IPs or CIDRs) the endpoint may resolve to when it is not loopback or private.
     * Required for `baa`/`external` models with a public endpoint: egress is deny-by-default.
     */
    allowAddresses: z.array(z.string().min(1).max(64)).max(64).default([]),
  })
  .and(zoneFields);

export const embeddedModelSchema = z
  .object({
    ...common,
    adapter: z.literal('embedded'),
    /** A GGUF file, run in-process with node-llama-cpp (relative paths: from the data directory). */
    path: z.string().min(1),
    /** CPU threads for generation; default: cores - 1 (node-llama-cpp's own default is far too slow on small machines). */
    threads: z.number().int().min(1).max(256).optional(),
  })
  .and(z.object({ zone: z.literal('on-prem').default('on-prem') }).strict());

export const modelConfigSchema = z.union([openAiCompatibleModelSchema, embeddedModelSchema]);
export type ModelConfig = z.infer<typeof modelConfigSchema>;
export type ModelConfigInput = z.input<typeof modelConfigSchema>;
export type OpenAiCompatibleModelConfig = z.infer<typeof openAiCompatibleModelSchema>;
export type EmbeddedModelConfig = z.infer<typeof embeddedModelSchema>;
export type ModelLimits = z.infer<typeof modelLimitsSchema>;

export const gatewayConfigSchema = z
  .object({
    /**
     * Largest accepted request body for the model API, bytes. Every byte is scanned for PHI on
     * the event loop (about 1.5 s per MB of adversarial text), so the default is 256 KiB: a
     * 64k-token conversation.
     */
    bodyLimitBytes: z.number().int().min(1024).max(64 * 1024 * 1024).default(262_144),
    /** Requests per identity per minute across all models (0: no limit). */
    requestsPerMinute: z.number().int().min(0).max(1_000_000).default(600),
    /** Requests per model per minute, all identities together (0: no limit). */
    modelRequestsPerMinute: z.number().int().min(0).max(10_000_000).default(0),
    /** Tokens (prompt + completion) per identity per day (0: no quota). */
    tokensPerDay: z.number().int().min(0).max(1_000_000_000).default(0),
    /** What an `external` model gets when the prompt holds PHI: de-identified text, or nothing (refused). */
    externalPhi: z.enum(['deidentify', 'refuse']).default('deidentify'),
    /** Re-identify placeholders in an `external` model's answer before it returns to an authorized caller. */
    reidentifyExternal: z.boolean().default(true),
  })
  .strict();
export type GatewayConfig = z.infer<typeof gatewayConfigSchema>;
