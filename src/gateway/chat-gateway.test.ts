/**
 * The gateway pipeline with an in-memory adapter and audit sink: the streaming guard, slots,
 * quotas and the output guard's normalization, where HTTP would only blur what is tested.
 */
import { describe, expect, it } from 'vitest';
import { ChatGateway } from './chat-gateway.js';
import type { ChatCaller } from './chat-gateway.js';
import { RateLimits } from './rate-limits.js';
import { ModelRegistry } from '../models/model-registry.js';
import { modelConfigSchema } from '../config/models-config.js';
import type { ChatStreamEvent, ModelAdapter } from '../models/model-adapter.js';
import { JsonOutputGuard } from '../guards/json-output-guard.js';
import { testDictionaries } from '../deid/testing/detect-text.js';
import { fixedClock } from '../shared/clock.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { AuditEntryInput } from '../audit/audit-entry.js';
import { WardError } from '../shared/ward-error.js';

function adapterOf(deltas: readonly string[]): ModelAdapter {
  return {
    kind: 'openai-compatible',
    complete: () => Promise.resolve({ text: deltas.join(''), finishReason: 'stop', usage: { promptTokens: 5, completionTokens: 50 } }),
    async *stream(_request, signal): AsyncGenerator<ChatStreamEvent> {
      for (const d of deltas) {
        if (signal.aborted) throw new Error('aborted');
        yield { type: 'delta', text: d };
      }
      yield { type: 'end', finishReason: 'stop', usage: { promptTokens: 5, completionTokens: 50 } };
    },
    close: () => Promise.resolve(),
  };
}

async function gatewayWith(deltas: readonly string[], options: { owners?: Record<string, string[]>; tokensPerDay?: number; timeoutMs?: number; auditFails?: boolean; lookups?: string[] } = {}) {
  const entries: AuditEntryInput[] = [];
  const audit = {
    append: (e: AuditEntryInput) => {
      if (options.auditFails === true) return Promise.reject(new WardError('audit.write_failed', 'the audit log could not be written', { status: 503 }));
      entries.push(e);
      return Promise.resolve({ seq: entries.length, chainHash: '' });
    },
  } as unknown as AuditLog;
  const clock = fixedClock(new Date('2026-11-29T10:00:00Z'));
  const registry = await ModelRegistry.open(
    [modelConfigSchema.parse({ id: 'm', adapter: 'openai-compatible', endpoint: 'http://127.0.0.1:9/v1', zone: 'on-prem', limits: { concurrency: 1, queue: 0, timeoutMs: options.timeoutMs ?? 60_000 } })],
    () => Promise.resolve(adapterOf(deltas)),
  );
  const gateway = new ChatGateway({
    registry, audit, clock, dictionaries: testDictionaries(), jsonGuard: new JsonOutputGuard(),
    rateLimits: new RateLimits({ requestsPerMinute: 0, modelRequestsPerMinute: 0, tokensPerDay: options.tokensPerDay ?? 0, clock }),
    identifierOwners: (cs) => {
      options.lookups?.push(...cs.map((c) => c.value));
      return Promise.resolve(new Map(cs.map((c) => [c.value, options.owners?.[c.value] ?? []])));
    },
    hashText: (t) => t.length.toString(16).padStart(64, '0'),
    settings: { externalPhi: 'deidentify', reidentifyExternal: true },
  });
  return { gateway, registry, entries };
}

const caller = (patient?: string, signal: AbortSignal = new AbortController().signal): ChatCaller => ({
  who: { id: 'svc-1', kind: 'service' },
  obligations: { deidentify: false, humanReview: false },
  auditFields: { purpose: 'TREAT', ...(patient !== undefined ? { patient } : {}) },
  context: {},
  signal,
});
const call = { model: 'm', request: { messages: [{ role: 'user' as const, content: 'Summarize the visit.' }] } };
const words = (n: number): string[] => Array.from({ length: n }, (_, i) => `word${i} `);

describe('ChatGateway', () => {
  it('never releases part of an identifier whose digit groups arrive as separate words', async () => {
    const deltas = ['The ', 'other ', "patient's ", 'SSN ', 'is ', '123 ', '45 ', '6789 ', ...words(40)];
    const { gateway, entries } = await gatewayWith(deltas, { owners: { '123-45-6789': ['bob'] } });
    let released = '';
    await expect((async () => {
      for await (const p of gateway.stream(call, caller('alice'))) if (p.type === 'delta') released += p.text;
    })()).rejects.toMatchObject({ code: 'guard.out_of_scope_patient' });
    expect(released).not.toMatch(/123|45 |6789/);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ outcome: 'denied', reason: 'guard.out_of_scope_patient' });
  });

  it('sees an identifier hidden with zero-width or fullwidth characters', async () => {
    for (const ssn of ['123\u200B-45-6789', '１２３-４５-６７８９', '123\u00AD-45\u00AD-6789']) {
      const { gateway } = await gatewayWith([`Her SSN is ${ssn}.`], { owners: { '123-45-6789': ['bob'] } });
      await expect(gateway.complete(call, caller('alice'))).rejects.toMatchObject({ code: 'guard.out_of_scope_patient' });
    }
  });

  it('gives the slot back at the timeout even when the consumer stopped reading', async () => {
    const { gateway, registry } = await gatewayWith(words(200), { timeoutMs: 200 });
    const stream = gateway.stream(call, caller());
    for (let i = 0; i < 3; i += 1) await stream.next();
    await new Promise((r) => setTimeout(r, 600));
    expect(registry.get('m')!.slots.load.inFlight).toBe(0);
    await expect(gateway.complete(call, caller())).resolves.toMatchObject({ finishReason: 'stop' });
    await stream.return(undefined);
  });

  it('counts a dropped stream against the daily token quota, and audits it as cancelled and partial', async () => {
    const { gateway, entries } = await gatewayWith(words(400), { tokensPerDay: 60 });
    for (let round = 0; round < 3; round += 1) {
      const stream = gateway.stream(call, caller());
      for (let i = 0; i < 3; i += 1) await stream.next();
      await stream.return(undefined);
    }
    expect(entries.map((e) => [e.outcome, e.reason, e.details?.partial])).toEqual([['error', 'model.cancelled', true], ['error', 'model.cancelled', true], ['error', 'model.cancelled', true]]);
    await expect(gateway.complete(call, caller())).rejects.toMatchObject({ code: 'gateway.quota_exhausted', status: 429 });
  });

  it('audits an unknown model without the caller\'s text', async () => {
    const { gateway, entries } = await gatewayWith(['ok']);
    await expect(gateway.complete({ ...call, model: 'Jessica.Albright' }, caller())).rejects.toMatchObject({ code: 'model.unknown', status: 404 });
    expect(JSON.stringify(entries)).not.toContain('Albright');
    expect(entries[0]).toMatchObject({ outcome: 'error', reason: 'model.unknown', resource: { type: 'Model', id: 'unknown' } });
  });

  it('ends a stream only once its audit entry is durable: a failed append ends it with the error, never the end event', async () => {
    const { gateway } = await gatewayWith(words(30), { auditFails: true });
    const kinds: string[] = [];
    await expect((async () => {
      for await (const p of gateway.stream(call, caller())) kinds.push(p.type);
    })()).rejects.toMatchObject({ code: 'audit.write_failed' });
    expect(kinds).toContain('delta');
    expect(kinds).not.toContain('end');
  });

  it('looks an identifier of a streamed answer up once and counts it once, though it is judged in overlapping windows', async () => {
    const lookups: string[] = [];
    const { gateway, entries } = await gatewayWith(['Her ', 'SSN ', 'is ', '123-45-6789. ', ...words(60)], { lookups });
    for await (const _piece of gateway.stream(call, caller('alice'))) { /* drain */ }
    expect(lookups.filter((v) => v === '123-45-6789')).toHaveLength(1);
    expect(entries[0]).toMatchObject({ outcome: 'success', details: { unresolvedIds: 1 } });
  });
});
