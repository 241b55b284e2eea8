/**
 * A small OpenAI-compatible chat server on 127.0.0.1 for tests and benchmarks (node:http, no
 * framework, answers at once). It records every request byte it receives, so tests can prove
 * that a canary never arrives, and counts connections and client disconnects, so tests can
 * prove that a refused call never connected and a cancelled call closed its socket.
 *
 * Tokens here are "4 characters" (the same rough estimate the adapter uses): `max_tokens`
 * truncates the reply to 4 x max_tokens characters with finish_reason `length`.
 */
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type FakeRequestBody = Readonly<Record<string, unknown>>;

export type FakeBehaviour =
  | {
      readonly kind: 'reply';
      /** Default: `echo: <last user message>`, or a JSON object when a schema is asked for. */
      readonly text?: string | ((body: FakeRequestBody) => string);
      readonly finishReason?: string;
      /** Usage to report; `'omit'` sends none (servers that do not count). Default: 4 chars a token. */
      readonly usage?: { readonly promptTokens: number; readonly completionTokens: number } | 'omit';
    }
  | { readonly kind: 'stream'; readonly chunks?: readonly string[]; readonly delayMs?: number }
  | { readonly kind: 'hang' }
  | { readonly kind: 'status'; readonly status: number; readonly body?: string; readonly headers?: Readonly<Record<string, string>> }
  | { readonly kind: 'redirect'; readonly location: string }
  | { readonly kind: 'invalid' };

export interface ReceivedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

export interface FakeUpstream {
  /** Base URL ending in `/v1`. */
  readonly url: string;
  readonly port: number;
  readonly received: ReceivedRequest[];
  /** TCP connections accepted so far. */
  readonly connections: number;
  /** Requests whose client went away before the response was complete. */
  readonly disconnects: number;
  /** Resolves at the next such disconnect not already waited for (at once if one is pending). */
  waitForDisconnect(): Promise<void>;
  setBehaviour(behaviour: FakeBehaviour): void;
  close(): Promise<void>;
}

export interface FakeUpstreamOptions {
  readonly behaviour?: FakeBehaviour;
  /** The model name `/v1/models` lists. */
  readonly modelName?: string;
  /** Keep every request in `received` (default true; a benchmark turns it off to keep memory flat). */
  readonly record?: boolean;
}

const CHARS_PER_TOKEN = 4;

function tokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / CHARS_PER_TOKEN));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function messagesOf(body: FakeRequestBody): { role: string; content: string }[] {
  const messages = body['messages'];
  if (!Array.isArray(messages)) return [];
  return messages.filter(isRecord).map((m) => ({ role: String(m['role']), content: String(m['content']) }));
}

/** The schema asked for in either dialect: OpenAI `json_schema` or TGI `json`. */
function requestedSchema(body: FakeRequestBody): Record<string, unknown> | undefined {
  const format = body['response_format'];
  if (!isRecord(format)) return undefined;
  if (format['type'] === 'json_schema' && isRecord(format['json_schema']) && isRecord(format['json_schema']['schema'])) {
    return format['json_schema']['schema'];
  }
  if (format['type'] === 'json' && isRecord(format['value'])) return format['value'];
  return undefined;
}

/** A value satisfying a simple schema: objects with required keys of the declared types. */
function sampleFor(schema: Record<string, unknown>): unknown {
  switch (schema['type']) {
    case 'object': {
      const properties = isRecord(schema['properties']) ? schema['properties'] : {};
      const required = Array.isArray(schema['required']) ? schema['required'].map(String) : Object.keys(properties);
      const out: Record<string, unknown> = {};
      for (const key of required) {
        const property = properties[key];
        out[key] = isRecord(property) ? sampleFor(property) : null;
      }
      return out;
    }
    case 'string':
      return Array.isArray(schema['enum']) && schema['enum'].length > 0 ? schema['enum'][0] : 'example';
    case 'integer':
      return 1;
    case 'number':
      return 1.5;
    case 'boolean':
      return true;
    case 'array':
      return [];
    default:
      return null;
  }
}

function defaultText(body: FakeRequestBody): string {
  const schema = requestedSchema(body);
  if (schema !== undefined) return JSON.stringify(sampleFor(schema));
  const lastUser = messagesOf(body)
    .filter((m) => m.role === 'user')
    .at(-1);
  return `echo: ${lastUser?.content ?? ''}`;
}

interface Answer {
  readonly text: string;
  readonly finishReason: string;
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly usage: boolean;
}

function answerFor(behaviour: Extract<FakeBehaviour, { kind: 'reply' }>, body: FakeRequestBody): Answer {
  const full = typeof behaviour.text === 'function' ? behaviour.text(body) : (behaviour.text ?? defaultText(body));
  const maxTokens = typeof body['max_tokens'] === 'number' ? body['max_tokens'] : Number.POSITIVE_INFINITY;
  const cut = full.length > maxTokens * CHARS_PER_TOKEN;
  const text = cut ? full.slice(0, maxTokens * CHARS_PER_TOKEN) : full;
  const promptChars = messagesOf(body).reduce((n, m) => n + m.content.length, 0);
  const usage = behaviour.usage;
  return {
    text,
    finishReason: behaviour.finishReason ?? (cut ? 'length' : 'stop'),
    promptTokens: usage !== undefined && usage !== 'omit' ? usage.promptTokens : Math.max(1, Math.ceil(promptChars / CHARS_PER_TOKEN)),
    completionTokens: usage !== undefined && usage !== 'omit' ? usage.completionTokens : cut ? maxTokens : tokens(text),
    usage: usage !== 'omit',
  };
}

/** Split a reply into word-sized stream chunks (keeping spaces), so there are several deltas. */
function chunksOf(text: string): string[] {
  const parts = text.match(/\s*\S+|\s+$/g) ?? [];
  return parts.length > 0 ? parts : [text];
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export async function startFakeOpenAiUpstream(options: FakeUpstreamOptions = {}): Promise<FakeUpstream> {
  let behaviour: FakeBehaviour = options.behaviour ?? { kind: 'reply' };
  const modelName = options.modelName ?? 'fake-model';
  const record = options.record ?? true;
  const received: ReceivedRequest[] = [];
  const sockets = new Set<Socket>();
  let connections = 0;
  let disconnects = 0;
  let awaited = 0;
  let waiters: (() => void)[] = [];
  let nextId = 0;

  const noteDisconnect = (): void => {
    disconnects += 1;
    const ready = waiters;
    waiters = [];
    for (const wake of ready) wake();
  };

  const chunkJson = (id: string, delta: Record<string, unknown>, finishReason: string | null): string =>
    `data: ${JSON.stringify({
      id,
      object: 'chat.completion.chunk',
      created: Math.floor(Date.now() / 1000),
      model: modelName,
      choices: [{ index: 0, delta, finish_reason: finishReason }],
    })}\n\n`;

  const writeStream = async (
    res: ServerResponse,
    chunks: readonly string[],
    delayMs: number,
    finishReason: string,
    usage: { prompt_tokens: number; completion_tokens: number } | undefined,
  ): Promise<void> => {
    const id = `chatcmpl-fake-${nextId++}`;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    res.write(chunkJson(id, { role: 'assistant', content: '' }, null));
    for (const chunk of chunks) {
      if (delayMs > 0) await sleep(delayMs);
      if (res.destroyed) return;
      res.write(chunkJson(id, { content: chunk }, null));
    }
    if (res.destroyed) return;
    res.write(chunkJson(id, {}, finishReason));
    if (usage !== undefined) {
      const total = usage.prompt_tokens + usage.completion_tokens;
      res.write(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', model: modelName, choices: [], usage: { ...usage, total_tokens: total } })}\n\n`);
    }
    res.end('data: [DONE]\n\n');
  };

  const handleChat = async (body: FakeRequestBody, res: ServerResponse): Promise<void> => {
    const current = behaviour;
    switch (current.kind) {
      case 'hang':
        return; // the socket stays open until the client gives up
      case 'status':
        res.writeHead(current.status, { 'content-type': 'application/json', ...current.headers });
        res.end(current.body ?? JSON.stringify({ error: { message: 'fake upstream error', type: 'server_error' } }));
        return;
      case 'redirect':
        res.writeHead(307, { location: current.location });
        res.end();
        return;
      case 'invalid':
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('this is not json {');
        return;
      case 'stream': {
        const chunks = current.chunks ?? chunksOf(defaultText(body));
        const completion = chunks.reduce((n, c) => n + c.length, 0);
        const promptChars = messagesOf(body).reduce((n, m) => n + m.content.length, 0);
        await writeStream(res, chunks, current.delayMs ?? 0, 'stop', {
          prompt_tokens: Math.max(1, Math.ceil(promptChars / CHARS_PER_TOKEN)),
          completion_tokens: Math.max(1, Math.ceil(completion / CHARS_PER_TOKEN)),
        });
        return;
      }
      case 'reply': {
        const answer = answerFor(current, body);
        const usage = answer.usage ? { prompt_tokens: answer.promptTokens, completion_tokens: answer.completionTokens } : undefined;
        if (body['stream'] === true) {
          await writeStream(res, chunksOf(answer.text), 0, answer.finishReason, usage);
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            id: `chatcmpl-fake-${nextId++}`,
            object: 'chat.completion',
            created: Math.floor(Date.now() / 1000),
            model: modelName,
            choices: [{ index: 0, message: { role: 'assistant', content: answer.text }, finish_reason: answer.finishReason }],
            ...(usage === undefined ? {} : { usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens } }),
          }),
        );
        return;
      }
    }
  };

  const handle = (req: IncomingMessage, res: ServerResponse, raw: Buffer): void => {
    if (record) received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: raw });
    // A client that leaves before the answer is complete: what cancellation must cause.
    res.on('close', () => {
      if (!res.writableFinished) noteDisconnect();
    });
    const path = (req.url ?? '').split('?')[0];
    if (req.method === 'GET' && path === '/v1/models') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ object: 'list', data: [{ id: modelName, object: 'model', owned_by: 'ward-test' }] }));
      return;
    }
    if (req.method !== 'POST' || path !== '/v1/chat/completions') {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: 'not found' } }));
      return;
    }
    let body: FakeRequestBody;
    try {
      const parsed: unknown = JSON.parse(raw.toString('utf8'));
      if (!isRecord(parsed)) throw new Error('not an object');
      body = parsed;
    } catch {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: 'invalid JSON body' } }));
      return;
    }
    handleChat(body, res).catch(() => res.destroy());
  };

  const server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (chunk: Buffer) => parts.push(chunk));
    req.on('end', () => handle(req, res, Buffer.concat(parts)));
  });
  server.keepAliveTimeout = 5_000;
  server.on('connection', (socket: Socket) => {
    connections += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}/v1`,
    port,
    received,
    get connections() {
      return connections;
    },
    get disconnects() {
      return disconnects;
    },
    waitForDisconnect() {
      return new Promise<void>((resolve) => {
        const check = (): void => {
          if (disconnects > awaited) {
            awaited += 1;
            resolve();
          } else {
            waiters.push(check);
          }
        };
        check();
      });
    },
    setBehaviour(next) {
      behaviour = next;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
