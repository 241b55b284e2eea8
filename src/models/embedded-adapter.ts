/**
 * The `embedded` model adapter: a local GGUF file run in-process with node-llama-cpp (llama.cpp),
 * the on-prem default that needs no model server. Nothing leaves the process, so it is the
 * strongest trust zone (DESIGN "Trust zones": on-prem).
 *
 * One llama.cpp context holds `concurrency` sequences (each with `contextTokens` cells); a call
 * takes a free sequence, generates, clears it and gives it back on every path (success, error,
 * cancellation), so a cancelled call never leaks a slot or leaves its prompt in the KV cache for
 * the next caller. Calls beyond `concurrency` wait for a sequence (the gateway bounds them too).
 *
 * Chat messages become a prompt through node-llama-cpp's chat wrapper for the model (its own
 * template when the file has one, else a wrapper resolved from its architecture); the prompt's
 * token count is the count of that formatted text, checked against the context before any work.
 *
 * Nothing from a prompt or an answer reaches a log or an error: llama.cpp's logger is a no-op
 * and every WardError message here carries ids and numbers only.
 */
import { setMaxListeners } from 'node:events';
import { open as openFile } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import os from 'node:os';
import { getLlama, LlamaChat, LlamaLogLevel, resolveChatWrapper } from 'node-llama-cpp';
import type {
  ChatHistoryItem,
  ChatWrapper,
  GbnfJsonSchema,
  Llama,
  LlamaContext,
  LlamaContextSequence,
  LlamaGrammar,
  LlamaModel,
} from 'node-llama-cpp';
import { WardError } from '../shared/ward-error.js';
import { LruMap } from '../shared/lru-map.js';
import type {
  ChatMessage,
  ChatRequest,
  ChatResult,
  ChatStreamEvent,
  FinishReason,
  ModelAdapter,
} from './model-adapter.js';

export interface EmbeddedAdapterOptions {
  /** The GGUF file (already resolved against the data directory by the caller). */
  readonly path: string;
  /** CPU threads for generation; default: cores - 1 (at least 1). */
  readonly threads?: number;
  /** Context window per sequence (prompt + completion), in tokens. */
  readonly contextTokens: number;
  /** Calls generating at once (one llama.cpp sequence each). */
  readonly concurrency: number;
}

/** JSON-schema grammars kept per adapter (building one walks the schema and compiles GBNF). */
const GRAMMAR_CACHE_SIZE = 32;

export class EmbeddedAdapter implements ModelAdapter {
  readonly kind = 'embedded' as const;

  private readonly free: LlamaContextSequence[];
  private readonly waiters: Waiter[] = [];
  private readonly grammars = new LruMap<string, Promise<LlamaGrammar>>(GRAMMAR_CACHE_SIZE);
  private readonly inFlight = new Set<Promise<unknown>>();
  /** Fires on close(): stops every generation still running. */
  private readonly closing = new AbortController();
  private closed: Promise<void> | undefined;

  private constructor(
    private readonly llama: Llama,
    private readonly model: LlamaModel,
    private readonly context: LlamaContext,
    private readonly chatWrapper: ChatWrapper,
    private readonly contextTokens: number,
    sequences: LlamaContextSequence[],
  ) {
    this.free = sequences;
    // Every call in flight listens for close(); more than 10 at once is normal, not a leak.
    setMaxListeners(0, this.closing.signal);
  }

  static async open(options: EmbeddedAdapterOptions): Promise<EmbeddedAdapter> {
    const { path, contextTokens, concurrency } = options;
    // node-llama-cpp's default on CPU is max(4, math cores) threads: on a 2-core machine that
    // oversubscribes the cores and generation fell ~100x (0.3-0.9 tokens/s against hundreds with
    // 1 thread). Leave one core to the server itself.
    const threads = options.threads ?? Math.max(1, os.availableParallelism() - 1);
    await checkGgufFile(path);

    let llama: Llama;
    try {
      llama = await getLlama({
        gpu: false,
        // Never compile llama.cpp (minutes of CPU, a toolchain, a download): a machine without a
        // prebuilt binary fails now, with one line, and the operator picks another model.
        build: 'never',
        skipDownload: true,
        progressLogs: false,
        // llama.cpp and node-llama-cpp log through this; nothing of theirs may reach the console
        // or Ward's logs (a log line could quote model input).
        logLevel: LlamaLogLevel.disabled,
        logger: () => undefined,
        maxThreads: threads,
      });
    } catch (e) {
      throw new WardError(
        'model.embedded_unavailable',
        'node-llama-cpp has no usable prebuilt llama.cpp binary for this machine (Ward does not compile one)',
        { status: 503, cause: e, extra: { reason: errorName(e) } },
      );
    }

    let model: LlamaModel | undefined;
    try {
      model = await llama.loadModel({ modelPath: path });
      const context = await model.createContext({ contextSize: contextTokens, sequences: concurrency, threads });
      const sequences = Array.from({ length: concurrency }, () => context.getSequence());
      const chatWrapper = resolveChatWrapper(model);
      return new EmbeddedAdapter(llama, model, context, chatWrapper, contextTokens, sequences);
    } catch (e) {
      await model?.dispose().catch(() => undefined);
      await llama.dispose().catch(() => undefined);
      throw new WardError(
        'model.embedded_unavailable',
        `embedded model file ${JSON.stringify(path)} could not be loaded (contextTokens ${contextTokens}, concurrency ${concurrency})`,
        { status: 503, cause: e, extra: { reason: errorName(e) } },
      );
    }
  }

  async complete(request: ChatRequest, signal: AbortSignal): Promise<ChatResult> {
    return this.track(this.generate(request, signal, undefined));
  }

  stream(request: ChatRequest, signal: AbortSignal): AsyncIterable<ChatStreamEvent> {
    return this.streamEvents(request, signal);
  }

  async close(): Promise<void> {
    this.closed ??= this.shutdown();
    return this.closed;
  }

  private async shutdown(): Promise<void> {
    this.closing.abort();
    for (const waiter of this.waiters.splice(0)) waiter.reject(closedError());
    await Promise.allSettled([...this.inFlight]);
    await this.context.dispose().catch(() => undefined);
    await this.model.dispose().catch(() => undefined);
    await this.llama.dispose().catch(() => undefined);
  }

  private async *streamEvents(request: ChatRequest, signal: AbortSignal): AsyncGenerator<ChatStreamEvent> {
    // The consumer may stop early (break, or an error downstream): that cancels the generation.
    const left = new AbortController();
    const deltas: string[] = [];
    let wake: (() => void) | undefined;
    let outcome: { ok: true; result: ChatResult } | { ok: false; error: unknown } | undefined;
    const done = this.track(
      this.generate(request, AbortSignal.any([signal, left.signal]), (text) => {
        deltas.push(text);
        wake?.();
      }),
    ).then(
      (result) => {
        outcome = { ok: true, result };
        wake?.();
      },
      (error: unknown) => {
        outcome = { ok: false, error };
        wake?.();
      },
    );
    try {
      for (;;) {
        for (let text = deltas.shift(); text !== undefined; text = deltas.shift()) {
          // Text generated before the abort landed is not delivered after it.
          if (signal.aborted) throw cancelledError();
          yield { type: 'delta', text };
        }
        if (outcome !== undefined) break;
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
      }
      if (!outcome.ok) throw outcome.error;
      if (signal.aborted) throw cancelledError();
      const { finishReason, usage } = outcome.result;
      yield { type: 'end', finishReason, usage };
    } finally {
      left.abort();
      await done;
    }
  }

  private track<T>(work: Promise<T>): Promise<T> {
    this.inFlight.add(work);
    const forget = (): void => {
      this.inFlight.delete(work);
    };
    work.then(forget, forget);
    return work;
  }

  /** One call: check, take a sequence, generate, release. `onDelta` receives streamed text. */
  private async generate(
    request: ChatRequest,
    signal: AbortSignal,
    onDelta: ((text: string) => void) | undefined,
  ): Promise<ChatResult> {
    if (this.closed !== undefined) throw closedError();
    if (signal.aborted) throw cancelledError();

    const history = toChatHistory(request.messages);
    const promptTokens = this.chatWrapper
      .generateContextState({ chatHistory: history })
      .contextText.tokenize(this.model.tokenizer).length;
    if (promptTokens + request.maxTokens > this.contextTokens) {
      throw new WardError(
        'model.context_exceeded',
        `the prompt (${promptTokens} tokens) and max_tokens (${request.maxTokens}) do not fit the model's context of ${this.contextTokens} tokens`,
        { status: 400, extra: { promptTokens, maxTokens: request.maxTokens, contextTokens: this.contextTokens } },
      );
    }
    const grammar = request.jsonSchema === undefined ? undefined : await this.grammarFor(request.jsonSchema.schema);

    const stop = new AbortController();
    const abort = (): void => stop.abort();
    signal.addEventListener('abort', abort, { once: true });
    this.closing.signal.addEventListener('abort', abort, { once: true });
    try {
      if (signal.aborted || this.closing.signal.aborted) abort();
      const sequence = await this.acquire(stop.signal);
      let chat: LlamaChat | undefined;
      try {
        chat = new LlamaChat({ contextSequence: sequence, chatWrapper: this.chatWrapper });
        let completionTokens = 0;
        const response = await chat.generateResponse(history, {
          signal: stop.signal,
          stopOnAbortSignal: false,
          maxTokens: request.maxTokens,
          // Absent: node-llama-cpp's default 0, greedy and repeatable (topP and seed then do nothing).
          temperature: request.temperature,
          topP: request.topP,
          seed: request.seed,
          ...(request.stop !== undefined && request.stop.length > 0 ? { customStopTriggers: request.stop } : {}),
          grammar,
          // Every generated token, thoughts included (they cost the same); only main text is sent.
          onResponseChunk: (chunk) => {
            completionTokens += chunk.tokens.length;
          },
          onTextChunk: (text) => {
            if (text !== '') onDelta?.(text);
          },
          // The prompt was checked to fit: never drop messages from the history silently.
          contextShift: {
            strategy: () => {
              throw new WardError('model.context_exceeded', 'the conversation does not fit the model context', { status: 400 });
            },
          },
        });
        if (stop.signal.aborted) throw cancelledError();
        const finishReason: FinishReason = response.metadata.stopReason === 'maxTokens' ? 'length' : 'stop';
        return { text: response.response, finishReason, usage: { promptTokens, completionTokens } };
      } finally {
        chat?.dispose({ disposeSequence: false });
        await sequence.clearHistory().catch(() => undefined);
        this.release(sequence);
      }
    } catch (e) {
      if (signal.aborted) throw cancelledError();
      if (this.closing.signal.aborted) throw closedError();
      if (e instanceof WardError) throw e;
      // The runtime failed, not the request: the gateway may try a fallback model.
      throw new WardError('model.embedded_unavailable', 'the embedded model failed while generating', {
        status: 503,
        cause: e,
        extra: { reason: errorName(e) },
      });
    } finally {
      signal.removeEventListener('abort', abort);
      this.closing.signal.removeEventListener('abort', abort);
    }
  }

  private acquire(signal: AbortSignal): Promise<LlamaContextSequence> {
    const sequence = this.free.pop();
    if (sequence !== undefined) return Promise.resolve(sequence);
    if (signal.aborted) return Promise.reject(cancelledError());
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        resolve: (s) => {
          signal.removeEventListener('abort', onAbort);
          resolve(s);
        },
        reject: (e) => {
          signal.removeEventListener('abort', onAbort);
          reject(e);
        },
      };
      const onAbort = (): void => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(cancelledError());
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  private release(sequence: LlamaContextSequence): void {
    const next = this.waiters.shift();
    if (next === undefined) this.free.push(sequence);
    else next.resolve(sequence);
  }

  private async grammarFor(schema: Record<string, unknown>): Promise<LlamaGrammar> {
    const grammarSchema = toGrammarSchema(schema);
    const key = stableKey(grammarSchema);
    const cached = this.grammars.get(key);
    if (cached !== undefined) return cached;
    const built = Promise.resolve()
      .then(() => this.llama.createGrammarForJsonSchema<GbnfJsonSchema>(grammarSchema as GbnfJsonSchema))
      .catch((e: unknown) => {
        this.grammars.delete(key);
        throw schemaUnsupported('the grammar builder rejected it', e);
      });
    this.grammars.set(key, built);
    return built;
  }
}

interface Waiter {
  resolve(sequence: LlamaContextSequence): void;
  reject(error: Error): void;
}

/** A missing, unreadable or non-GGUF file stops the start with one line naming the file. */
async function checkGgufFile(path: string): Promise<void> {
  const unavailable = (why: string, cause?: unknown): WardError =>
    new WardError('model.embedded_unavailable', `embedded model file ${JSON.stringify(path)} ${why}`, {
      status: 503,
      ...(cause === undefined ? {} : { cause, extra: { reason: errorName(cause) } }),
    });
  let handle: FileHandle;
  try {
    handle = await openFile(path, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw unavailable(code === 'ENOENT' ? 'does not exist' : 'cannot be read', e);
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw unavailable('is not a regular file');
    const magic = Buffer.alloc(4);
    const { bytesRead } = await handle.read(magic, 0, 4, 0);
    // GGUF files start with the ASCII magic "GGUF" (ggml's gguf.h, GGUF_MAGIC).
    if (bytesRead < 4 || magic.toString('latin1') !== 'GGUF') throw unavailable('is not a GGUF file');
  } catch (e) {
    if (e instanceof WardError) throw e;
    throw unavailable('cannot be read', e);
  } finally {
    await handle.close().catch(() => undefined);
  }
}

function toChatHistory(messages: readonly ChatMessage[]): ChatHistoryItem[] {
  const history: ChatHistoryItem[] = messages.map((m): ChatHistoryItem => {
    switch (m.role) {
      case 'system':
        return { type: 'system', text: m.content };
      case 'user':
        return { type: 'user', text: m.content };
      case 'assistant':
        return { type: 'model', response: [m.content] };
    }
  });
  // The response to generate: an empty model turn at the end.
  history.push({ type: 'model', response: [] });
  return history;
}

type SchemaNode = Record<string, unknown>;

/** Keywords that change which JSON is valid but that node-llama-cpp's grammar builder ignores, reading the schema as something else. */
const STRUCTURAL_UNSUPPORTED = [
  'allOf',
  'not',
  'if',
  'then',
  'else',
  'patternProperties',
  'propertyNames',
  'dependentSchemas',
  'dependentRequired',
  'unevaluatedProperties',
  'unevaluatedItems',
  'contains',
] as const;
const TYPES = new Set(['string', 'number', 'integer', 'boolean', 'null', 'object', 'array']);
const GRAMMAR_FORMATS = new Set(['date', 'time', 'date-time']);
const REF_PREFIX = '#/$defs/';

/**
 * The schema rewritten into the subset node-llama-cpp's builder reads correctly, or
 * `model.schema_unsupported`. The builder does not fail on what it does not know: it silently
 * reads `allOf`, `anyOf` or a typeless schema as "null only", a foreign `$ref` as "any JSON",
 * and `type: ["object","null"]` as "null": constrained decoding would then produce JSON the
 * schema rejects every time. So: `anyOf` becomes `oneOf` (a grammar generates the same language
 * for both), a type list becomes a `oneOf` of single types, and string formats other than
 * date/time/date-time are dropped (any string). Value bounds the grammar cannot express
 * (`pattern`, `minimum`, `multipleOf`...) are left to the gateway's validation afterwards.
 * Every property is generated (the builder treats all as required), which the schema accepts.
 */
export function toGrammarSchema(schema: Record<string, unknown>): Record<string, unknown> {
  return rewrite(schema, [], 0);
}

function rewrite(node: unknown, defsInScope: readonly SchemaNode[], depth: number): SchemaNode {
  if (depth > 64) throw schemaUnsupported('it nests deeper than 64 levels');
  if (!isNode(node)) throw schemaUnsupported('a subschema is not an object');
  for (const keyword of STRUCTURAL_UNSUPPORTED) {
    if (keyword in node) throw schemaUnsupported(`it uses "${keyword}"`);
  }
  const scope = isNode(node.$defs) ? [...defsInScope, node.$defs] : defsInScope;
  const out: SchemaNode = { ...node };
  const sub = (value: unknown): SchemaNode => rewrite(value, scope, depth + 1);
  if (isNode(node.$defs)) {
    out.$defs = Object.fromEntries(Object.entries(node.$defs).map(([name, def]) => [name, sub(def)]));
  }

  if (node.$ref !== undefined) {
    const ref = node.$ref;
    if (typeof ref !== 'string' || !ref.startsWith(REF_PREFIX)) throw schemaUnsupported('a $ref is not "#/$defs/<name>"');
    const name = ref.slice(REF_PREFIX.length);
    if (!scope.some((defs) => Object.hasOwn(defs, name))) throw schemaUnsupported('a $ref names no definition');
    return out;
  }
  if (node.anyOf !== undefined || node.oneOf !== undefined) {
    const options = node.oneOf ?? node.anyOf;
    if (!Array.isArray(options) || options.length === 0) throw schemaUnsupported('"oneOf"/"anyOf" is not a non-empty array');
    delete out.anyOf;
    out.oneOf = options.map(sub);
    return out;
  }
  if (node.const !== undefined) return out;
  if (node.enum !== undefined) {
    if (!Array.isArray(node.enum) || node.enum.length === 0) throw schemaUnsupported('"enum" is not a non-empty array');
    return out;
  }

  const type: unknown = node.type;
  if (Array.isArray(type)) {
    const types: readonly unknown[] = type;
    if (types.length === 0) throw schemaUnsupported('"type" is an empty list');
    if (types.length === 1) return rewrite({ ...node, type: types[0] }, defsInScope, depth);
    const { type: _types, ...rest } = node;
    return { oneOf: types.map((t) => rewrite({ ...rest, type: t }, defsInScope, depth + 1)) };
  }
  if (typeof type !== 'string' || !TYPES.has(type)) throw schemaUnsupported('a subschema has no known "type", "const", "enum", "oneOf", "anyOf" or "$ref"');

  if (type === 'object') {
    if (node.properties !== undefined) {
      if (!isNode(node.properties)) throw schemaUnsupported('"properties" is not an object');
      const names = Object.keys(node.properties);
      if (typeof node.maxProperties === 'number' && node.maxProperties < names.length) {
        throw schemaUnsupported('"maxProperties" is below the number of properties (every property is generated)');
      }
      out.properties = Object.fromEntries(Object.entries(node.properties).map(([name, s]) => [name, sub(s)]));
    }
    if (isNode(node.additionalProperties)) out.additionalProperties = sub(node.additionalProperties);
  } else if (type === 'array') {
    if (node.items !== undefined) out.items = sub(node.items);
    if (node.prefixItems !== undefined) {
      if (!Array.isArray(node.prefixItems)) throw schemaUnsupported('"prefixItems" is not an array');
      if (typeof node.maxItems === 'number' && node.maxItems < node.prefixItems.length) {
        throw schemaUnsupported('"maxItems" is below the number of "prefixItems"');
      }
      out.prefixItems = node.prefixItems.map(sub);
    }
  } else if (type === 'string') {
    if (typeof node.minLength === 'number' && typeof node.maxLength === 'number' && node.maxLength < node.minLength) {
      throw schemaUnsupported('"maxLength" is below "minLength"');
    }
    if (node.format !== undefined && !(typeof node.format === 'string' && GRAMMAR_FORMATS.has(node.format))) {
      delete out.format;
    }
  }
  return out;
}

function isNode(value: unknown): value is SchemaNode {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A cache key: JSON with object keys sorted, so key order does not make a second grammar. */
function stableKey(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableKey).join(',')}]`;
  if (isNode(value)) {
    const keys = Object.keys(value).filter((k) => value[k] !== undefined).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${stableKey(value[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

function schemaUnsupported(why: string, cause?: unknown): WardError {
  return new WardError('model.schema_unsupported', `the embedded model cannot enforce this JSON schema: ${why}`, {
    status: 400,
    ...(cause === undefined ? {} : { cause }),
  });
}

function cancelledError(): WardError {
  return new WardError('model.cancelled', 'the model call was cancelled', { status: 499 });
}

function closedError(): WardError {
  return new WardError('model.closed', 'the embedded model was closed', { status: 503 });
}

/** The error's class name only: messages from the runtime could quote input. */
function errorName(e: unknown): string {
  return e instanceof Error ? e.name : typeof e;
}
