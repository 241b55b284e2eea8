import { inspect } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openAiCompatibleModelSchema } from '../config/models-config.js';
import type { OpenAiCompatibleModelConfig } from '../config/models-config.js';
import type { Resolve } from './egress/guarded-lookup.js';
import type { ChatRequest, ChatStreamEvent } from './model-adapter.js';
import { OpenAiCompatibleAdapter } from './openai-compatible-adapter.js';
import type { OpenAiCompatibleAdapterOptions } from './openai-compatible-adapter.js';
import { describeAdapterConformance } from './testing/adapter-conformance.js';
import { startFakeOpenAiUpstream } from './testing/fake-openai-upstream.js';
import type { FakeUpstream } from './testing/fake-openai-upstream.js';

function modelConfig(fields: Record<string, unknown>): OpenAiCompatibleModelConfig {
  return openAiCompatibleModelSchema.parse({ id: 'test-model', adapter: 'openai-compatible', zone: 'on-prem', ...fields });
}

function live(): AbortSignal {
  return new AbortController().signal;
}

function ask(content: string, extra: Partial<ChatRequest> = {}): ChatRequest {
  return { messages: [{ role: 'user', content }], maxTokens: 64, ...extra };
}

async function collect(events: AsyncIterable<ChatStreamEvent>): Promise<ChatStreamEvent[]> {
  const out: ChatStreamEvent[] = [];
  for await (const event of events) out.push(event);
  return out;
}

function bodyOf(upstream: FakeUpstream, index = -1): Record<string, unknown> {
  const entry = upstream.received.at(index);
  if (entry === undefined) throw new Error('the fake upstream received nothing');
  return JSON.parse(entry.body.toString('utf8')) as Record<string, unknown>;
}

let upstream: FakeUpstream;
let second: FakeUpstream;
const opened: OpenAiCompatibleAdapter[] = [];

function adapterFor(fields: Record<string, unknown>, options: Omit<OpenAiCompatibleAdapterOptions, 'config'> = {}): OpenAiCompatibleAdapter {
  const adapter = new OpenAiCompatibleAdapter({ config: modelConfig(fields), ...options });
  opened.push(adapter);
  return adapter;
}

beforeAll(async () => {
  upstream = await startFakeOpenAiUpstream();
  second = await startFakeOpenAiUpstream();
});

afterAll(async () => {
  await Promise.all(opened.map((a) => a.close()));
  await upstream.close();
  await second.close();
});

afterEach(() => {
  upstream.setBehaviour({ kind: 'reply' });
});

describeAdapterConformance('openai-compatible (fake upstream)', async () => adapterFor({ endpoint: upstream.url }), {
  exactText: (prompt) => `echo: ${prompt}`,
});

// TGI takes the schema as `{type: "json", value}`: the same cases in its dialect.
describeAdapterConformance('openai-compatible, TGI dialect (fake upstream)', async () => adapterFor({ endpoint: upstream.url, dialect: 'tgi' }), {
  exactText: (prompt) => `echo: ${prompt}`,
});

describe('OpenAiCompatibleAdapter: the upstream request', () => {
  it('builds the body from ChatRequest fields only (openai dialect)', async () => {
    const adapter = adapterFor({ endpoint: upstream.url, upstreamModel: 'served-name' }, { apiKey: 'test-key-1' });
    const schema = { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] };
    // Fields a caller might smuggle in: they must never reach the model.
    const smuggled = {
      ...ask('hello', { temperature: 0.2, topP: 0.9, stop: ['\n\n'], seed: 11, jsonSchema: { name: 'thing', schema } }),
      tools: [{ type: 'function', function: { name: 'CANARY_TOOL' } }],
      user: 'CANARY_USER',
      logit_bias: { '1': 100 },
    } as ChatRequest;
    const result = await adapter.complete(smuggled, live());
    expect(JSON.parse(result.text)).toEqual({ name: 'example' });

    const request = upstream.received.at(-1);
    expect(request?.url).toBe('/v1/chat/completions');
    expect(request?.headers['authorization']).toBe('Bearer test-key-1');
    expect(bodyOf(upstream)).toEqual({
      model: 'served-name',
      messages: [{ role: 'user', content: 'hello' }],
      max_tokens: 64,
      temperature: 0.2,
      top_p: 0.9,
      stop: ['\n\n'],
      seed: 11,
      stream: false,
      response_format: { type: 'json_schema', json_schema: { name: 'thing', schema, strict: true } },
    });
    expect(request?.body.toString('utf8')).not.toContain('CANARY');
  });

  it('uses the TGI dialect for the schema, asks for usage when streaming, and sends no key when none is set', async () => {
    const adapter = adapterFor({ endpoint: upstream.url, dialect: 'tgi' });
    const schema = { type: 'object', properties: { count: { type: 'integer' } }, required: ['count'] };
    const events = await collect(adapter.stream(ask('hi', { jsonSchema: { name: 'n', schema } }), live()));
    const text = events.flatMap((e) => (e.type === 'delta' ? [e.text] : [])).join('');
    expect(JSON.parse(text)).toEqual({ count: 1 });
    expect(upstream.received.at(-1)?.headers['authorization']).toBeUndefined();
    expect(bodyOf(upstream)).toEqual({
      model: 'test-model',
      messages: [{ role: 'user', content: 'hi' }],
      max_tokens: 64,
      stream: true,
      stream_options: { include_usage: true },
      response_format: { type: 'json', value: schema },
    });
  });

  it('reports the server usage, and estimates it when the server sends none', async () => {
    const adapter = adapterFor({ endpoint: upstream.url });
    upstream.setBehaviour({ kind: 'reply', text: 'abcdefghij', usage: { promptTokens: 41, completionTokens: 17 } });
    expect((await adapter.complete(ask('x'), live())).usage).toEqual({ promptTokens: 41, completionTokens: 17 });
    upstream.setBehaviour({ kind: 'reply', text: 'abcdefghij', usage: 'omit' });
    expect((await adapter.complete(ask('12345678'), live())).usage).toEqual({ promptTokens: 2, completionTokens: 3 });
    const events = await collect(adapter.stream(ask('12345678'), live()));
    expect(events.at(-1)).toEqual({ type: 'end', finishReason: 'stop', usage: { promptTokens: 2, completionTokens: 3 } });
  });
});

describe('OpenAiCompatibleAdapter: egress', () => {
  const port = (): string => new URL(upstream.url).port;

  it('connects through an injected resolver when the name resolves to loopback (control)', async () => {
    const asked: string[] = [];
    const resolve: Resolve = async (host) => {
      asked.push(host);
      return [{ address: '127.0.0.1', family: 4 }];
    };
    const adapter = adapterFor({ endpoint: `http://upstream.test:${port()}/v1` }, { resolve });
    const before = upstream.connections;
    expect((await adapter.complete(ask('ping'), live())).text).toBe('echo: ping');
    expect(asked).toEqual(['upstream.test']);
    expect(upstream.connections).toBeGreaterThan(before);
  });

  it('refuses a name resolving to an undeclared public address, before any connection', async () => {
    const resolve: Resolve = async () => [{ address: '203.0.113.7', family: 4 }];
    const adapter = adapterFor({ endpoint: `https://upstream.test:${port()}/v1`, zone: 'baa', baa: 'BAA-1' }, { resolve });
    const before = upstream.connections;
    await expect(adapter.complete(ask('ping'), live())).rejects.toMatchObject({ code: 'egress.address_refused', status: 502 });
    expect(upstream.connections).toBe(before);
  });

  it('refuses a mixed answer (loopback plus an undeclared public address) and never connects', async () => {
    const resolve: Resolve = async () => [
      { address: '127.0.0.1', family: 4 },
      { address: '203.0.113.7', family: 4 },
    ];
    const adapter = adapterFor({ endpoint: `http://upstream.test:${port()}/v1`, zone: 'external' }, { resolve });
    const before = upstream.connections;
    const received = upstream.received.length;
    await expect(adapter.complete(ask('ping'), live())).rejects.toMatchObject({ code: 'egress.address_refused' });
    await expect(collect(adapter.stream(ask('ping'), live()))).rejects.toMatchObject({ code: 'egress.address_refused' });
    expect(upstream.connections).toBe(before);
    expect(upstream.received.length).toBe(received);
  });

  it('refuses a name resolving to the metadata address, and the metadata literal at start', async () => {
    const resolve: Resolve = async () => [{ address: '169.254.169.254', family: 4 }];
    const adapter = adapterFor({ endpoint: `http://metadata.test:${port()}/v1` }, { resolve });
    await expect(adapter.complete(ask('ping'), live())).rejects.toMatchObject({ code: 'egress.address_refused' });
    expect(() => adapterFor({ endpoint: 'http://169.254.169.254/v1' })).toThrow(expect.objectContaining({ code: 'config.model_endpoint' }));
    expect(() => adapterFor({ endpoint: 'http://[::ffff:a9fe:a9fe]/v1' })).toThrow(expect.objectContaining({ code: 'config.model_endpoint' }));
  });

  it('reports a name that does not resolve as egress.resolve_failed', async () => {
    const resolve: Resolve = async () => {
      throw Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' });
    };
    const adapter = adapterFor({ endpoint: `http://nowhere.test:${port()}/v1` }, { resolve });
    await expect(adapter.complete(ask('ping'), live())).rejects.toMatchObject({ code: 'egress.resolve_failed' });
  });

  it('Node skips the lookup hook for an IP-literal host (why literals are checked separately)', async () => {
    let calls = 0;
    const resolve: Resolve = async () => {
      calls += 1;
      return [{ address: '127.0.0.1', family: 4 }];
    };
    const adapter = adapterFor({ endpoint: upstream.url }, { resolve });
    await adapter.complete(ask('ping'), live());
    expect(calls).toBe(0);
  });

  it('never follows a redirect, even to another allowed server', async () => {
    upstream.setBehaviour({ kind: 'redirect', location: `${second.url}/chat/completions` });
    const adapter = adapterFor({ endpoint: upstream.url });
    await expect(adapter.complete(ask('ping'), live())).rejects.toMatchObject({ code: 'egress.redirect_refused', status: 502 });
    await expect(collect(adapter.stream(ask('ping'), live()))).rejects.toMatchObject({ code: 'egress.redirect_refused' });
    expect(second.connections).toBe(0);
    expect(second.received).toHaveLength(0);
  });
});

describe('OpenAiCompatibleAdapter: upstream failures', () => {
  const CANARY = 'CANARY-Jane-Roe-MRN-0042';

  it('discards an error body that echoes the prompt', async () => {
    upstream.setBehaviour({ kind: 'status', status: 500, body: JSON.stringify({ error: { message: `bad prompt: ${CANARY}` } }) });
    const adapter = adapterFor({ endpoint: upstream.url });
    const error: unknown = await adapter.complete(ask(`Summarize ${CANARY}`), live()).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'model.upstream_error', status: 502, extra: { upstreamStatus: 500 } });
    expect(inspect(error, { depth: 10 })).not.toContain(CANARY);
    expect(JSON.stringify(error)).not.toContain(CANARY);
    expect(String((error as Error).message)).not.toContain(CANARY);
  });

  it('maps 429 and 503 to model.upstream_busy with Retry-After', async () => {
    const adapter = adapterFor({ endpoint: upstream.url });
    upstream.setBehaviour({ kind: 'status', status: 429, headers: { 'retry-after': '7' } });
    await expect(adapter.complete(ask('ping'), live())).rejects.toMatchObject({
      code: 'model.upstream_busy',
      status: 503,
      extra: { retryAfterSeconds: 7 },
    });
    upstream.setBehaviour({ kind: 'status', status: 503 });
    const error: unknown = await adapter.complete(ask('ping'), live()).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'model.upstream_busy' });
    expect((error as { extra: Record<string, unknown> }).extra['retryAfterSeconds']).toBeUndefined();
  });

  it('refuses a body that is not JSON, or JSON of the wrong shape', async () => {
    const adapter = adapterFor({ endpoint: upstream.url });
    upstream.setBehaviour({ kind: 'invalid' });
    await expect(adapter.complete(ask('ping'), live())).rejects.toMatchObject({ code: 'model.upstream_invalid', status: 502 });
    upstream.setBehaviour({ kind: 'status', status: 200, body: JSON.stringify({ choices: [] }) });
    await expect(adapter.complete(ask('ping'), live())).rejects.toMatchObject({ code: 'model.upstream_invalid' });
    upstream.setBehaviour({ kind: 'status', status: 200, headers: { 'content-type': 'text/event-stream' }, body: 'data: {"choices":[{"delta":{"content":"a"}}]}\n\n' });
    await expect(collect(adapter.stream(ask('ping'), live()))).rejects.toMatchObject({ code: 'model.upstream_invalid' });
  });

  it('reports a server that is not listening as model.upstream_unreachable', async () => {
    const gone = await startFakeOpenAiUpstream();
    const url = gone.url;
    await gone.close();
    const adapter = adapterFor({ endpoint: url });
    await expect(adapter.complete(ask('ping'), live())).rejects.toMatchObject({
      code: 'model.upstream_unreachable',
      status: 502,
      extra: { transportCode: 'ECONNREFUSED' },
    });
  });

  it('refuses a response larger than maxResponseBytes', async () => {
    const adapter = adapterFor({ endpoint: upstream.url }, { maxResponseBytes: 2048 });
    upstream.setBehaviour({ kind: 'reply', text: 'x'.repeat(10_000) });
    await expect(adapter.complete(ask('ping', { maxTokens: 10_000 }), live())).rejects.toMatchObject({ code: 'model.upstream_invalid' });
    await expect(collect(adapter.stream(ask('ping', { maxTokens: 10_000 }), live()))).rejects.toMatchObject({
      code: 'model.upstream_invalid',
    });
    upstream.setBehaviour({ kind: 'reply', text: 'x'.repeat(100) });
    expect((await adapter.complete(ask('ping', { maxTokens: 10_000 }), live())).text).toHaveLength(100);
  });
});

describe('OpenAiCompatibleAdapter: cancellation', () => {
  // A fresh server, so every disconnect it counts comes from the test that waits for it.
  let upstream: FakeUpstream;
  beforeAll(async () => {
    upstream = await startFakeOpenAiUpstream();
  });
  afterAll(async () => {
    await upstream.close();
  });

  it('an abort mid-stream closes the upstream connection', async () => {
    upstream.setBehaviour({ kind: 'stream', chunks: Array.from({ length: 200 }, (_, i) => `w${i} `), delayMs: 20 });
    const adapter = adapterFor({ endpoint: upstream.url });
    const controller = new AbortController();
    const disconnected = upstream.waitForDisconnect();
    let deltas = 0;
    const run = async (): Promise<void> => {
      for await (const event of adapter.stream(ask('ping'), controller.signal)) {
        if (event.type === 'delta' && ++deltas === 2) controller.abort();
      }
    };
    await expect(run()).rejects.toMatchObject({ code: 'model.cancelled', status: 499 });
    await disconnected;
    expect(upstream.disconnects).toBe(1);
    expect(deltas).toBe(2);
  });

  it('an abort while the server has not answered closes the connection', async () => {
    upstream.setBehaviour({ kind: 'hang' });
    const adapter = adapterFor({ endpoint: upstream.url });
    const controller = new AbortController();
    const disconnected = upstream.waitForDisconnect();
    const received = upstream.received.length;
    const call = adapter.complete(ask('ping'), controller.signal);
    // Abort once the server holds the request, not before it was sent.
    while (upstream.received.length === received) await new Promise((r) => setTimeout(r, 5));
    controller.abort();
    await expect(call).rejects.toMatchObject({ code: 'model.cancelled' });
    await disconnected;
  });

  it('close() ends a call in flight with model.closed', async () => {
    upstream.setBehaviour({ kind: 'hang' });
    const adapter = adapterFor({ endpoint: upstream.url });
    const received = upstream.received.length;
    const call = adapter.complete(ask('ping'), live());
    while (upstream.received.length === received) await new Promise((r) => setTimeout(r, 5));
    await adapter.close();
    await expect(call).rejects.toMatchObject({ code: 'model.closed' });
  });
});
