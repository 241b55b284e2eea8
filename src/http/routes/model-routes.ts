/**
 * The OpenAI-compatible model API: `GET /v1/models` and `POST /v1/chat/completions` (streamed
 * over server-sent events or not), close enough to OpenAI's that its SDKs and internal tools
 * work by changing the base URL. Ward's additions ride in headers an SDK can set once:
 * `X-Purpose-Of-Use` (required: the call may carry PHI) and `X-Ward-Patient` (the patient the
 * call is about; it scopes the output guard and the accounting of disclosures).
 *
 * The body is read into Ward's own request type and the upstream call is rebuilt from it: a
 * field Ward does not know is refused (never passed along), tools and non-text content parts
 * are refused (an `image_url` would be a URL for someone to fetch), and `store` may not ask a
 * vendor to keep the conversation.
 */
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import type { FastifyBaseLogger, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { ChatGateway, ChatCall, ChatCaller, ChatStreamPiece } from '../../gateway/chat-gateway.js';
import type { RegisteredModel } from '../../models/model-registry.js';
import type { ChatMessage } from '../../models/model-adapter.js';
import { WardError, isWardError } from '../../shared/ward-error.js';
import { auditContextOf } from '../http-context.js';
import { parseInput } from '../parse-input.js';

/** The header naming the patient a model call is about. */
export const PATIENT_HEADER = 'x-ward-patient';

const textPart = z.object({ type: z.literal('text'), text: z.string().max(4_000_000) }).strict();
const message = z.object({
  role: z.enum(['system', 'developer', 'user', 'assistant']),
  content: z.union([z.string().max(4_000_000), z.array(textPart).min(1).max(256)]),
  // A participant's display name: often a person's name, so it is accepted but never sent on.
  name: z.string().max(256).optional(),
}).strict();

const KNOWN_FIELDS = new Set([
  'model', 'messages', 'max_tokens', 'max_completion_tokens', 'temperature', 'top_p', 'stop', 'seed', 'stream', 'stream_options',
  'response_format', 'n', 'user', 'presence_penalty', 'frequency_penalty', 'logprobs', 'store', 'metadata',
]);
/** OpenAI parameters Ward recognises but does not offer (refused by name). */
const UNSUPPORTED_FIELDS = new Set(['tools', 'tool_choice', 'functions', 'function_call', 'parallel_tool_calls', 'audio', 'modalities', 'prediction', 'logit_bias', 'top_logprobs', 'web_search_options', 'service_tier', 'reasoning_effort']);

const chatBody = z.object({
  model: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$/, 'must be a model id'),
  messages: z.array(message).min(1).max(1024),
  max_tokens: z.number().int().min(1).optional(),
  max_completion_tokens: z.number().int().min(1).optional(),
  temperature: z.number().min(0).max(2).optional(),
  top_p: z.number().min(0).max(1).optional(),
  stop: z.union([z.string().min(1).max(256), z.array(z.string().min(1).max(256)).max(4)]).optional(),
  seed: z.number().int().optional(),
  stream: z.boolean().optional(),
  stream_options: z.object({ include_usage: z.boolean().optional() }).strict().optional(),
  response_format: z.union([
    z.object({ type: z.literal('text') }).strict(),
    z.object({ type: z.literal('json_object') }).strict(),
    z.object({
      type: z.literal('json_schema'),
      json_schema: z.object({
        name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be letters, digits, _ or - (at most 64)'),
        schema: z.record(z.string(), z.unknown()),
        strict: z.boolean().optional(),
        description: z.string().max(1024).optional(),
      }).strict(),
    }).strict(),
  ]).optional(),
  n: z.literal(1).optional(),
  // OpenAI's end-user id: may be an e-mail address or a name, so it is never sent on or logged.
  user: z.string().max(256).optional(),
  presence_penalty: z.number().min(-2).max(2).optional(),
  frequency_penalty: z.number().min(-2).max(2).optional(),
  logprobs: z.literal(false).optional(),
  // Asking a vendor to keep the conversation would be a disclosure Ward cannot account for.
  store: z.literal(false).optional(),
  // Checked as one value: a refusal names the field, never a key inside it (a key can be a name).
  metadata: z.custom<Record<string, string>>(isSmallStringRecord, 'must be an object of at most 16 short strings').optional(),
}).strict();
type ChatBody = z.infer<typeof chatBody>;

function isSmallStringRecord(v: unknown): boolean {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const entries = Object.entries(v);
  return entries.length <= 16 && entries.every(([k, x]) => k.length <= 64 && typeof x === 'string' && x.length <= 512);
}

function checkFields(body: unknown): void {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new WardError('request.invalid', 'the body must be a JSON object', { status: 400 });
  const unsupported = Object.keys(body).filter((k) => UNSUPPORTED_FIELDS.has(k));
  if (unsupported.length > 0) throw new WardError('request.unsupported', `not supported by this gateway: ${unsupported.join(', ')}`, { status: 400 });
  // A key is data too (a value can sit where a key belongs): unknown ones are counted, not named.
  const unknown = Object.keys(body).filter((k) => !KNOWN_FIELDS.has(k)).length;
  if (unknown > 0) throw new WardError('request.invalid', `${unknown} unknown field(s) in the body; Ward never passes unknown fields to a model`, { status: 400 });
}

function contentOf(m: z.infer<typeof message>): string {
  return typeof m.content === 'string' ? m.content : m.content.map((p) => p.text).join('');
}

/** The caller's body as Ward's own request; nothing else reaches the model. */
export function chatCallOf(body: ChatBody): ChatCall {
  const messages: ChatMessage[] = body.messages.map((m) => ({ role: m.role === 'developer' ? 'system' : m.role, content: contentOf(m) }));
  const maxTokens = body.max_completion_tokens ?? body.max_tokens;
  const stop = body.stop === undefined ? undefined : [body.stop].flat();
  const format = body.response_format;
  const jsonSchema = format?.type === 'json_schema'
    ? { name: format.json_schema.name, schema: format.json_schema.schema }
    : format?.type === 'json_object' ? { name: 'json_object', schema: { type: 'object' } } : undefined;
  return {
    model: body.model,
    request: {
      messages,
      ...(maxTokens !== undefined ? { maxTokens } : {}),
      ...(body.temperature !== undefined ? { temperature: body.temperature } : {}),
      ...(body.top_p !== undefined ? { topP: body.top_p } : {}),
      ...(stop !== undefined ? { stop } : {}),
      ...(body.seed !== undefined ? { seed: body.seed } : {}),
      ...(jsonSchema !== undefined ? { jsonSchema } : {}),
    },
  };
}

function modelEntry(m: RegisteredModel): Record<string, unknown> {
  return {
    id: m.id,
    object: 'model',
    created: 0,
    owned_by: 'ward',
    ward: {
      zone: m.zone,
      ...(m.baa !== undefined ? { baa: m.baa } : {}),
      ...(m.config.purposes !== undefined ? { purposes: m.config.purposes } : {}),
      adapter: m.config.adapter,
      limits: { context_tokens: m.config.limits.contextTokens, max_tokens: m.config.limits.maxTokens },
    },
  };
}

function patientHeaderOf(req: FastifyRequest): string | undefined {
  const v = req.headers[PATIENT_HEADER];
  if (Array.isArray(v)) throw new WardError('request.invalid', `send ${PATIENT_HEADER} once`, { status: 400 });
  return v === undefined || v === '' ? undefined : v.trim();
}

/** Aborts when the client goes away before the answer is complete. */
function disconnectSignal(req: FastifyRequest, reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  const onClose = (): void => {
    if (!reply.raw.writableFinished) controller.abort();
  };
  reply.raw.on('close', onClose);
  req.raw.on('close', () => {
    if (req.raw.destroyed && !reply.raw.writableFinished) controller.abort();
  });
  return controller.signal;
}

function setWardHeaders(reply: FastifyReply, model: RegisteredModel, deidentified: boolean, review: boolean): void {
  void reply.header('x-ward-model-zone', model.zone);
  void reply.header('x-ward-deidentified', String(deidentified));
  // The permit obliges a person to review the output before it is used (review queue: later issue).
  if (review) void reply.header('x-ward-review-required', 'true');
}

interface StreamFrame {
  id: string;
  created: number;
  model: string;
  includeUsage: boolean;
}

function chunk(f: StreamFrame, delta: Record<string, string>, finish: string | null, extra: Record<string, unknown> = {}): string {
  return `data: ${JSON.stringify({ id: f.id, object: 'chat.completion.chunk', created: f.created, model: f.model, choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }], ...extra })}\n\n`;
}

/** Server-sent events in OpenAI's chunk format; a failure after the first byte becomes an `error` event and the stream ends without `[DONE]`. */
async function* sseOf(f: StreamFrame, first: ChatStreamPiece | undefined, rest: AsyncGenerator<ChatStreamPiece>, log: FastifyBaseLogger): AsyncGenerator<string> {
  try {
    yield chunk(f, { role: 'assistant', content: '' }, null);
    let piece = first;
    while (piece !== undefined) {
      if (piece.type === 'delta') yield chunk(f, { content: piece.text }, null);
      else if (piece.type === 'end') {
        yield chunk(f, {}, piece.finishReason);
        if (f.includeUsage) {
          const u = piece.usage;
          yield `data: ${JSON.stringify({ id: f.id, object: 'chat.completion.chunk', created: f.created, model: f.model, choices: [], usage: { prompt_tokens: u.promptTokens, completion_tokens: u.completionTokens, total_tokens: u.promptTokens + u.completionTokens } })}\n\n`;
        }
        yield 'data: [DONE]\n\n';
      }
      const next = await rest.next();
      piece = next.done ? undefined : next.value;
    }
  } catch (e) {
    const code = isWardError(e) ? e.code : 'internal.error';
    // The status line has left already, so the error handler never sees this: log it here (code only).
    if (!isWardError(e) || e.status >= 500) log.error({ code, err: { type: (e as Error | undefined)?.constructor?.name ?? 'unknown' } }, 'stream failed');
    yield `data: ${JSON.stringify({ error: { code, type: 'ward_error', message: isWardError(e) && e.status < 500 ? e.message : code } })}\n\n`;
  } finally {
    await rest.return(undefined);
  }
}

export const modelRoutes: FastifyPluginAsync<{ gateway: ChatGateway; bodyLimit: number }> = async (app, opts) => {
  app.get('/v1/models', { config: { access: { kind: 'policy', action: 'model.list' } } }, async () => ({
    object: 'list',
    data: opts.gateway.models().map(modelEntry),
  }));

  app.post('/v1/chat/completions', {
    bodyLimit: opts.bodyLimit,
    config: { access: { kind: 'policy', action: 'model.chat', patient: patientHeaderOf } },
  }, async (req, reply) => {
    checkFields(req.body);
    const body = parseInput(chatBody, req.body, 'body fields');
    const call = chatCallOf(body);
    const permit = req.permit!;
    const caller: ChatCaller = {
      who: req.principal!,
      obligations: permit.decision.obligations,
      auditFields: permit.auditFields,
      context: auditContextOf(req),
      signal: disconnectSignal(req, reply),
    };
    const id = `chatcmpl-${randomUUID()}`;
    const created = Math.floor(Date.now() / 1000);
    const review = permit.decision.obligations.humanReview;
    if (body.stream !== true) {
      const answer = await opts.gateway.complete(call, caller);
      setWardHeaders(reply, answer.model, answer.deidentified, review);
      return {
        id,
        object: 'chat.completion',
        created,
        model: answer.model.id,
        choices: [{ index: 0, message: { role: 'assistant', content: answer.text, refusal: null }, finish_reason: answer.finishReason, logprobs: null }],
        usage: { prompt_tokens: answer.usage.promptTokens, completion_tokens: answer.usage.completionTokens, total_tokens: answer.usage.promptTokens + answer.usage.completionTokens },
        system_fingerprint: null,
      };
    }
    // The first piece is awaited before answering: a refusal before any text is a plain problem+json.
    const pieces = opts.gateway.stream(call, caller);
    const first = await pieces.next();
    if (first.done === true) throw new WardError('model.upstream_invalid', 'the model sent nothing', { status: 502 });
    const start = first.value;
    if (start.type !== 'start') throw new WardError('model.upstream_invalid', 'the stream did not start', { status: 502 });
    setWardHeaders(reply, start.model, start.deidentified, review);
    const next = await pieces.next().catch(async (e: unknown) => {
      await pieces.return(undefined);
      throw e;
    });
    const frame: StreamFrame = { id, created, model: start.model.id, includeUsage: body.stream_options?.include_usage === true };
    void reply.header('content-type', 'text/event-stream; charset=utf-8').header('x-accel-buffering', 'no');
    return reply.send(Readable.from(sseOf(frame, next.done === true ? undefined : next.value, pieces, req.log), { objectMode: false }));
  });
};
