import { describe, expect, it } from 'vitest';
import { ChatGateway } from './chat-gateway.js';
import type { ChatCaller } from './chat-gateway.js';
import { RateLimits } from './rate-limits.js';
import { ModelRegistry } from '../models/model-registry.js';
import { modelConfigSchema } from '../config/models-config.js';
import type { ChatRequest, ChatStreamEvent, ModelAdapter } from '../models/model-adapter.js';
import { JsonOutputGuard } from '../guards/json-output-guard.js';
import { loadDictionaries } from '../deid/load-dictionaries.js';
import { systemClock } from '../shared/clock.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { AuditEntryInput } from '../audit/audit-entry.js';

const dictionaries = loadDictionaries();

function streamingAdapter(deltas: string[], opts: { endEvent?: boolean } = {}): ModelAdapter {
  return {
    kind: 'openai-compatible',
    complete: () => Promise.resolve({ text: deltas.join(''), finishReason: 'stop', usage: { promptTokens: 5, completionTokens: 500 } }),
    async *stream(_r: ChatRequest, signal: AbortSignal): AsyncGenerator<ChatStreamEvent> {
      for (const d of deltas) {
        if (signal.aborted) throw new Error('aborted');
        yield { type: 'delta', text: d };
      }
      if (opts.endEvent !== false) yield { type: 'end', finishReason: 'stop', usage: { promptTokens: 5, completionTokens: 500 } };
    },
    close: () => Promise.resolve(),
  };
}

async function gatewayWith(adapter: ModelAdapter, owners: Record<string, string[]> = {}, extra: { tokensPerDay?: number; timeoutMs?: number } = {}) {
  const entries: AuditEntryInput[] = [];
  const audit = { append: (e: AuditEntryInput) => { entries.push(e); return Promise.resolve(); } } as unknown as AuditLog;
  const registry = await ModelRegistry.open([modelConfigSchema.parse({ id: 'm', adapter: 'openai-compatible', endpoint: 'http://127.0.0.1:9/v1', zone: 'on-prem', limits: { concurrency: 1, queue: 0, timeoutMs: extra.timeoutMs ?? 300 } })], () => Promise.resolve(adapter));
  const gateway = new ChatGateway({
    registry, audit, clock: systemClock, dictionaries, jsonGuard: new JsonOutputGuard(),
    rateLimits: new RateLimits({ requestsPerMinute: 0, modelRequestsPerMinute: 0, tokensPerDay: extra.tokensPerDay ?? 0, clock: systemClock }),
    identifierOwners: (cs) => Promise.resolve(new Map(cs.map((c) => [c.value, owners[c.value] ?? []]))),
    hashText: (t) => t.length.toString(16).padStart(64, '0'),
    settings: { externalPhi: 'deidentify', reidentifyExternal: true },
  });
  return { gateway, registry, entries };
}

const caller = (signal: AbortSignal = new AbortController().signal, patient?: string): ChatCaller => ({
  who: { id: 'svc-1', kind: 'service', roles: [] } as unknown as ChatCaller['who'],
  obligations: { deidentify: false, humanReview: false },
  auditFields: { purpose: 'TREAT', ...(patient ? { patient } : {}) },
  context: {} as ChatCaller['context'],
  signal,
});
const call = { model: 'm', request: { messages: [{ role: 'user' as const, content: 'Summarize' }] } };

describe('review: gateway', () => {
  it('E6 a consumer that stops pulling (back-pressured socket) holds the slot past the timeout, unaudited', async () => {
    const words = Array.from({ length: 200 }, (_, i) => `word${i} `);
    const { gateway, registry, entries } = await gatewayWith(streamingAdapter(words));
    const it1 = gateway.stream(call, caller());
    const got: string[] = [];
    for (let i = 0; i < 3; i += 1) { const n = await it1.next(); got.push(JSON.stringify(n.value)); }
    await new Promise((r) => setTimeout(r, 1000)); // 3x the 300 ms timeout
    const m = registry.get('m')!;
    console.log('E6 load after timeout:', m.slots.load, 'audit entries:', entries.length);
    // Second caller is refused busy (queue 0) while the first is parked
    const second = await gateway.complete(call, caller()).catch((e: { code: string }) => e.code);
    console.log('E6 second call:', typeof second === 'string' ? second : 'ok');
    expect(m.slots.load.inFlight).toBe(1);
    await it1.return(undefined);
  });

  it('E7 holdback releases the first digits of a whitespace-separated identifier before the guard sees it whole', async () => {
    const filler = 'x '.repeat(40);
    const deltas = ['The ', 'other ', "patient's ", 'SSN ', 'is ', '123 ', '45 ', '6789 ', ...filler.split(/(?<= )/)];
    const { gateway } = await gatewayWith(streamingAdapter(deltas), { '123-45-6789': ['bob'] });
    let released = '';
    let err = '';
    try {
      for await (const p of gateway.stream(call, caller(undefined, 'alice'))) if (p.type === 'delta') released += p.text;
    } catch (e) { err = (e as { code: string }).code; }
    console.log('E7 released before block:', JSON.stringify(released), 'error:', err);
  });

  it('E7b same identifier with hyphen split by the model as separate tokens', async () => {
    const filler = 'x '.repeat(40);
    const deltas = ['SSN ', '123-', '45-', '6789', ' ', ...filler.split(/(?<= )/)];
    const { gateway } = await gatewayWith(streamingAdapter(deltas), { '123-45-6789': ['bob'] });
    let released = ''; let err = '';
    try { for await (const p of gateway.stream(call, caller(undefined, 'alice'))) if (p.type === 'delta') released += p.text; } catch (e) { err = (e as { code: string }).code; }
    console.log('E7b released:', JSON.stringify(released), 'error:', err);
  });

  it('E9 streamed calls that end without `end` (cancelled/blocked) never count tokens against the daily quota', async () => {
    const words = Array.from({ length: 100 }, (_, i) => `w${i} `);
    const { gateway, entries } = await gatewayWith(streamingAdapter(words), {}, { tokensPerDay: 10 });
    for (let round = 0; round < 5; round += 1) {
      const g = gateway.stream(call, caller());
      let n = 0;
      for await (const p of g) { if (p.type === 'delta' && ++n > 20) break; } // client leaves before `end`
    }
    console.log('E9 audit outcomes:', entries.map((e) => `${e.outcome}/${e.reason ?? ''}/${String(e.details?.completionTokens)}`).join(' '));
    // a full non-stream call would exhaust the quota at once:
    await gateway.complete(call, caller());
    const after = await gateway.complete(call, caller()).then(() => 'ok', (e: { code: string }) => e.code);
    console.log('E9 after one complete call:', after);
  });
});
