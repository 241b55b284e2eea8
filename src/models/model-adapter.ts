/**
 * The port every model adapter implements (`openai-compatible`, `embedded`). The gateway hands
 * an adapter a request it has already checked, scanned and (for `external` models)
 * de-identified; the adapter only talks to its model. Adapters never receive the caller's raw
 * body: the upstream request is rebuilt from these fields alone, so a field Ward does not know
 * can never ride along to a model.
 *
 * Cancellation: every call takes an AbortSignal (timeout, client disconnect, shutdown); an
 * adapter must stop the upstream work when it fires and reject with `model.cancelled`.
 */

export type ChatRole = 'system' | 'user' | 'assistant';

export interface ChatMessage {
  readonly role: ChatRole;
  readonly content: string;
}

/** A JSON schema the response must satisfy (OpenAI `response_format: {type: "json_schema"}`). */
export interface JsonSchemaFormat {
  readonly name: string;
  readonly schema: Record<string, unknown>;
}

export interface ChatRequest {
  readonly messages: readonly ChatMessage[];
  /** Upper bound on generated tokens (already capped by the model's limits). */
  readonly maxTokens: number;
  readonly temperature?: number;
  readonly topP?: number;
  readonly stop?: readonly string[];
  readonly seed?: number;
  /** Constrain the output to this schema (the gateway validates it again afterwards). */
  readonly jsonSchema?: JsonSchemaFormat;
}

export type FinishReason = 'stop' | 'length';

export interface TokenUsage {
  readonly promptTokens: number;
  readonly completionTokens: number;
}

export interface ChatResult {
  readonly text: string;
  readonly finishReason: FinishReason;
  readonly usage: TokenUsage;
}

/** A streamed response: text deltas, then exactly one `end` (unless the call fails or is cancelled). */
export type ChatStreamEvent =
  | { readonly type: 'delta'; readonly text: string }
  | { readonly type: 'end'; readonly finishReason: FinishReason; readonly usage: TokenUsage };

export interface ModelAdapter {
  readonly kind: 'openai-compatible' | 'embedded';
  complete(request: ChatRequest, signal: AbortSignal): Promise<ChatResult>;
  stream(request: ChatRequest, signal: AbortSignal): AsyncIterable<ChatStreamEvent>;
  /** Release connections, contexts and model memory. */
  close(): Promise<void>;
}
