/**
 * Prove (issue 6): egress is deny-by-default, over HTTP, on every database. A model endpoint
 * that is a public IP literal stops the start; a host name that resolves to an undeclared
 * public address, to a mix of allowed and refused addresses, or to the cloud metadata address
 * is refused before any connection, and a redirect (to another server inside the walls, or
 * to the metadata address) is never followed. A name that resolves to loopback works, which
 * proves the injected resolver is the one the connection uses. Every refusal is a problem+json
 * with an `egress.*` code, audited as a `model.chat` entry with that reason, and neither the
 * logs nor the audit hold the prompt. DNS is a test resolver; every address is synthetic
 * (203.0.113.0/24 and 198.51.100.0/24 are documentation ranges, RFC 5737).
 */
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { testDialects } from '../storage/testing/test-databases.js';
import type { TestDialect } from '../storage/testing/test-databases.js';
import { createHttpWorld } from './testing/http-world.js';
import type { HttpWorld } from './testing/http-world.js';
import { audited, everythingWritten, expectProblem } from './testing/http-assertions.js';
import type { Reply } from './testing/http-assertions.js';
import { PURPOSE_HEADER } from './route-access.js';
import { startFakeOpenAiUpstream } from '../models/testing/fake-openai-upstream.js';
import type { FakeUpstream } from '../models/testing/fake-openai-upstream.js';
import type { ModelConfigInput } from '../config/models-config.js';
import { modelConfigSchema } from '../config/models-config.js';
import type { Resolve, ResolvedAddress } from '../models/egress/guarded-lookup.js';
import { ModelRegistry } from '../models/model-registry.js';
import { OpenAiCompatibleAdapter } from '../models/openai-compatible-adapter.js';

/** Synthetic canaries: what the logs and the audit must never hold. */
const PHI_PROMPT = 'Draft a reminder for Jessica Albright, SSN 123-45-6789, phone (617) 555-0143, email jessica.albright@example.com, born March 3, 1961.';
const CANARIES = ['Jessica', 'Albright', '123-45-6789', '555-0143', 'jessica.albright@example.com', '1961'];

/** A canary as a whole token (a year inside a millisecond timestamp or a hash is no leak). */
function standalone(canary: string): RegExp {
  return new RegExp(`(?<![0-9A-Za-z])${canary.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![0-9A-Za-z])`);
}

/** The test DNS: host name -> answer (an Error: the resolver fails). */
const ZONE: Record<string, ResolvedAddress[] | Error> = {
  'local.test': [{ address: '127.0.0.1', family: 4 }],
  'models.test': [{ address: '203.0.113.7', family: 4 }],
  'mixed.test': [{ address: '127.0.0.1', family: 4 }, { address: '203.0.113.7', family: 4 }],
  'mixed-reversed.test': [{ address: '203.0.113.7', family: 4 }, { address: '127.0.0.1', family: 4 }],
  'metadata.test': [{ address: '169.254.169.254', family: 4 }],
  'mapped-metadata.test': [{ address: '::ffff:169.254.169.254', family: 6 }],
  'local-and-metadata.test': [{ address: '127.0.0.1', family: 4 }, { address: '169.254.169.254', family: 4 }],
  'empty.test': [],
  'broken.test': new Error('SERVFAIL'),
};

describe.each(testDialects())('model egress over HTTP on $name', (dialect: TestDialect) => {
  let upstream: FakeUpstream;
  /** Listens on 127.0.0.1 at the port refused endpoints name: a connection here is a bypass. */
  let trap: FakeUpstream;
  let w: HttpWorld | undefined;
  const lookups: string[] = [];
  const resolve: Resolve = async (hostname) => {
    lookups.push(hostname);
    const answer = ZONE[hostname];
    if (answer === undefined) throw new Error('NXDOMAIN');
    if (answer instanceof Error) throw answer;
    return answer;
  };

  beforeAll(async () => {
    upstream = await startFakeOpenAiUpstream();
    trap = await startFakeOpenAiUpstream();
  });
  afterAll(async () => {
    await upstream.close();
    await trap.close();
  });
  beforeEach(() => {
    lookups.length = 0;
  });
  afterEach(async () => {
    await w?.dispose();
    w = undefined;
    upstream.setBehaviour({ kind: 'reply' });
    upstream.received.length = 0;
    trap.received.length = 0;
  });

  const onPrem = (id: string, endpoint: string): ModelConfigInput => ({ id, adapter: 'openai-compatible', endpoint, zone: 'on-prem' });
  const external = (id: string, endpoint: string, allowAddresses: string[] = []): ModelConfigInput => ({ id, adapter: 'openai-compatible', endpoint, zone: 'external', allowAddresses });

  async function world(models: ModelConfigInput[]): Promise<{ w: HttpWorld; key: string }> {
    const hw = await createHttpWorld(dialect, { models, resolve });
    w = hw;
    const { key } = await hw.serviceWithKey('intake-app', ['integration'], ['model.*']);
    return { w: hw, key };
  }

  const ask = (hw: HttpWorld, key: string, model: string, extra: Record<string, unknown> = {}): Promise<Reply> =>
    hw.app.inject({
      method: 'POST',
      url: '/v1/chat/completions',
      headers: { authorization: `Bearer ${key}`, [PURPOSE_HEADER]: 'TREAT' },
      payload: { model, messages: [{ role: 'user', content: PHI_PROMPT }], ...extra },
    });

  /** Refused: problem+json with the code, nothing received anywhere, no connection to the trap. */
  async function expectRefused(hw: HttpWorld, res: Reply, code: string): Promise<void> {
    expectProblem(res, 502, code);
    expect(res.body).not.toContain('203.0.113');
    expect(res.body).not.toContain('169.254');
    expect(upstream.received).toHaveLength(0);
    expect(trap.received).toHaveLength(0);
    expect(trap.connections).toBe(0);
    const entries = await audited(hw, 'model.chat');
    expect(entries.at(-1)).toMatchObject({ outcome: 'denied', reason: code });
    const written = await everythingWritten(hw);
    for (const canary of CANARIES) expect(written).not.toMatch(standalone(canary));
  }

  it('stops the start when an endpoint is an IP literal Ward may not reach, naming the model and not the address', async () => {
    const hw = await createHttpWorld(dialect);
    w = hw;
    const refusedAtStart: ModelConfigInput[] = [
      onPrem('public-on-prem', 'http://203.0.113.7:8000/v1'),
      external('public-undeclared', 'https://203.0.113.7/v1'),
      external('public-over-http', 'http://203.0.113.7/v1', ['203.0.113.7']),
      external('metadata', 'http://169.254.169.254/v1', ['169.254.169.254']),
      external('metadata-mapped', 'https://[::ffff:a9fe:a9fe]/v1', ['0.0.0.0/0']),
      onPrem('unspecified', 'http://0.0.0.0:8000/v1'),
    ];
    for (const bad of refusedAtStart) {
      // What the composition root does at start (main.ts openModelAdapter) for each configured model.
      const started = ModelRegistry.open([modelConfigSchema.parse(onPrem('fine', upstream.url)), modelConfigSchema.parse(bad)], (config) => {
        if (config.adapter !== 'openai-compatible') throw new Error('unexpected adapter');
        return Promise.resolve(new OpenAiCompatibleAdapter({ config, resolve }));
      });
      const id = (bad as { id: string }).id;
      await expect(started, id).rejects.toMatchObject({ code: 'config.model_endpoint', extra: { modelId: id } });
      const message = await started.catch((e: unknown) => (e as Error).message);
      expect(message).toContain(id);
      expect(message).not.toMatch(/\n|203\.0\.113|169\.254|a9fe/);
    }
    // Nothing was asked of DNS (literals) and nothing connected anywhere.
    expect(lookups).toEqual([]);
    expect(upstream.connections + trap.connections).toBe(0);
  });

  it('uses the injected resolver: a name that resolves to loopback works and is sent as the Host', async () => {
    const port = upstream.port;
    const { w: hw, key } = await world([onPrem('named-local', `http://local.test:${port}/v1`)]);
    const res = await ask(hw, key, 'named-local');
    expect(res.statusCode).toBe(200);
    expect(lookups).toContain('local.test');
    expect(upstream.received).toHaveLength(1);
    expect(upstream.received[0]!.headers.host).toBe(`local.test:${port}`);
    const [entry] = await audited(hw, 'model.chat');
    expect(entry).toMatchObject({ outcome: 'success', details: { model: 'named-local', zone: 'on-prem' } });
  });

  it('refuses a name that resolves to an undeclared public address, for an on-prem and for an external model', async () => {
    const { w: hw, key } = await world([
      onPrem('named-public', `http://models.test:${trap.port}/v1`),
      external('vendor-undeclared', `https://models.test:${trap.port}/v1`, ['198.51.100.0/24']),
    ]);
    await expectRefused(hw, await ask(hw, key, 'named-public'), 'egress.address_refused');
    await expectRefused(hw, await ask(hw, key, 'vendor-undeclared'), 'egress.address_refused');
    expect(lookups.filter((h) => h === 'models.test').length).toBeGreaterThanOrEqual(2);
  });

  it('refuses a mixed answer (loopback and an undeclared public address) in either order, and never connects to the loopback one', async () => {
    const { w: hw, key } = await world([
      onPrem('mixed', `http://mixed.test:${trap.port}/v1`),
      onPrem('mixed-reversed', `http://mixed-reversed.test:${trap.port}/v1`),
    ]);
    await expectRefused(hw, await ask(hw, key, 'mixed'), 'egress.address_refused');
    await expectRefused(hw, await ask(hw, key, 'mixed-reversed'), 'egress.address_refused');
    // Streaming takes the same path.
    await expectRefused(hw, await ask(hw, key, 'mixed', { stream: true }), 'egress.address_refused');
  });

  it('refuses the cloud metadata address even for an external model whose allowAddresses cover it', async () => {
    const { w: hw, key } = await world([
      external('metadata', 'https://metadata.test/v1', ['0.0.0.0/0', '169.254.169.254']),
      external('metadata-mapped', 'https://mapped-metadata.test/v1', ['0.0.0.0/0', '::/0']),
      onPrem('local-and-metadata', `http://local-and-metadata.test:${trap.port}/v1`),
    ]);
    await expectRefused(hw, await ask(hw, key, 'metadata'), 'egress.address_refused');
    await expectRefused(hw, await ask(hw, key, 'metadata-mapped'), 'egress.address_refused');
    await expectRefused(hw, await ask(hw, key, 'local-and-metadata'), 'egress.address_refused');
    expect(lookups).toEqual(expect.arrayContaining(['metadata.test', 'mapped-metadata.test', 'local-and-metadata.test']));
  });

  it('refuses a name that does not resolve (no answer, or a failing resolver) as egress.resolve_failed', async () => {
    const { w: hw, key } = await world([onPrem('empty', `http://empty.test:${trap.port}/v1`), onPrem('broken', `http://broken.test:${trap.port}/v1`)]);
    await expectRefused(hw, await ask(hw, key, 'empty'), 'egress.resolve_failed');
    const broken = await ask(hw, key, 'broken');
    await expectRefused(hw, broken, 'egress.resolve_failed');
    expect(broken.body).not.toContain('SERVFAIL');
  });

  it('never follows a redirect: 301, 302, 303, 307 and 308 to another server inside the walls, or to the metadata address', async () => {
    const { w: hw, key } = await world([onPrem('local', upstream.url), external('vendor', upstream.url)]);
    const targets = [`${trap.url}/chat/completions`, 'http://169.254.169.254/latest/meta-data/'];
    let calls = 0;
    for (const status of [301, 302, 303, 307, 308]) {
      for (const location of targets) {
        for (const model of ['local', 'vendor']) {
          upstream.setBehaviour({ kind: 'status', status, headers: { location } });
          upstream.received.length = 0;
          const res = await ask(hw, key, model);
          calls += 1;
          expect(upstream.received, `${status} ${model}`).toHaveLength(1);
          upstream.received.length = 0;
          await expectRefused(hw, res, 'egress.redirect_refused');
        }
      }
    }
    // The fake's own 307 behaviour, and a streamed call.
    upstream.setBehaviour({ kind: 'redirect', location: `${trap.url}/chat/completions` });
    for (const extra of [{}, { stream: true }]) {
      const res = await ask(hw, key, 'local', extra);
      calls += 1;
      upstream.received.length = 0;
      await expectRefused(hw, res, 'egress.redirect_refused');
    }
    const entries = await audited(hw, 'model.chat');
    expect(entries).toHaveLength(calls);
    expect(entries.every((e) => e.outcome === 'denied' && e.reason === 'egress.redirect_refused')).toBe(true);
  });
});

/**
 * Bad input (issue 6 "Prove"): whatever a client sends, the answer is a 4xx problem+json, never
 * a 500 with internals, and a refused body sends nothing upstream. The fixed cases live in
 * models.int.test.ts; here fast-check throws random malformed bodies at the route (seeded, so a
 * failure is reproducible).
 */
describe.each(testDialects())('malformed model requests on $name', (dialect: TestDialect) => {
  const BODY_LIMIT = 4096;
  let upstream: FakeUpstream;
  let hw: HttpWorld;
  let key: string;
  beforeAll(async () => {
    upstream = await startFakeOpenAiUpstream();
    hw = await createHttpWorld(dialect, {
      models: [{ id: 'local', adapter: 'openai-compatible', endpoint: upstream.url, zone: 'on-prem' }],
      gateway: { bodyLimitBytes: BODY_LIMIT, requestsPerMinute: 0 },
    });
    ({ key } = await hw.serviceWithKey('intake-app', ['integration'], ['model.*']));
  });
  afterAll(async () => {
    await hw.dispose();
    await upstream.close();
  });

  const VALID = { model: 'local', messages: [{ role: 'user', content: 'When does the clinic open?' }], max_tokens: 16 };
  const FIELDS = ['model', 'messages', 'max_tokens', 'max_completion_tokens', 'temperature', 'top_p', 'stop', 'seed', 'stream', 'stream_options', 'response_format', 'n', 'user', 'presence_penalty', 'frequency_penalty', 'logprobs', 'store', 'metadata'];
  const post = (payload: string, contentType = 'application/json'): Promise<Reply> =>
    hw.app.inject({ method: 'POST', url: '/v1/chat/completions', headers: { authorization: `Bearer ${key}`, [PURPOSE_HEADER]: 'TREAT', 'content-type': contentType }, payload });

  /** Never a 500, never `internal.error`; every refusal a problem+json without a stack trace. */
  function expectNoInternals(res: Reply): void {
    expect(res.statusCode).not.toBe(500);
    if (res.statusCode >= 400) {
      expect(String(res.headers['content-type'])).toMatch(/^application\/problem\+json/);
      const body = res.json<{ code?: string; status?: number }>();
      expect(body.status).toBe(res.statusCode);
      expect(body.code).not.toBe('internal.error');
      expect(res.body).not.toMatch(/\bat [\w.<>]+ \(|node_modules|\.ts:\d+|\.js:\d+/);
    }
    // A 5xx may only be the model's or a guard's verdict on a request that was valid.
    if (res.statusCode >= 500) expect(res.json<{ code: string }>().code).toMatch(/^(model|guard|egress)\./);
  }

  /** Refused as the caller's fault, and nothing went upstream. */
  async function expectRefusedInput(payload: string, contentType?: string): Promise<void> {
    const before = upstream.received.length;
    const res = await post(payload, contentType);
    expectNoInternals(res);
    expect(res.statusCode).toBeGreaterThanOrEqual(400);
    expect(res.statusCode).toBeLessThan(500);
    expect(upstream.received.length).toBe(before);
  }

  const notJson = fc.string({ unit: 'binary', maxLength: 200 }).filter((t) => {
    try {
      JSON.parse(t);
      return false;
    } catch {
      return true;
    }
  });
  const validText = JSON.stringify(VALID);
  const truncated = fc.integer({ min: 0, max: validText.length - 1 }).map((n) => validText.slice(0, n));
  const notAnObject = fc.jsonValue().filter((v) => v === null || typeof v !== 'object' || Array.isArray(v)).map((v) => JSON.stringify(v));
  const unknownKey = fc.string({ minLength: 1, maxLength: 40 }).filter((k) => !FIELDS.includes(k) && k !== '__proto__');
  const extraField = fc.tuple(unknownKey, fc.jsonValue({ maxDepth: 2 })).map(([k, v]) => JSON.stringify({ ...VALID, [k]: v }));
  const unknownModel = fc.string({ minLength: 1, maxLength: 128 }).filter((m) => m !== 'local').map((m) => JSON.stringify({ ...VALID, model: m }));
  const deep = fc.integer({ min: 100, max: 1500 }).map((n) => JSON.stringify({ ...VALID, messages: JSON.parse('['.repeat(n) + ']'.repeat(n)) as unknown }));
  const oversized = fc.integer({ min: BODY_LIMIT, max: 4 * BODY_LIMIT }).map((n) => JSON.stringify({ ...VALID, messages: [{ role: 'user', content: 'x'.repeat(n) }] }));
  const wrongMessage = fc
    .oneof(
      fc.record({ role: fc.string({ maxLength: 12 }).filter((r) => !['system', 'developer', 'user', 'assistant'].includes(r)), content: fc.string() }),
      fc.record({ role: fc.constant('user'), content: fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }))) }),
      fc.record({ role: fc.constant('user'), content: fc.array(fc.record({ type: fc.string({ maxLength: 10 }).filter((t) => t !== 'text'), text: fc.string() }), { minLength: 1, maxLength: 3 }) }),
    )
    .map((m) => JSON.stringify({ ...VALID, messages: [m] }));

  it('refuses random malformed bodies with a 4xx problem+json and sends nothing', async () => {
    const malformed = fc.oneof(notJson, truncated, notAnObject, extraField, unknownModel, deep, oversized, wrongMessage);
    await fc.assert(fc.asyncProperty(malformed, (payload) => expectRefusedInput(payload)), { numRuns: 300, seed: 4_242 });
    // Other media types than JSON.
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml']) {
      await expectRefusedInput(validText, type);
    }
  });

  it('answers any value in any known field with a 2xx or a clean refusal, never a 500', async () => {
    const mutated = fc
      .tuple(fc.constantFrom(...FIELDS), fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.string({ unit: 'binary' }), fc.double(), fc.integer({ min: -1e15, max: 1e15 })))
      .map(([field, value]) => JSON.stringify({ ...VALID, [field]: value }));
    await fc.assert(fc.asyncProperty(mutated, async (payload) => expectNoInternals(await post(payload))), { numRuns: 300, seed: 4_243 });
  });

  it('never echoes what the caller sent in a refusal: keys are data too', async () => {
    // A patient's name typed where a key belongs (metadata keys are free-form).
    for (const metadata of [{ 'Jessica Albright': 42 }, { 'Jessica Albright': 'x'.repeat(600) }, { ['Jessica Albright '.repeat(6)]: 'x' }]) {
      const res = await post(JSON.stringify({ ...VALID, metadata }));
      expectProblem(res, 400, 'request.invalid');
      expect(res.body).not.toContain('Albright');
    }
    const res = await post(JSON.stringify({ ...VALID, messages: [{ role: 'user', content: 'hi', 'Jessica Albright': 1 }] }));
    expectProblem(res, 400, 'request.invalid');
    expect(res.body).not.toContain('Albright');
    // A name typed where the model id belongs is the caller's text: refused, and not audited verbatim.
    for (const model of ['Jessica.Albright', 'Jessica Albright']) {
      const unknown = await post(JSON.stringify({ ...VALID, model }));
      expectNoInternals(unknown);
      expect(unknown.statusCode).toBeGreaterThanOrEqual(400);
      expect(unknown.body).not.toContain('Albright');
    }
    expect(await everythingWritten(hw)).not.toContain('Albright');
  });
});
