/**
 * One suite every ModelAdapter passes (openai-compatible against the fake upstream, embedded
 * against the test GGUF). It relies on the ModelAdapter contract alone, never on a particular
 * server, so a new adapter proves it behaves like the others by calling it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatRequest, ChatStreamEvent, ModelAdapter } from '../model-adapter.js';

export interface AdapterConformanceOptions {
  /** When the adapter's output is known (a fake server): the exact text for a user prompt. */
  readonly exactText?: (prompt: string) => string;
}

/** Generation on a small CPU can be slow; this is a guard against hangs, not a speed check. */
const CASE_TIMEOUT_MS = 180_000;

const PROMPT = 'Say hello to the synthetic test clinic.';

function ask(prompt: string, maxTokens: number, extra: Partial<ChatRequest> = {}): ChatRequest {
  return { messages: [{ role: 'user', content: prompt }], maxTokens, temperature: 0, seed: 7, ...extra };
}

function live(): AbortSignal {
  return new AbortController().signal;
}

async function collect(events: AsyncIterable<ChatStreamEvent>): Promise<ChatStreamEvent[]> {
  const out: ChatStreamEvent[] = [];
  for await (const event of events) out.push(event);
  return out;
}

export function describeAdapterConformance(
  name: string,
  open: () => Promise<ModelAdapter>,
  options: AdapterConformanceOptions = {},
): void {
  describe(`ModelAdapter conformance: ${name}`, () => {
    let adapter: ModelAdapter;

    beforeAll(async () => {
      adapter = await open();
    }, CASE_TIMEOUT_MS);

    afterAll(async () => {
      await adapter.close();
    });

    it('complete returns text, a finish reason and token usage', { timeout: CASE_TIMEOUT_MS }, async () => {
      const result = await adapter.complete(ask(PROMPT, 32), live());
      expect(result.text.length).toBeGreaterThan(0);
      expect(['stop', 'length']).toContain(result.finishReason);
      expect(result.usage.promptTokens).toBeGreaterThan(0);
      expect(result.usage.completionTokens).toBeGreaterThan(0);
      if (options.exactText !== undefined) expect(result.text).toBe(options.exactText(PROMPT));
    });

    it('maxTokens bounds the completion', { timeout: CASE_TIMEOUT_MS }, async () => {
      const result = await adapter.complete(ask('Count slowly from one to one hundred, one number a line.', 3), live());
      expect(result.usage.completionTokens).toBeLessThanOrEqual(3);
      expect(result.usage.completionTokens).toBeGreaterThan(0);
      // 'stop' only when the model ended on its own before the bound.
      expect(['length', 'stop']).toContain(result.finishReason);
      if (result.finishReason === 'stop') expect(result.usage.completionTokens).toBeLessThan(3);
    });

    it('stream yields deltas, then exactly one end', { timeout: CASE_TIMEOUT_MS }, async () => {
      const events = await collect(adapter.stream(ask(PROMPT, 32), live()));
      const ends = events.filter((e) => e.type === 'end');
      expect(ends).toHaveLength(1);
      expect(events.at(-1)?.type).toBe('end');
      const deltas = events.flatMap((e) => (e.type === 'delta' ? [e.text] : []));
      expect(deltas.length).toBeGreaterThanOrEqual(1);
      const text = deltas.join('');
      expect(text.length).toBeGreaterThan(0);
      if (options.exactText !== undefined) expect(text).toBe(options.exactText(PROMPT));
      const end = ends[0];
      if (end?.type !== 'end') throw new Error('unreachable');
      expect(['stop', 'length']).toContain(end.finishReason);
      expect(end.usage.promptTokens).toBeGreaterThan(0);
      expect(end.usage.completionTokens).toBeGreaterThan(0);
    });

    it('a JSON schema constrains the output', { timeout: CASE_TIMEOUT_MS }, async () => {
      const schema = {
        type: 'object',
        properties: { name: { type: 'string' }, count: { type: 'integer' } },
        required: ['name', 'count'],
      };
      const result = await adapter.complete(
        ask('Describe a synthetic item as JSON with a name and a count.', 80, { jsonSchema: { name: 'item', schema } }),
        live(),
      );
      const parsed: unknown = JSON.parse(result.text);
      expect(parsed).toBeTypeOf('object');
      expect(parsed).not.toBeNull();
      const record = parsed as Record<string, unknown>;
      expect(record['name']).toBeTypeOf('string');
      expect(Number.isInteger(record['count'])).toBe(true);
    });

    it('an already-aborted signal rejects with model.cancelled', { timeout: CASE_TIMEOUT_MS }, async () => {
      const controller = new AbortController();
      controller.abort();
      await expect(adapter.complete(ask(PROMPT, 16), controller.signal)).rejects.toMatchObject({ code: 'model.cancelled' });
      await expect(collect(adapter.stream(ask(PROMPT, 16), controller.signal))).rejects.toMatchObject({ code: 'model.cancelled' });
    });

    it('an abort mid-stream rejects with model.cancelled', { timeout: CASE_TIMEOUT_MS }, async () => {
      const controller = new AbortController();
      const seen: ChatStreamEvent[] = [];
      const run = async (): Promise<void> => {
        for await (const event of adapter.stream(ask(PROMPT, 64), controller.signal)) {
          seen.push(event);
          if (event.type === 'delta') controller.abort();
        }
      };
      await expect(run()).rejects.toMatchObject({ code: 'model.cancelled' });
      expect(seen.filter((e) => e.type === 'delta').length).toBeGreaterThanOrEqual(1);
      expect(seen.some((e) => e.type === 'end')).toBe(false);
    });

    it('the adapter still answers after cancelled calls', { timeout: CASE_TIMEOUT_MS }, async () => {
      const result = await adapter.complete(ask(PROMPT, 16), live());
      expect(result.text.length).toBeGreaterThan(0);
    });

    it('after close() every call rejects with model.closed', { timeout: CASE_TIMEOUT_MS }, async () => {
      const closing = await open();
      await closing.close();
      await expect(closing.complete(ask(PROMPT, 8), live())).rejects.toMatchObject({ code: 'model.closed' });
      await expect(collect(closing.stream(ask(PROMPT, 8), live()))).rejects.toMatchObject({ code: 'model.closed' });
      await closing.close(); // closing twice is harmless
    });
  });
}
