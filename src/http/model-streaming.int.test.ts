/**
 * Prove (issue 6): streaming over a real socket, on every database. A client that goes away
 * cancels the upstream call (the fake upstream sees its connection close before the answer is
 * complete), and the call is audited as cancelled, partial when text had already been sent. A
 * stream the output guard blocks mid-way (another patient's identifier) delivers the harmless
 * part, then an SSE `error` event and no `[DONE]`; the identifier never reaches the client.
 * A normal stream ends with `[DONE]`. `inject` cannot disconnect, so the server really listens
 * and the client is node:http. All data is synthetic (Synthea patients).
 */
import http from 'node:http';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { testDialects } from '../storage/testing/test-databases.js';
import type { TestDialect } from '../storage/testing/test-databases.js';
import { createHttpWorld, SYSTEM_ACTOR } from './testing/http-world.js';
import type { HttpWorld } from './testing/http-world.js';
import { audited, everythingWritten } from './testing/http-assertions.js';
import type { AuditBody } from './testing/http-assertions.js';
import { PURPOSE_HEADER } from './route-access.js';
import { PATIENT_HEADER } from './routes/model-routes.js';
import { startFakeOpenAiUpstream } from '../models/testing/fake-openai-upstream.js';
import type { FakeUpstream } from '../models/testing/fake-openai-upstream.js';
import { readImportSource } from '../records/import/read-import-source.js';
import { SYNTHEA_BULK } from '../records/testing/records-world.js';

const ALICE_LICENSE = 'S99978056'; // Synthea patient 7bc002fa-dc52-17d6-1563-fd8901826f7d
const BOB = 'ca15b832-01e4-41dd-6a52-97bd3e5510cb';
const CANARY_PROMPT = 'Summarize the visit of Jessica Albright, SSN 123-45-6789.';

/** Long enough that the stream is still running when the client leaves. */
const LONG_CHUNKS = Array.from({ length: 60 }, (_, i) => `Sentence ${i} of a long and harmless answer about opening hours. `);
const HARMLESS = ['The visit went well overall. ', 'Vitals were stable and ', 'the plan is unchanged for now. ', 'Follow up in two weeks. ', 'For the record, '];

/** Bounded wait for a promise (a guard against hanging, not a timing assertion). */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The model.chat audit entries, once there are `count` of them (polled, bounded). */
async function chatEntries(w: HttpWorld, count: number, ms = 20_000): Promise<AuditBody[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const entries = await audited(w, 'model.chat');
    if (entries.length >= count || Date.now() > deadline) return entries;
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface StreamClient {
  response: Promise<IncomingMessage>;
  /** Everything received so far. */
  text(): string;
  /** Resolves when the received text matches. */
  waitFor(pattern: RegExp): Promise<void>;
  /** Resolves when the response ends (or the socket closes). */
  ended: Promise<void>;
  /** Drop the connection, as a client that goes away does. */
  disconnect(): void;
}

function postStream(url: string, headers: Record<string, string>, body: unknown): StreamClient {
  let received = '';
  let waiters: { pattern: RegExp; resolve: () => void }[] = [];
  const check = (): void => {
    waiters = waiters.filter((w) => {
      if (!w.pattern.test(received)) return true;
      w.resolve();
      return false;
    });
  };
  let markEnded: () => void = () => undefined;
  const ended = new Promise<void>((resolve) => (markEnded = resolve));
  const payload = JSON.stringify(body);
  const req = http.request(new URL('/v1/chat/completions', url), {
    method: 'POST',
    agent: false,
    headers: { ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) },
  });
  const response = new Promise<IncomingMessage>((resolve, reject) => {
    req.on('response', (res) => {
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        received += d;
        check();
      });
      res.on('end', markEnded);
      res.on('close', markEnded);
      resolve(res);
    });
    req.on('error', (e) => {
      markEnded();
      reject(e);
    });
  });
  response.catch(() => undefined);
  req.on('close', markEnded);
  req.end(payload);
  return {
    response,
    text: () => received,
    waitFor(pattern) {
      return new Promise<void>((resolve) => {
        waiters.push({ pattern, resolve });
        check();
      });
    },
    ended,
    disconnect() {
      req.destroy();
    },
  };
}

interface SseEvent {
  data: string;
}

function sseEvents(text: string): SseEvent[] {
  return text
    .split('\n\n')
    .filter((block) => block.startsWith('data: '))
    .map((block) => ({ data: block.slice('data: '.length) }));
}

function contentOf(events: SseEvent[]): string {
  return events
    .filter((e) => e.data !== '[DONE]')
    .map((e) => JSON.parse(e.data) as { choices?: Array<{ delta?: { content?: string } }> })
    .map((c) => c.choices?.[0]?.delta?.content ?? '')
    .join('');
}

describe.each(testDialects())('model streaming over a real socket on $name', (dialect: TestDialect) => {
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

  async function serving(): Promise<{ w: HttpWorld; url: string; headers: (patient?: string) => Record<string, string> }> {
    const hw = await createHttpWorld(dialect, { models: [{ id: 'local', adapter: 'openai-compatible', endpoint: upstream.url, zone: 'on-prem' }] });
    w = hw;
    const { key } = await hw.serviceWithKey('intake-app', ['integration'], ['model.*']);
    const url = await hw.app.listen({ port: 0, host: '127.0.0.1' });
    const headers = (patient?: string): Record<string, string> => ({
      authorization: `Bearer ${key}`,
      [PURPOSE_HEADER]: 'TREAT',
      ...(patient !== undefined ? { [PATIENT_HEADER]: patient } : {}),
    });
    return { w: hw, url, headers };
  }

  const streamBody = (content: string): Record<string, unknown> => ({ model: 'local', stream: true, messages: [{ role: 'user', content }] });

  it('a client that goes away mid-stream cancels the upstream call; audited as cancelled and partial', async () => {
    const { w: hw, url, headers } = await serving();
    upstream.setBehaviour({ kind: 'stream', chunks: LONG_CHUNKS, delayMs: 100 });
    const before = upstream.disconnects;
    const client = postStream(url, headers(), streamBody(CANARY_PROMPT));
    const res = await within(client.response, 20_000, 'the response');
    expect(res.statusCode).toBe(200);
    expect(String(res.headers['content-type'])).toMatch(/^text\/event-stream/);
    await within(client.waitFor(/"content":"Sentence/), 20_000, 'the first text');
    client.disconnect();
    await within(upstream.waitForDisconnect(), 20_000, 'the upstream disconnect');
    expect(upstream.disconnects).toBeGreaterThan(before);
    const entries = await chatEntries(hw, 1);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ outcome: 'error', reason: 'model.cancelled', details: { stream: true, partial: true, model: 'local' } });
    // What the client saw was a prefix of the answer, without an end.
    expect(client.text()).not.toContain('[DONE]');
    expect(LONG_CHUNKS.join('').startsWith(contentOf(sseEvents(client.text())))).toBe(true);
    const written = await everythingWritten(hw);
    expect(written).not.toContain('Albright');
    expect(written).not.toContain('123-45-6789');
  });

  it('a client that goes away before any text cancels the upstream call too (not partial)', async () => {
    const { w: hw, url, headers } = await serving();
    upstream.setBehaviour({ kind: 'hang' });
    const before = upstream.received.length;
    const client = postStream(url, headers(), streamBody('When do you open?'));
    // Wait until the call has reached the upstream, then leave.
    const deadline = Date.now() + 20_000;
    while (upstream.received.length === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(upstream.received.length).toBe(before + 1);
    client.disconnect();
    await within(upstream.waitForDisconnect(), 20_000, 'the upstream disconnect');
    const entries = await chatEntries(hw, 1);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ outcome: 'error', reason: 'model.cancelled', details: { stream: true, partial: false } });
  });

  it('a stream the guard blocks mid-way sends the harmless part, then an error event, never the identifier and no [DONE]', async () => {
    const { w: hw, url, headers } = await serving();
    await hw.importer.import(readImportSource(join(SYNTHEA_BULK, 'Patient.000.ndjson.gz')), { atomic: false, who: SYSTEM_ACTOR });
    const chunks = [...HARMLESS, "her driver's license number is ", ALICE_LICENSE, ' and she ', 'asked about the bill.'];
    upstream.setBehaviour({ kind: 'stream', chunks, delayMs: 20 });
    const client = postStream(url, headers(BOB), streamBody('Summarize the visit.'));
    const res = await within(client.response, 20_000, 'the response');
    expect(res.statusCode).toBe(200);
    await within(client.ended, 20_000, 'the end of the response');
    const raw = client.text();
    expect(raw).not.toContain(ALICE_LICENSE);
    expect(raw).not.toContain('[DONE]');
    const events = sseEvents(raw);
    const last = JSON.parse(events.at(-1)!.data) as { error?: { code: string } };
    expect(last.error?.code).toBe('guard.out_of_scope_patient');
    const sent = contentOf(events.slice(0, -1));
    expect(sent.length).toBeGreaterThan(0);
    // A prefix of the answer that stops before the identifier.
    const answer = chunks.join('');
    expect(answer.slice(0, answer.indexOf(ALICE_LICENSE)).startsWith(sent), sent).toBe(true);
    const entries = await chatEntries(hw, 1);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ outcome: 'denied', reason: 'guard.out_of_scope_patient', patient: BOB, details: { stream: true, partial: true } });
    expect(await everythingWritten(hw)).not.toContain(ALICE_LICENSE);
  });

  it('a normal stream ends with [DONE] and is audited as a complete success', async () => {
    const { w: hw, url, headers } = await serving();
    upstream.setBehaviour({ kind: 'stream', chunks: LONG_CHUNKS.slice(0, 8), delayMs: 5 });
    const client = postStream(url, headers(), streamBody('When do you open?'));
    const res = await within(client.response, 20_000, 'the response');
    expect(res.statusCode).toBe(200);
    await within(client.ended, 20_000, 'the end of the response');
    const events = sseEvents(client.text());
    expect(events.at(-1)?.data).toBe('[DONE]');
    expect(contentOf(events)).toBe(LONG_CHUNKS.slice(0, 8).join(''));
    const entries = await chatEntries(hw, 1);
    expect(entries[0]).toMatchObject({ outcome: 'success', details: { stream: true, partial: false } });
  });
});
