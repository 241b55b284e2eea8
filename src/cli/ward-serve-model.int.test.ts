/**
 * The embedded default model through the real binary (issue 6): `ward init`, an API key from
 * `ward api-keys create`, then `ward serve` with `WARD_EMBEDDED_MODEL` pointing at the test
 * GGUF file (settings from ward.json's `embeddedModel`). `GET /v1/models` lists it as on-prem;
 * a chat call answers; a JSON-schema call answers JSON that satisfies the schema. A missing or
 * unreadable model file stops the start with one line and a non-zero exit. SQLite only: this
 * is about the model path, not storage. The test model writes nonsense: plumbing, not quality.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { runWard } from './testing/run-ward.js';
import type { RunResult } from './testing/run-ward.js';
import { serveWard } from './testing/serve-ward.js';
import type { ServedWard } from './testing/serve-ward.js';
import { TEST_MODEL_PATH } from '../models/testing/test-model.js';

const STACK_LINE = /^\s{4}at /m;
const PROMPT_CANARY = 'Quintrell';

const temps: string[] = [];
const servers = new Set<ServedWard>();
afterEach(async () => {
  for (const s of servers) await s.stop();
  servers.clear();
});
afterAll(() => {
  for (const d of temps) rmSync(d, { recursive: true, force: true });
});

function expectOk(r: RunResult): string {
  expect(r.code, `stdout: ${r.stdout}\nstderr: ${r.stderr}`).toBe(0);
  return r.stdout;
}

/** A fresh data directory with ward.json's embeddedModel settings, and an integration key. */
async function initialized(embeddedModel: Record<string, unknown> | undefined): Promise<{ data: string; key: string }> {
  const root = mkdtempSync(join(tmpdir(), 'ward-serve-model-'));
  temps.push(root);
  const data = join(root, 'ward-data');
  expectOk(await runWard(['init', '--data', data]));
  if (embeddedModel !== undefined) {
    const file = join(data, 'ward.json');
    const existing = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>) : {};
    writeFileSync(file, JSON.stringify({ ...existing, embeddedModel }, null, 2));
  }
  const issued = expectOk(await runWard(['api-keys', 'create', '--data', data, '--service', 'intake-app', '--role', 'integration', '--scope', 'model.chat', 'model.list']));
  const key = /\bkey: (wak_\S+)\n/.exec(issued)?.[1];
  expect(key).toBeDefined();
  return { data, key: key ?? '' };
}

interface Completion {
  model: string;
  choices: Array<{ message: { role: string; content: string }; finish_reason: string }>;
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
}

describe('ward serve with the embedded model', () => {
  it('lists the embedded model as on-prem and answers chat and JSON-schema calls', async () => {
    const { data, key } = await initialized({ path: 'set-by-the-environment.gguf', threads: 1, contextTokens: 512, maxTokens: 64 });
    const server = await serveWard(data, { env: { WARD_EMBEDDED_MODEL: TEST_MODEL_PATH }, timeoutMs: 60_000 });
    servers.add(server);
    const auth = { authorization: `Bearer ${key}` };

    const listed = await fetch(`${server.url}/v1/models`, { headers: auth });
    expect(listed.status).toBe(200);
    const list = (await listed.json()) as { data: Array<{ id: string; ward: { zone: string; adapter: string; limits: { context_tokens: number; max_tokens: number } } }> };
    expect(list.data).toHaveLength(1);
    expect(list.data[0]).toMatchObject({ id: 'embedded', ward: { zone: 'on-prem', adapter: 'embedded', limits: { context_tokens: 512, max_tokens: 64 } } });

    const post = (body: Record<string, unknown>): Promise<Response> =>
      fetch(`${server.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { ...auth, 'x-purpose-of-use': 'TREAT', 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'embedded', ...body }),
      });

    const plain = await post({ messages: [{ role: 'user', content: `Once upon a time ${PROMPT_CANARY} found a` }], max_tokens: 24 });
    expect(plain.status).toBe(200);
    expect(plain.headers.get('x-ward-model-zone')).toBe('on-prem');
    const answer = (await plain.json()) as Completion;
    expect(answer.model).toBe('embedded');
    expect(answer.choices[0]?.message.role).toBe('assistant');
    expect(answer.choices[0]?.message.content.trim().length).toBeGreaterThan(0);
    expect(answer.usage.completion_tokens).toBeGreaterThan(0);
    expect(answer.usage.completion_tokens).toBeLessThanOrEqual(24);

    const schema = { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] };
    const structured = await post({ messages: [{ role: 'user', content: 'Give the name of the little bird.' }], max_tokens: 48, response_format: { type: 'json_schema', json_schema: { name: 'person', schema } } });
    expect(structured.status, await structured.clone().text()).toBe(200);
    const content = ((await structured.json()) as Completion).choices[0]?.message.content ?? '';
    const parsed = JSON.parse(content) as { name?: unknown };
    expect(typeof parsed.name).toBe('string');

    // Above the configured cap: refused before the model runs.
    const tooMany = await post({ messages: [{ role: 'user', content: 'hi' }], max_tokens: 65 });
    expect(tooMany.status).toBe(400);

    const stopped = await server.stop();
    servers.delete(server);
    expect(stopped.code).toBe(0);
    expect(server.stderr()).not.toContain(PROMPT_CANARY);
    const db = new Database(join(data, 'ward.db'), { readonly: true });
    try {
      const bodies = db.prepare("select body from audit_entry where action = 'model.chat' order by seq").all() as Array<{ body: string }>;
      const entries = bodies.map((b) => JSON.parse(b.body) as { outcome: string; details: Record<string, unknown> });
      expect(entries.map((e) => [e.outcome, e.details['zone'], e.details['model']])).toEqual([
        ['success', 'on-prem', 'embedded'],
        ['success', 'on-prem', 'embedded'],
        ['error', 'on-prem', 'embedded'],
      ]);
      expect(bodies.map((b) => b.body).join('\n')).not.toContain(PROMPT_CANARY);
    } finally {
      db.close();
    }
    expectOk(await runWard(['audit', 'verify', '--data', data]));
  }, 120_000);

  it('refuses to start with a missing or unreadable model file: one line, non-zero exit', async () => {
    const { data } = await initialized(undefined);
    const notGguf = join(data, 'not-a-model.gguf');
    writeFileSync(notGguf, 'this is not a GGUF file\n');
    for (const path of [join(data, 'missing.gguf'), notGguf]) {
      const r = await runWard(['serve', '--data', data, '--port', '0'], { env: { WARD_EMBEDDED_MODEL: path }, timeoutMs: 60_000 });
      expect(r.code, r.stderr).not.toBe(0);
      expect(r.code).not.toBeNull();
      expect(r.stderr).not.toMatch(STACK_LINE);
      const lines = r.stderr.split('\n').filter((l) => l.trim().length > 0);
      expect(lines, r.stderr).toHaveLength(1);
      expect(lines[0]).toMatch(/^ward: .*\[model\.embedded_unavailable\]$/);
      expect(r.stderr).not.toMatch(/serving on/);
    }
  }, 120_000);
});
