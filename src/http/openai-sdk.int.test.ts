/**
 * "Compatible enough that OpenAI SDKs work unchanged": the official `openai` package (v6) talks
 * to a listening Ward with only its base URL, an API key and Ward's two headers changed.
 * Chat completions, streaming, JSON schema output, the model list, and errors surfacing as the
 * SDK's own error types with Ward's status. The model behind Ward is the recording test
 * upstream on 127.0.0.1. SQLite only: this is about the wire format, not storage.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDialects } from '../storage/testing/test-databases.js';
import { createHttpWorld } from './testing/http-world.js';
import type { HttpWorld } from './testing/http-world.js';
import { PURPOSE_HEADER } from './route-access.js';
import { PATIENT_HEADER } from './routes/model-routes.js';
import { startFakeOpenAiUpstream } from '../models/testing/fake-openai-upstream.js';
import type { FakeUpstream } from '../models/testing/fake-openai-upstream.js';

describe.each(testDialects().filter((d) => d.name === 'sqlite'))('the OpenAI SDK against Ward on $name', (dialect) => {
  let upstream: FakeUpstream;
  let w: HttpWorld;
  let client: OpenAI;

  beforeAll(async () => {
    upstream = await startFakeOpenAiUpstream();
    w = await createHttpWorld(dialect, {
      models: [
        { id: 'local', adapter: 'openai-compatible', endpoint: upstream.url, zone: 'on-prem' },
        { id: 'vendor', adapter: 'openai-compatible', endpoint: upstream.url, zone: 'external' },
      ],
    });
    const { key } = await w.serviceWithKey('sdk-app', ['integration'], ['model.*']);
    const address = await w.app.listen({ host: '127.0.0.1', port: 0 });
    client = new OpenAI({ baseURL: `${address}/v1`, apiKey: key, defaultHeaders: { [PURPOSE_HEADER]: 'TREAT', [PATIENT_HEADER]: 'pt-sdk-1' }, maxRetries: 0 });
  });
  afterAll(async () => {
    await w.dispose();
    await upstream.close();
  });

  it('creates a chat completion', async () => {
    const completion = await client.chat.completions.create({ model: 'local', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'When is the clinic open?' }], max_tokens: 40 });
    expect(completion.object).toBe('chat.completion');
    expect(completion.model).toBe('local');
    expect(completion.choices[0]?.message.content).toBe('echo: When is the clinic open?');
    expect(completion.usage?.total_tokens).toBeGreaterThan(0);
  });

  it('streams, with usage', async () => {
    upstream.setBehaviour({ kind: 'stream', chunks: ['Open ', 'Monday ', 'to ', 'Friday.'] });
    try {
      const stream = await client.chat.completions.create({ model: 'local', messages: [{ role: 'user', content: 'Hours?' }], stream: true, stream_options: { include_usage: true } });
      let text = '';
      let total = 0;
      let finish: string | null = null;
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta.content ?? '';
        finish = chunk.choices[0]?.finish_reason ?? finish;
        total = chunk.usage?.total_tokens ?? total;
      }
      expect(text).toBe('Open Monday to Friday.');
      expect(finish).toBe('stop');
      expect(total).toBeGreaterThan(0);
    } finally {
      upstream.setBehaviour({ kind: 'reply' });
    }
  });

  it('returns JSON that satisfies a requested schema', async () => {
    const completion = await client.chat.completions.create({
      model: 'local',
      messages: [{ role: 'user', content: 'Pick a slot.' }],
      response_format: { type: 'json_schema', json_schema: { name: 'slot', schema: { type: 'object', properties: { day: { type: 'string' }, hour: { type: 'integer' } }, required: ['day', 'hour'] } } },
    });
    const value = JSON.parse(completion.choices[0]?.message.content ?? '') as { day: unknown; hour: unknown };
    expect(typeof value.day).toBe('string');
    expect(Number.isInteger(value.hour)).toBe(true);
  });

  it('lists the models with their trust zones', async () => {
    const ids: string[] = [];
    for await (const model of client.models.list()) ids.push(model.id);
    expect(ids).toEqual(['local', 'vendor']);
  });

  it('surfaces refusals as the SDK\'s own errors with Ward\'s status and code', async () => {
    const unknown = await client.chat.completions.create({ model: 'gpt-nothing', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(OpenAI.NotFoundError);
    expect((unknown as InstanceType<typeof OpenAI.NotFoundError>).error).toMatchObject({ code: 'model.unknown' });
    const noPurpose = await client.chat.completions.create({ model: 'local', messages: [{ role: 'user', content: 'hi' }] }, { headers: { [PURPOSE_HEADER]: null } }).catch((e: unknown) => e);
    expect(noPurpose).toBeInstanceOf(OpenAI.PermissionDeniedError);
    const tools = await client.chat.completions.create({ model: 'local', messages: [{ role: 'user', content: 'hi' }], tools: [{ type: 'function', function: { name: 'f', parameters: {} } }] }).catch((e: unknown) => e);
    expect(tools).toBeInstanceOf(OpenAI.BadRequestError);
  });
});
