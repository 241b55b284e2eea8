/**
 * The model API over HTTP on every database, against a small OpenAI-compatible server on
 * 127.0.0.1 that records every byte it receives (a stand-in for vLLM/Ollama/llama.cpp/TGI; the
 * real embedded model has its own suite). What clinics rely on: PHI goes to on-prem models as
 * given and never to an external one; a BAA call is a disclosure in the patient's accounting;
 * refusals are problem+json with stable codes; every call is audited with hashes and counts,
 * never text.
 */
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { testDialects } from '../storage/testing/test-databases.js';
import type { TestDialect } from '../storage/testing/test-databases.js';
import { createHttpWorld, SYSTEM_ACTOR } from './testing/http-world.js';
import type { HttpWorld, HttpWorldOptions } from './testing/http-world.js';
import { audited, everythingWritten, expectProblem } from './testing/http-assertions.js';
import { PURPOSE_HEADER } from './route-access.js';
import { PATIENT_HEADER } from './routes/model-routes.js';
import { startFakeOpenAiUpstream } from '../models/testing/fake-openai-upstream.js';
import type { FakeUpstream } from '../models/testing/fake-openai-upstream.js';
import type { ModelConfigInput } from '../config/models-config.js';
import { modelConfigSchema } from '../config/models-config.js';
import { checkRegistry } from '../models/model-registry.js';
import { readImportSource } from '../records/import/read-import-source.js';
import { SYNTHEA_BULK } from '../records/testing/records-world.js';

/** Synthetic canaries: a name, an SSN, a phone number, an e-mail address, a date of birth. */
const PHI_PROMPT = 'Draft a reminder for Jessica Albright, SSN 123-45-6789, phone (617) 555-0143, email jessica.albright@example.com, born March 3, 1961.';
const CANARIES = ['Jessica', 'Albright', '123-45-6789', '555-0143', 'jessica.albright@example.com', '1961'];
const ALICE = '7bc002fa-dc52-17d6-1563-fd8901826f7d';
const BOB = 'ca15b832-01e4-41dd-6a52-97bd3e5510cb';
const ALICE_LICENSE = 'S99978056';

interface Completion { id: string; object: string; model: string; choices: Array<{ message: { role: string; content: string }; finish_reason: string }>; usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number } }

describe.each(testDialects())('model gateway over HTTP on $name', (dialect: TestDialect) => {
  let upstream: FakeUpstream;
  let w: HttpWorld | undefined;
  beforeAll(async () => {
    upstream = await startFakeOpenAiUpstream();
  });
  afterAll(async () => {
    await upstream.close();
  });
  afterEach(async () => {
    await w?.dispose();
    w = undefined;
    upstream.setBehaviour({ kind: 'reply' });
    upstream.received.length = 0;
  });

  const model = (id: string, zone: 'on-prem' | 'external' | 'baa', extra: Partial<ModelConfigInput> = {}): ModelConfigInput =>
    ({ id, adapter: 'openai-compatible', endpoint: upstream.url, zone, ...(zone === 'baa' ? { baa: 'BAA-2026-014' } : {}), ...extra }) as ModelConfigInput;

  async function world(options: HttpWorldOptions = {}): Promise<{ w: HttpWorld; key: string }> {
    const hw = await createHttpWorld(dialect, {
      models: [model('local', 'on-prem'), model('vendor', 'external'), model('partner', 'baa')],
      ...options,
    });
    w = hw;
    const { key } = await hw.serviceWithKey('intake-app', ['integration'], ['model.*']);
    return { w: hw, key };
  }

  const headers = (key: string, purpose = 'TREAT', patient?: string): Record<string, string> => ({
    authorization: `Bearer ${key}`, [PURPOSE_HEADER]: purpose, ...(patient !== undefined ? { [PATIENT_HEADER]: patient } : {}),
  });
  const chat = (content: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({ model: 'local', messages: [{ role: 'user', content }], ...extra });
  const sentText = (): string => upstream.received.map((r) => r.body.toString('utf8')).join('\n');

  it('lists the models with their trust zones', async () => {
    const { w, key } = await world();
    const res = await w.app.inject({ method: 'GET', url: '/v1/models', headers: { authorization: `Bearer ${key}` } });
    expect(res.statusCode).toBe(200);
    const list = res.json<{ object: string; data: Array<{ id: string; object: string; ward: { zone: string; baa?: string } }> }>();
    expect(list.object).toBe('list');
    expect(list.data.map((m) => [m.id, m.ward.zone, m.ward.baa ?? null])).toEqual([['local', 'on-prem', null], ['vendor', 'external', null], ['partner', 'baa', 'BAA-2026-014']]);
  });

  it('sends PHI as given to an on-prem model and audits the call with hashes and counts, never text', async () => {
    const { w, key } = await world();
    const res = await w.app.inject({ method: 'POST', url: '/v1/chat/completions', headers: headers(key), payload: chat(PHI_PROMPT, { max_tokens: 50 }) });
    expect(res.statusCode).toBe(200);
    const body = res.json<Completion>();
    expect(body).toMatchObject({ object: 'chat.completion', model: 'local', choices: [{ message: { role: 'assistant', content: `echo: ${PHI_PROMPT}` }, finish_reason: 'stop' }] });
    expect(body.usage.total_tokens).toBe(body.usage.prompt_tokens + body.usage.completion_tokens);
    expect(res.headers['x-ward-model-zone']).toBe('on-prem');
    expect(res.headers['x-ward-review-required']).toBe('true'); // integration TREAT: humanReview obligation
    expect(sentText()).toContain('123-45-6789');
    const [entry] = await audited(w, 'model.chat');
    expect(entry).toMatchObject({ outcome: 'success', purpose: 'TREAT', resource: { type: 'Model', id: 'local' } });
    expect(entry!.details).toMatchObject({ model: 'local', zone: 'on-prem', deidentified: false, stream: false, attempts: 1, partial: false });
    expect(String(entry!.details!.phi)).toMatch(/NAME/);
    expect(String(entry!.details!.phi)).toMatch(/SSN/);
    expect(entry!.details!.promptHmac).toMatch(/^[0-9a-f]{64}$/);
    expect(entry!.details!.responseHmac).toMatch(/^[0-9a-f]{64}$/);
    expect(entry!.details!.promptTokens).toBeGreaterThan(0);
    const written = await everythingWritten(w);
    for (const canary of CANARIES) expect(written).not.toContain(canary);
  });

  it('sends an external model only de-identified text, and re-identifies its answer for the caller', async () => {
    const { w, key } = await world();
    const res = await w.app.inject({ method: 'POST', url: '/v1/chat/completions', headers: headers(key), payload: chat(PHI_PROMPT, { model: 'vendor' }) });
    expect(res.statusCode).toBe(200);
    const sent = sentText();
    for (const canary of CANARIES) expect(sent).not.toContain(canary);
    expect(sent).toMatch(/\[NAME-1\]/);
    expect(res.headers['x-ward-deidentified']).toBe('true');
    // The fake echoes the placeholders; the caller, who sent the names, gets them back.
    expect(res.json<Completion>().choices[0]!.message.content).toBe(`echo: ${PHI_PROMPT}`);
    const [entry] = await audited(w, 'model.chat');
    expect(entry!.details).toMatchObject({ zone: 'external', deidentified: true, reidentified: true });
    expect(entry!.details!.sentHmac).toMatch(/^[0-9a-f]{64}$/);
    expect(entry!.details!.sentHmac).not.toBe(entry!.details!.promptHmac);
  });

  it('de-identifies even for an on-prem model when the permit obliges it, and does not re-identify the answer', async () => {
    const { w, key } = await world();
    const res = await w.app.inject({ method: 'POST', url: '/v1/chat/completions', headers: headers(key, 'HOPERAT'), payload: chat(PHI_PROMPT) });
    expect(res.statusCode).toBe(200);
    for (const canary of CANARIES) expect(sentText()).not.toContain(canary);
    const content = res.json<Completion>().choices[0]!.message.content;
    expect(content).toContain('[NAME-1]');
    expect(content).not.toContain('Albright');
  });

  it('refuses PHI for an external model when the organization sends none, and nothing leaves', async () => {
    const { w, key } = await world({ gateway: { externalPhi: 'refuse' } });
    const res = await w.app.inject({ method: 'POST', url: '/v1/chat/completions', headers: headers(key), payload: chat(PHI_PROMPT, { model: 'vendor' }) });
    expectProblem(res, 403, 'egress.phi_refused');
    expect(upstream.received).toHaveLength(0);
    const [entry] = await audited(w, 'model.chat');
    expect(entry).toMatchObject({ outcome: 'denied', reason: 'egress.phi_refused' });
    // Text without PHI still goes.
    const ok = await w.app.inject({ method: 'POST', url: '/v1/chat/completions', headers: headers(key), payload: chat('Write a friendly clinic opening-hours notice.', { model: 'vendor' }) });
    expect(ok.statusCode).toBe(200);
  });

  it('records a BAA call with PHI as a disclosure for the named patient, and refuses one that names no patient', async () => {
    const { w, key } = await world();
    const unnamed = await w.app.inject({ method: 'POST', url: '/v1/chat/completions', headers: headers(key), payload: chat(PHI_PROMPT, { model: 'partner' }) });
    expectProblem(unnamed, 400, 'egress.patient_required');
    expect(upstream.received).toHaveLength(0);
    const named = await w.app.inject({ method: 'POST', url: '/v1/chat/completions', headers: headers(key, 'TREAT', 'pat-42'), payload: chat(PHI_PROMPT, { model: 'partner' }) });
    expect(named.statusCode).toBe(200);
    const entries = await audited(w, 'model.chat');
    expect(entries.at(-1)).toMatchObject({ outcome: 'success', patient: 'pat-42', details: { zone: 'baa', disclosure: 'business-associate', baa: 'BAA-2026-014' } });
  });

  it('streams over SSE in OpenAI chunk format with usage and [DONE]', async () => {
    const { w, key } = await world();
    upstream.setBehaviour({ kind: 'stream', chunks: ['The clinic ', 'opens at ', 'eight on ', 'Monday.'] });
    const res = await w.app.inject({ method: 'POST', url: '/v1/chat/completions', headers: headers(key), payload: chat('When do you open?', { stream: true, stream_options: { include_usage: true } }) });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/event-stream/);
    const events = res.body.split('\n\n').filter((e) => e.startsWith('data: ')).map((e) => e.slice(6));
    expect(events.at(-1)).toBe('[DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e) as { object: string; choices: Array<{ delta: { content?: string }; finish_reason: string | null }>; usage?: { total_tokens: number } });
    expect(chunks.every((c) => c.object === 'chat.completion.chunk')).toBe(true);
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('The clinic opens at eight on Monday.');
    expect(chunks.some((c) => c.choices[0]?.finish_reason === 'stop')).toBe(true);
    expect(chunks.at(-1)!.usage!.total_tokens).toBeGreaterThan(0);
    const [entry] = await audited(w, 'model.chat');
    expect(entry).toMatchObject({ outcome: 'success', details: { stream: true, partial: false } });
  });

  it('retries invalid JSON once, then refuses it; valid JSON passes; TGI gets its own response_format', async () => {
    const { w, key } = await world({ models: [model('local', 'on-prem'), model('tgi', 'on-prem', { dialect: 'tgi' })] });
    const schema = { type: 'object', properties: { slot: { type: 'string' } }, required: ['slot'], additionalProperties: false };
    const format = { type: 'json_schema', json_schema: { name: 'slot', schema } };
    let calls = 0;
    upstream.setBehaviour({ kind: 'reply', text: () => (calls++ === 0 ? '{"slot": ' : '{"slot":"Tuesday 9:00"}') });
    const retried = await w.app.inject({ method: 'POST', url: '/v1/chat/completions', headers: headers(key), payload: chat('Pick a slot', { response_format: format }) });
    expect(retried.statusCode).toBe(200);
    expect(JSON.parse(retried.json<Completion>().choices[0]!.message.content)).toEqual({ slot: 'Tuesday 9:00' });
    expect(upstream.received).toHaveLength(2);
    upstream.setBehaviour({ kind: 'reply', text: '{"when":"soon"}' });
    const refused = await w.app.inject({ method: 'POST', url: '/v1/chat/completions', headers: headers(key), payload: chat('Pick a slot', { response_format: format }) });
    expectProblem(refused, 502, 'guard.output_schema_mismatch');
    expect(upstream.received).toHaveLength(4);
    upstream.setBehaviour({ kind: 'reply' });
    upstream.received.length = 0;
    const tgi = await w.app.inject({ method: 'POST', url: '/v1/chat/completions', headers: headers(key), payload: chat('Pick a slot', { model: 'tgi', response_format: format }) });
    expect(tgi.statusCode).toBe(200);
    expect((JSON.parse(upstream.received[0]!.body.toString('utf8')) as { response_format: unknown }).response_format).toEqual({ type: 'json', value: schema });
  });

  it('withholds an answer naming another patient, and lets one naming the patient in scope through', async () => {
    const { w, key } = await world();
    await w.importer.import(readImportSource(join(SYNTHEA_BULK, 'Patient.000.ndjson.gz')), { atomic: false, who: SYSTEM_ACTOR });
    upstream.setBehaviour({ kind: 'reply', text: `Her driver's license number is ${ALICE_LICENSE}.` });
    const other = await w.app.inject({ method: 'POST', url: '/v1/chat/completions', headers: headers(key, 'TREAT', BOB), payload: chat('Summarize the visit.') });
    expectProblem(other, 502, 'guard.out_of_scope_patient');
    expect(other.body).not.toContain(ALICE_LICENSE);
    const none = await w.app.inject({ method: 'POST', url: '/v1/chat/completions', headers: headers(key), payload: chat('Summarize the visit.') });
    expectProblem(none, 502, 'guard.out_of_scope_patient');
    const own = await w.app.inject({ method: 'POST', url: '/v1/chat/completions', headers: headers(key, 'TREAT', ALICE), payload: chat('Summarize the visit.') });
    expect(own.statusCode).toBe(200);
    const entries = await audited(w, 'model.chat');
    expect(entries.map((e) => [e.outcome, e.reason ?? null])).toEqual([['denied', 'guard.out_of_scope_patient'], ['denied', 'guard.out_of_scope_patient'], ['success', null]]);
    expect(await everythingWritten(w)).not.toContain(ALICE_LICENSE);
  });

  it('answers bad input with 4xx problem+json, never a 500, and sends nothing upstream', async () => {
    const { w, key } = await world({ gateway: { bodyLimitBytes: 2048 } });
    const post = (payload: string | Record<string, unknown>, h: Record<string, string> = headers(key)) =>
      w.app.inject({ method: 'POST', url: '/v1/chat/completions', headers: { ...h, 'content-type': 'application/json' }, payload: typeof payload === 'string' ? payload : JSON.stringify(payload) });
    expectProblem(await post('{"model": "local", "messages": ['), 400, 'request.invalid');
    expectProblem(await post(chat('x'.repeat(4096))), 413, 'request.too_large');
    expectProblem(await post({ model: 'local', messages: 'hello' }), 400, 'request.invalid');
    expectProblem(await post({ model: 'local', messages: [{ role: 'user', content: 42 }] }), 400, 'request.invalid');
    expectProblem(await post({ ...chat('hi'), temperature: 'hot' }), 400, 'request.invalid');
    expectProblem(await post({ ...chat('hi'), model: 'gpt-unknown' }), 404, 'model.unknown');
    expectProblem(await post({ ...chat('hi'), tools: [{ type: 'function' }] }), 400, 'request.unsupported');
    expectProblem(await post({ ...chat('hi'), base_url: 'http://169.254.169.254/' }), 400, 'request.invalid');
    expectProblem(await post({ model: 'local', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'http://169.254.169.254/' } }] }] }), 400, 'request.invalid');
    expectProblem(await post({ ...chat('hi'), store: true }), 400, 'request.invalid');
    expectProblem(await post({ ...chat('hi'), max_tokens: 100_000 }), 400, 'request.invalid');
    expectProblem(await post({ ...chat('hi'), response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'object', properties: { a: { $ref: 'http://169.254.169.254/schema' } } } } } }), 400, 'guard.schema_invalid');
    expectProblem(await post(chat('hi'), { authorization: `Bearer ${key}` }), 403, 'policy.purpose_required');
    expectProblem(await post(chat('hi'), { [PURPOSE_HEADER]: 'TREAT' }), 401, 'auth.unauthenticated');
    expect(upstream.received).toHaveLength(0);
  });

  it('limits requests per identity with 429 and Retry-After', async () => {
    const { w, key } = await world({ gateway: { requestsPerMinute: 2 } });
    for (let i = 0; i < 2; i += 1) expect((await w.app.inject({ method: 'POST', url: '/v1/chat/completions', headers: headers(key), payload: chat('hi') })).statusCode).toBe(200);
    const limited = await w.app.inject({ method: 'POST', url: '/v1/chat/completions', headers: headers(key), payload: chat('hi') });
    expectProblem(limited, 429, 'gateway.rate_limited');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('falls back to a model of the same zone when the first fails, and times out a silent model', async () => {
    const broken = await startFakeOpenAiUpstream({ behaviour: { kind: 'status', status: 500, body: PHI_PROMPT } });
    try {
      const { w, key } = await world({ models: [model('local', 'on-prem'), model('flaky', 'on-prem', { endpoint: broken.url, fallback: ['local'] }), model('slow', 'on-prem', { endpoint: broken.url, limits: { timeoutMs: 300 } })] });
      const res = await w.app.inject({ method: 'POST', url: '/v1/chat/completions', headers: headers(key), payload: chat('hi', { model: 'flaky' }) });
      expect(res.statusCode).toBe(200);
      expect(res.json<Completion>().model).toBe('local');
      const [entry] = await audited(w, 'model.chat');
      expect(entry!.details).toMatchObject({ model: 'local', requestedModel: 'flaky', attempts: 2 });
      broken.setBehaviour({ kind: 'hang' });
      const slow = await w.app.inject({ method: 'POST', url: '/v1/chat/completions', headers: headers(key), payload: chat('hi', { model: 'slow' }) });
      expectProblem(slow, 504, 'model.timeout');
      await broken.waitForDisconnect();
      expect(await everythingWritten(w)).not.toContain('Albright');
    } finally {
      await broken.close();
    }
  });

});

describe('model registry', () => {
  it('refuses a fallback to a weaker trust zone, an unknown model and a duplicate id, all in one message', () => {
    const m = (id: string, zone: 'on-prem' | 'external', fallback: string[] = []) => modelConfigSchema.parse({ id, adapter: 'openai-compatible', endpoint: 'http://127.0.0.1:9/v1', zone, fallback });
    expect(() => checkRegistry([m('local', 'on-prem', ['vendor', 'ghost']), m('vendor', 'external'), m('vendor', 'external')])).toThrow(/declared twice.*unknown model ghost|weaker/);
    expect(() => checkRegistry([m('vendor', 'external', ['local']), m('local', 'on-prem')])).not.toThrow();
  });
});
