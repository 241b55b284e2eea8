/**
 * The adapter for any OpenAI-compatible chat server (vLLM, Ollama, llama.cpp server, TGI, or a
 * hosted API under a BAA). It rebuilds the upstream body from the ChatRequest fields alone, so
 * nothing a caller sent that Ward does not know can reach a model (minimum necessary,
 * 45 CFR 164.502(b)), and every connection goes through the egress guard (src/models/egress/):
 * DNS answers are checked inside the connect, IP literals before each request, and redirects
 * are never followed. Upstream bodies of failed calls are discarded unread: they may echo the
 * prompt, and error messages must never carry PHI.
 */
import { Agent, request } from 'undici';
import type { Dispatcher } from 'undici';
import { z } from 'zod';
import type { OpenAiCompatibleModelConfig } from '../config/models-config.js';
import { isWardError, WardError } from '../shared/ward-error.js';
import { checkEndpoint, egressVerdict, ipLiteralHost } from './egress/egress-rule.js';
import type { EgressRule } from './egress/egress-rule.js';
import { guardedLookup } from './egress/guarded-lookup.js';
import type { Resolve } from './egress/guarded-lookup.js';
import type { ChatRequest, ChatResult, ChatStreamEvent, FinishReason, ModelAdapter, TokenUsage } from './model-adapter.js';
import { readSse } from './sse-reader.js';

export interface OpenAiCompatibleAdapterOptions {
  readonly config: OpenAiCompatibleModelConfig;
  /** The bearer key (read from `config.apiKeyEnv` by the composition root); never logged. */
  readonly apiKey?: string;
  /** DNS resolution (tests inject one); default: the system resolver, every address. */
  readonly resolve?: Resolve;
  /** Largest response body accepted, bytes (a stream counts all its events). Default 8 MiB. */
  readonly maxResponseBytes?: number;
}

const DEFAULT_MAX_RESPONSE_BYTES = 8 * 1024 * 1024;
/** Below common server keep-alive timeouts (uvicorn: 5 s) so Ward never reuses a socket the server is closing. */
const KEEP_ALIVE_MS = 4_000;
/** Socket timeouts are a backstop behind the gateway's own per-call AbortSignal. */
const TIMEOUT_MARGIN_MS = 5_000;
/** A rough count for servers that report no usage: about 4 characters per token for English text. */
const CHARS_PER_TOKEN = 4;

const usageSchema = z.object({ prompt_tokens: z.number().int().min(0), completion_tokens: z.number().int().min(0) });

const completionSchema = z.object({
  choices: z
    .array(
      z.object({
        message: z.object({ content: z.string().nullish() }),
        finish_reason: z.string().nullish(),
      }),
    )
    .min(1),
  usage: usageSchema.nullish(),
});

const chunkSchema = z.object({
  choices: z
    .array(
      z.object({
        delta: z.object({ content: z.string().nullish() }).nullish(),
        finish_reason: z.string().nullish(),
      }),
    )
    .default([]),
  usage: usageSchema.nullish(),
});

type UpstreamUsage = z.infer<typeof usageSchema>;

function cancelled(cause?: unknown): WardError {
  return new WardError('model.cancelled', 'the model call was cancelled', { status: 499, cause });
}

function invalid(modelId: string, what: string): WardError {
  return new WardError('model.upstream_invalid', `model ${modelId}: ${what}`, { status: 502, extra: { modelId } });
}

function ignore(): void {
  // deliberately empty: see the callers
}

function finishReasonOf(reason: string | null | undefined): FinishReason {
  return reason === 'length' ? 'length' : 'stop';
}

function estimateTokens(chars: number): number {
  return Math.ceil(chars / CHARS_PER_TOKEN);
}

/** Retry-After (RFC 9110 10.2.3) as seconds from now: delay-seconds or an HTTP date. */
function retryAfterSeconds(value: string | string[] | undefined): number | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  if (raw === undefined) return undefined;
  if (/^\d{1,9}$/.test(raw.trim())) return Number(raw.trim());
  const at = Date.parse(raw);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

export class OpenAiCompatibleAdapter implements ModelAdapter {
  readonly kind = 'openai-compatible' as const;
  private readonly config: OpenAiCompatibleModelConfig;
  private readonly apiKey: string | undefined;
  private readonly maxResponseBytes: number;
  private readonly rule: EgressRule;
  private readonly url: URL;
  private readonly agent: Agent;
  private closed = false;

  /** Throws `config.model_endpoint` when the endpoint may not be reached at all. */
  constructor(options: OpenAiCompatibleAdapterOptions) {
    const { config } = options;
    this.config = config;
    this.apiKey = options.apiKey;
    this.maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    this.rule = checkEndpoint(config.id, config.endpoint, config.zone, config.allowAddresses);
    const base = config.endpoint.endsWith('/') ? config.endpoint : `${config.endpoint}/`;
    this.url = new URL('chat/completions', base);
    this.agent = new Agent({
      connect: { lookup: guardedLookup(this.rule, options.resolve) },
      connections: config.limits.concurrency,
      keepAliveTimeout: KEEP_ALIVE_MS,
      keepAliveMaxTimeout: KEEP_ALIVE_MS,
      headersTimeout: config.limits.timeoutMs + TIMEOUT_MARGIN_MS,
      bodyTimeout: config.limits.timeoutMs + TIMEOUT_MARGIN_MS,
    });
  }

  async complete(chatRequest: ChatRequest, signal: AbortSignal): Promise<ChatResult> {
    const response = await this.send(chatRequest, false, signal);
    let raw: string;
    try {
      raw = await this.readBounded(response.body, signal);
    } catch (error) {
      throw this.mapFailure(error, signal);
    }
    let parsed: z.infer<typeof completionSchema>;
    try {
      const json: unknown = JSON.parse(raw);
      const result = completionSchema.safeParse(json);
      if (!result.success) throw invalid(this.config.id, 'the model server answered with an unexpected shape');
      parsed = result.data;
    } catch (error) {
      throw isWardError(error) ? error : invalid(this.config.id, 'the model server answered with something that is not JSON');
    }
    const choice = parsed.choices[0];
    const text = choice?.message.content ?? '';
    return {
      text,
      finishReason: finishReasonOf(choice?.finish_reason),
      usage: this.usageOf(parsed.usage, chatRequest, text),
    };
  }

  async *stream(chatRequest: ChatRequest, signal: AbortSignal): AsyncGenerator<ChatStreamEvent> {
    const response = await this.send(chatRequest, true, signal);
    const { body } = response;
    let text = '';
    let finishReason: FinishReason | undefined;
    let usage: UpstreamUsage | undefined;
    let completed = false;
    try {
      for await (const message of readSse(this.boundedBytes(body), { maxLineChars: this.maxResponseBytes })) {
        if (signal.aborted) throw cancelled(signal.reason);
        if (message.kind === 'done') {
          completed = true;
          break;
        }
        const chunk = this.parseChunk(message.data);
        if (chunk.usage !== null && chunk.usage !== undefined) usage = chunk.usage;
        const choice = chunk.choices[0];
        if (choice?.finish_reason !== null && choice?.finish_reason !== undefined) finishReason = finishReasonOf(choice.finish_reason);
        const delta = choice?.delta?.content;
        if (delta !== null && delta !== undefined && delta !== '') {
          text += delta;
          yield { type: 'delta', text: delta };
          // The consumer may have aborted while we were suspended at the yield.
          if (signal.aborted) throw cancelled(signal.reason);
        }
      }
    } catch (error) {
      throw this.mapFailure(error, signal);
    } finally {
      // Early exit (break, abort, error): closing the body aborts the request and its socket.
      if (!body.destroyed) body.destroy();
    }
    if (signal.aborted) throw cancelled(signal.reason);
    // A stream cut off before both `[DONE]` and a finish_reason may be a truncated answer.
    if (!completed && finishReason === undefined) throw invalid(this.config.id, 'the model server ended the stream early');
    yield { type: 'end', finishReason: finishReason ?? 'stop', usage: this.usageOf(usage, chatRequest, text) };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // destroy, not close: close would wait for in-flight calls (a hung upstream would hold shutdown).
    await this.agent.destroy();
  }

  /** The upstream body, rebuilt from ChatRequest fields only (never the caller's raw body). */
  private upstreamBody(chatRequest: ChatRequest, stream: boolean): Record<string, unknown> {
    const body: Record<string, unknown> = {
      model: this.config.upstreamModel ?? this.config.id,
      messages: chatRequest.messages.map((m) => ({ role: m.role, content: m.content })),
      max_tokens: chatRequest.maxTokens,
      stream,
    };
    if (chatRequest.temperature !== undefined) body['temperature'] = chatRequest.temperature;
    if (chatRequest.topP !== undefined) body['top_p'] = chatRequest.topP;
    if (chatRequest.stop !== undefined && chatRequest.stop.length > 0) body['stop'] = [...chatRequest.stop];
    if (chatRequest.seed !== undefined) body['seed'] = chatRequest.seed;
    if (stream) body['stream_options'] = { include_usage: true };
    const format = chatRequest.jsonSchema;
    if (format !== undefined) {
      body['response_format'] =
        this.config.dialect === 'tgi'
          ? { type: 'json', value: format.schema }
          : { type: 'json_schema', json_schema: { name: format.name, schema: format.schema, strict: true } };
    }
    return body;
  }

  private async send(chatRequest: ChatRequest, stream: boolean, signal: AbortSignal): Promise<Dispatcher.ResponseData> {
    if (this.closed) throw this.closedError();
    if (signal.aborted) throw cancelled(signal.reason);
    // Node never calls the lookup hook for an IP literal, so the guard runs here as well.
    const literal = ipLiteralHost(this.url);
    if (literal !== undefined) {
      const verdict = egressVerdict(this.rule, literal);
      if (!verdict.allowed) {
        throw new WardError(verdict.code, verdict.reason, { status: 502, extra: { modelId: this.config.id } });
      }
    }
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept: stream ? 'text/event-stream' : 'application/json',
    };
    if (this.apiKey !== undefined) headers['authorization'] = `Bearer ${this.apiKey}`;
    let response: Dispatcher.ResponseData;
    try {
      response = await request(this.url, {
        dispatcher: this.agent,
        method: 'POST',
        headers,
        body: JSON.stringify(this.upstreamBody(chatRequest, stream)),
        signal,
      });
    } catch (error) {
      throw this.mapFailure(error, signal);
    }
    const { statusCode } = response;
    // Destroying a body early (abort, oversize, early break) emits an error nobody else awaits;
    // iteration still reports errors to the reader.
    response.body.on('error', ignore);
    if (statusCode >= 200 && statusCode < 300) return response;
    // Discard the body without keeping it: an error page may quote the prompt back. (dump()
    // reads a bounded amount so the connection can be reused, then closes it.)
    await response.body.dump({ limit: 64 * 1024 }).catch(ignore);
    const extra = { modelId: this.config.id, upstreamStatus: statusCode };
    if (statusCode >= 300 && statusCode < 400) {
      throw new WardError('egress.redirect_refused', `model ${this.config.id}: the model server redirected; redirects are never followed`, {
        status: 502,
        extra,
      });
    }
    if (statusCode === 429 || statusCode === 503) {
      const retry = retryAfterSeconds(response.headers['retry-after']);
      throw new WardError('model.upstream_busy', `model ${this.config.id}: the model server is busy`, {
        status: 503,
        extra: retry === undefined ? extra : { ...extra, retryAfterSeconds: retry },
      });
    }
    throw new WardError('model.upstream_error', `model ${this.config.id}: the model server answered with an error`, { status: 502, extra });
  }

  /** The body's bytes, refusing more than maxResponseBytes. */
  private async *boundedBytes(body: Dispatcher.ResponseData['body']): AsyncGenerator<Uint8Array> {
    let total = 0;
    for await (const chunk of body as AsyncIterable<Uint8Array>) {
      total += chunk.byteLength;
      if (total > this.maxResponseBytes) throw invalid(this.config.id, 'the model server answered with too many bytes');
      yield chunk;
    }
  }

  private async readBounded(body: Dispatcher.ResponseData['body'], signal: AbortSignal): Promise<string> {
    const parts: Uint8Array[] = [];
    try {
      for await (const chunk of this.boundedBytes(body)) parts.push(chunk);
    } finally {
      if (!body.destroyed) body.destroy();
    }
    if (signal.aborted) throw cancelled(signal.reason);
    return Buffer.concat(parts).toString('utf8');
  }

  private parseChunk(data: string): z.infer<typeof chunkSchema> {
    let json: unknown;
    try {
      json = JSON.parse(data);
    } catch {
      throw invalid(this.config.id, 'the model server streamed something that is not JSON');
    }
    const result = chunkSchema.safeParse(json);
    if (!result.success) throw invalid(this.config.id, 'the model server streamed an unexpected shape');
    return result.data;
  }

  private usageOf(usage: UpstreamUsage | null | undefined, chatRequest: ChatRequest, text: string): TokenUsage {
    if (usage !== null && usage !== undefined) {
      return { promptTokens: usage.prompt_tokens, completionTokens: usage.completion_tokens };
    }
    // The server reported no usage (some llama.cpp and TGI builds): estimate at ~4 characters a
    // token so quotas still count something; it is an estimate, not the model's tokenizer.
    const promptChars = chatRequest.messages.reduce((n, m) => n + m.content.length, 0);
    return { promptTokens: estimateTokens(promptChars), completionTokens: estimateTokens(text.length) };
  }

  private closedError(): WardError {
    return new WardError('model.closed', `model ${this.config.id}: the adapter is closed`, { status: 503, extra: { modelId: this.config.id } });
  }

  /** Map a transport failure to a stable code; never carries upstream text. */
  private mapFailure(error: unknown, signal: AbortSignal): WardError {
    if (signal.aborted) return cancelled(signal.reason);
    if (isWardError(error)) return error;
    if (this.closed) return this.closedError();
    const code = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : '';
    const extra = { modelId: this.config.id, ...(code === '' ? {} : { transportCode: code }) };
    if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT') {
      return new WardError('model.upstream_timeout', `model ${this.config.id}: the model server did not answer in time`, { status: 504, extra });
    }
    return new WardError('model.upstream_unreachable', `model ${this.config.id}: the model server could not be reached`, { status: 502, extra });
  }
}

/** Factory form for the composition root. */
export async function openOpenAiCompatibleAdapter(options: OpenAiCompatibleAdapterOptions): Promise<OpenAiCompatibleAdapter> {
  return new OpenAiCompatibleAdapter(options);
}
