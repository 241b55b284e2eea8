/**
 * The embedded adapter against a real GGUF model run in-process (test-data/models/stories260K.gguf,
 * a 1 MB llama2.c model: it writes children's stories, so these tests prove plumbing, never
 * quality). Outcomes only, never timing.
 */
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WardError } from '../shared/ward-error.js';
import { EmbeddedAdapter, toGrammarSchema } from './embedded-adapter.js';
import type { ChatRequest, ChatResult, ChatStreamEvent } from './model-adapter.js';
import { describeAdapterConformance } from './testing/adapter-conformance.js';
import { TEST_MODEL_CONTEXT_TOKENS, TEST_MODEL_PATH } from './testing/test-model.js';

const CONTEXT = TEST_MODEL_CONTEXT_TOKENS;

function openTestModel(concurrency = 2): Promise<EmbeddedAdapter> {
  return EmbeddedAdapter.open({ path: TEST_MODEL_PATH, threads: 1, contextTokens: CONTEXT, concurrency });
}

function ask(content: string, maxTokens: number, extra: Partial<ChatRequest> = {}): ChatRequest {
  return { messages: [{ role: 'user', content }], maxTokens, ...extra };
}

const live = (): AbortSignal => new AbortController().signal;

async function collect(events: AsyncIterable<ChatStreamEvent>): Promise<ChatStreamEvent[]> {
  const out: ChatStreamEvent[] = [];
  for await (const event of events) out.push(event);
  return out;
}

async function failure(work: Promise<unknown>): Promise<WardError> {
  try {
    await work;
  } catch (e) {
    expect(e).toBeInstanceOf(WardError);
    return e as WardError;
  }
  throw new Error('expected the call to fail');
}

/** Streams until the first delta, then aborts; resolves with the rejection. */
async function abortAfterFirstDelta(adapter: EmbeddedAdapter, request: ChatRequest): Promise<WardError> {
  const controller = new AbortController();
  return failure(
    (async () => {
      for await (const event of adapter.stream(request, controller.signal)) {
        if (event.type === 'delta') controller.abort();
      }
    })(),
  );
}

describeAdapterConformance('embedded (stories260K.gguf)', () => openTestModel());

describe('EmbeddedAdapter with the test model', () => {
  let adapter: EmbeddedAdapter;

  beforeAll(async () => {
    adapter = await openTestModel(2);
  });

  afterAll(async () => {
    await adapter.close();
  });

  it('generates text with token usage, deterministically at temperature 0', async () => {
    const first = await adapter.complete(ask('Once upon a time', 24), live());
    const second = await adapter.complete(ask('Once upon a time', 24), live());
    expect(first.text.length).toBeGreaterThan(0);
    expect(first.usage.promptTokens).toBeGreaterThan(0);
    expect(first.usage.completionTokens).toBeGreaterThan(0);
    expect(first.usage.completionTokens).toBeLessThanOrEqual(24);
    if (first.finishReason === 'length') expect(first.usage.completionTokens).toBeGreaterThan(20);
    // Greedy decoding and a cleared sequence: the second call cannot see the first.
    expect(second).toEqual(first);
  });

  it('honours seed and temperature: same seed, same text; other seeds differ', async () => {
    const sample = (seed: number): Promise<ChatResult> =>
      adapter.complete(ask('Once upon a time', 40, { temperature: 0.9, topP: 0.95, seed }), live());
    const [a, again, b, c] = [await sample(11), await sample(11), await sample(12), await sample(13)];
    expect(again.text).toBe(a.text);
    expect(new Set([a.text, b.text, c.text]).size).toBeGreaterThan(1);
  });

  it('a longer conversation costs more prompt tokens (system, user and assistant turns all count)', async () => {
    const short = await adapter.complete(ask('Hi', 1), live());
    const long = await adapter.complete(
      {
        messages: [
          { role: 'system', content: 'You tell short stories about a cat.' },
          { role: 'user', content: 'Hi' },
          { role: 'assistant', content: 'Once upon a time there was a cat.' },
          { role: 'user', content: 'More' },
        ],
        maxTokens: 1,
      },
      live(),
    );
    expect(long.usage.promptTokens).toBeGreaterThan(short.usage.promptTokens + 15);
  });

  it('stops at a stop sequence, without it in the text', async () => {
    const result = await adapter.complete(ask('Once upon a time', 200, { stop: ['.'] }), live());
    expect(result.finishReason).toBe('stop');
    expect(result.text).not.toContain('.');
    expect(result.usage.completionTokens).toBeLessThan(200);
  });

  it('reports finishReason length when maxTokens cut the answer', async () => {
    const result = await adapter.complete(ask('Once upon a time', 5, { temperature: 0.8, seed: 3 }), live());
    // The model may end a sentence inside 5 tokens; only `length` may claim the bound was hit.
    if (result.finishReason === 'length') expect(result.usage.completionTokens).toBeLessThanOrEqual(5);
    else expect(result.usage.completionTokens).toBeLessThan(5);
    const long = await adapter.complete(ask('Once upon a time', 60), live());
    expect(long.finishReason).toBe('length');
  });

  it('JSON-schema constrained output parses and has the required keys and types over several seeds', async () => {
    const schema = {
      type: 'object',
      properties: {
        patientRef: { type: 'string', maxLength: 24 },
        visits: { type: 'integer' },
        urgent: { type: 'boolean' },
        // anyOf is read as "null only" by node-llama-cpp's builder unless rewritten to oneOf.
        code: { anyOf: [{ type: 'string', maxLength: 8 }, { type: 'integer' }] },
        tags: { type: 'array', items: { type: 'string', maxLength: 8 }, maxItems: 2 },
        score: { type: ['integer', 'null'] },
      },
      required: ['patientRef', 'visits', 'urgent', 'code', 'tags', 'score'],
      additionalProperties: false,
    };
    for (const seed of [1, 2, 3, 4]) {
      const result = await adapter.complete(
        ask('Describe the synthetic visit as JSON.', 200, { temperature: 0.8, seed, jsonSchema: { name: 'visit', schema } }),
        live(),
      );
      const parsed = JSON.parse(result.text) as Record<string, unknown>;
      expect(Object.keys(parsed).sort()).toEqual(['code', 'patientRef', 'score', 'tags', 'urgent', 'visits']);
      expect(parsed['patientRef']).toBeTypeOf('string');
      expect(Number.isInteger(parsed['visits'])).toBe(true);
      expect(parsed['urgent']).toBeTypeOf('boolean');
      expect(typeof parsed['code'] === 'string' || Number.isInteger(parsed['code'])).toBe(true);
      expect(Array.isArray(parsed['tags'])).toBe(true);
      expect(parsed['score'] === null || Number.isInteger(parsed['score'])).toBe(true);
    }
  });

  it('rejects a JSON schema the grammar would misread with model.schema_unsupported (400)', async () => {
    for (const schema of [
      { allOf: [{ type: 'object' }] },
      { type: 'object', properties: { a: { $ref: 'https://example.org/schema' } } },
      { type: 'object', properties: { a: { $ref: '#/$defs/missing' } } },
      { type: 'object', properties: { a: {} } },
      { type: 'object', properties: { a: { not: { type: 'string' } } } },
    ]) {
      const error = await failure(adapter.complete(ask('Hi', 20, { jsonSchema: { name: 'x', schema } }), live()));
      expect(error.code).toBe('model.schema_unsupported');
      expect(error.status).toBe(400);
    }
  });

  it('rejects a prompt that does not fit contextTokens - maxTokens with model.context_exceeded (400)', async () => {
    const probe = await adapter.complete(ask('Once upon a time', 1), live());
    const room = CONTEXT - probe.usage.promptTokens;
    // Exactly full is allowed; one token more is not: the check uses the counted prompt.
    await expect(adapter.complete(ask('Once upon a time', room), live())).resolves.toMatchObject({ usage: { promptTokens: probe.usage.promptTokens } });
    const over = await failure(adapter.complete(ask('Once upon a time', room + 1), live()));
    expect(over.code).toBe('model.context_exceeded');
    expect(over.status).toBe(400);
    const huge = await failure(adapter.complete(ask('word '.repeat(2000), 16), live()));
    expect(huge.code).toBe('model.context_exceeded');
    expect(huge.message).not.toContain('word');
  });

  it('streams deltas that add up to the complete() text, then one end with the same usage', async () => {
    const request = ask('Once upon a time', 40);
    const whole = await adapter.complete(request, live());
    const events = await collect(adapter.stream(request, live()));
    expect(events.at(-1)).toEqual({ type: 'end', finishReason: whole.finishReason, usage: whole.usage });
    expect(events.filter((e) => e.type === 'end')).toHaveLength(1);
    const deltas = events.flatMap((e) => (e.type === 'delta' ? [e.text] : []));
    expect(deltas.length).toBeGreaterThan(1);
    expect(deltas.join('')).toBe(whole.text);
  });

  it('cancels: a pre-aborted call rejects before any work, a mid-stream abort rejects with model.cancelled', async () => {
    const controller = new AbortController();
    controller.abort();
    const pre = await failure(adapter.complete(ask('Once upon a time', 400), controller.signal));
    expect(pre).toMatchObject({ code: 'model.cancelled', status: 499 });
    const preStream = await failure(collect(adapter.stream(ask('Once upon a time', 400), controller.signal)));
    expect(preStream.code).toBe('model.cancelled');
    const mid = await abortAfterFirstDelta(adapter, ask('Once upon a time', 400, { temperature: 0.8, seed: 5 }));
    expect(mid).toMatchObject({ code: 'model.cancelled', status: 499 });
  });

  it('releases sequences on every path: 20 aborted calls, then normal calls still answer identically', async () => {
    const baseline = await adapter.complete(ask('Once upon a time', 30), live());
    const aborted = await Promise.all(
      Array.from({ length: 20 }, (_, i) => {
        if (i % 4 === 0) {
          // Aborted while (probably) waiting for a sequence: the other calls hold both.
          const controller = new AbortController();
          const call = failure(adapter.complete(ask('Once upon a time', 300), controller.signal));
          controller.abort();
          return call;
        }
        return abortAfterFirstDelta(adapter, ask('Once upon a time', 300, { temperature: 0.8, seed: i }));
      }),
    );
    expect(aborted.map((e) => e.code)).toEqual(Array.from({ length: 20 }, () => 'model.cancelled'));
    // Both sequences are free again and hold no leftover tokens: greedy output is unchanged.
    const after = await Promise.all([
      adapter.complete(ask('Once upon a time', 30), live()),
      adapter.complete(ask('Once upon a time', 30), live()),
    ]);
    expect(after).toEqual([baseline, baseline]);
  });

  it('a consumer that stops reading a stream early cancels it and frees its sequence', async () => {
    for (let i = 0; i < 4; i++) {
      for await (const event of adapter.stream(ask('Once upon a time', 300), live())) {
        if (event.type === 'delta') break;
      }
    }
    const results = await Promise.all([adapter.complete(ask('Hi', 8), live()), adapter.complete(ask('Hi', 8), live())]);
    expect(results.every((r) => r.usage.completionTokens > 0)).toBe(true);
  });

  it('with concurrency 2, four parallel calls all complete, each with its own answer', async () => {
    const prompts = ['Once upon a time', 'The little dog', 'Lily went to the park', 'The sun was'];
    const alone = [];
    for (const p of prompts) alone.push(await adapter.complete(ask(p, 24), live()));
    const together = await Promise.all(prompts.map((p) => adapter.complete(ask(p, 24), live())));
    expect(together).toEqual(alone);
  });
});

describe('EmbeddedAdapter open and close', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ward-embedded-'));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function openFails(file: string): Promise<WardError> {
    const error = await failure(EmbeddedAdapter.open({ path: file, threads: 1, contextTokens: CONTEXT, concurrency: 1 }));
    expect(error.code).toBe('model.embedded_unavailable');
    expect(error.message).toContain(JSON.stringify(file));
    expect(error.message).not.toMatch(/[\r\n]/);
    return error;
  }

  it('a missing file fails with model.embedded_unavailable and a one-line message naming it', async () => {
    const error = await openFails(path.join(dir, 'missing.gguf'));
    expect(error.message).toContain('does not exist');
  });

  it('a file that is not GGUF, a directory and a truncated GGUF fail the same way', async () => {
    const text = path.join(dir, 'notes.gguf');
    await writeFile(text, 'this is not a model\nsecond line\n');
    expect((await openFails(text)).message).toContain('is not a GGUF file');
    const folder = path.join(dir, 'folder.gguf');
    await mkdir(folder);
    await openFails(folder);
    const truncated = path.join(dir, 'truncated.gguf');
    await writeFile(truncated, (await readFile(TEST_MODEL_PATH)).subarray(0, 4096));
    expect((await openFails(truncated)).message).toContain('could not be loaded');
  });

  it('close() stops a running call with model.closed, and later calls reject with model.closed', async () => {
    const adapter = await openTestModel(1);
    const running = (async () => {
      for await (const event of adapter.stream(ask('Once upon a time', 400, { temperature: 0.8, seed: 9 }), live())) {
        if (event.type === 'delta') await adapter.close();
      }
    })();
    expect((await failure(running)).code).toBe('model.closed');
    expect((await failure(adapter.complete(ask('Hi', 4), live()))).code).toBe('model.closed');
    await adapter.close();
  });
});

describe('toGrammarSchema', () => {
  it('rewrites anyOf and type lists into oneOf, and drops string formats the grammar cannot express', () => {
    expect(
      toGrammarSchema({
        type: 'object',
        properties: {
          a: { anyOf: [{ type: 'string', format: 'email' }, { type: 'null' }] },
          b: { type: ['integer', 'null'] },
          c: { type: 'string', format: 'date' },
        },
      }),
    ).toEqual({
      type: 'object',
      properties: {
        a: { oneOf: [{ type: 'string' }, { type: 'null' }] },
        b: { oneOf: [{ type: 'integer' }, { type: 'null' }] },
        c: { type: 'string', format: 'date' },
      },
    });
  });

  it('keeps local $defs references and rejects anything it would misread', () => {
    const withDefs = { $defs: { n: { type: 'integer' } }, type: 'object', properties: { a: { $ref: '#/$defs/n' } } };
    expect(toGrammarSchema(withDefs)).toEqual(withDefs);
    for (const bad of [
      { type: 'object', properties: { a: { if: { type: 'string' } } } },
      { type: 'widget' },
      { type: 'object', properties: { a: 1 } },
      { type: 'string', minLength: 5, maxLength: 2 },
      { type: 'object', properties: { a: { type: 'string' }, b: { type: 'string' } }, maxProperties: 1 },
    ]) {
      expect(() => toGrammarSchema(bad)).toThrow(expect.objectContaining({ code: 'model.schema_unsupported' }) as Error);
    }
  });
});
