/** Gateway limits with a fixed clock: exact thresholds, recovery, per-model sharing, the UTC-day quota, bounds. */
import { describe, expect, it } from 'vitest';
import { RateLimits, type RateLimitsOptions } from './rate-limits.js';
import { fixedClock } from '../shared/clock.js';
import { WardError } from '../shared/ward-error.js';

const START = new Date('2025-06-01T12:00:00.000Z');

function limits(overrides: Partial<Omit<RateLimitsOptions, 'clock'>> = {}): { rl: RateLimits; clock: ReturnType<typeof fixedClock> } {
  const clock = fixedClock(START);
  const rl = new RateLimits({ requestsPerMinute: 0, modelRequestsPerMinute: 0, tokensPerDay: 0, clock, ...overrides });
  return { rl, clock };
}

function admitN(rl: RateLimits, n: number, identity = 'key-1', model = 'm'): boolean[] {
  return Array.from({ length: n }, () => rl.admit(identity, model).ok);
}

describe('RateLimits per identity', () => {
  it('admits exactly N in a minute, then refuses with a retry time', () => {
    const { rl } = limits({ requestsPerMinute: 3 });
    expect(admitN(rl, 3)).toEqual([true, true, true]);
    expect(rl.admit('key-1', 'm')).toEqual({ ok: false, code: 'gateway.rate_limited', retryAfterSeconds: 20 });
    // Another identity is not affected.
    expect(rl.admit('key-2', 'm')).toEqual({ ok: true });
  });

  it('recovers as the bucket refills and fully after the window', () => {
    const { rl, clock } = limits({ requestsPerMinute: 3 });
    admitN(rl, 3);
    clock.advance(19_999);
    expect(rl.admit('key-1', 'm').ok).toBe(false);
    clock.advance(1);
    expect(admitN(rl, 2)).toEqual([true, false]);
    clock.advance(60_000);
    expect(admitN(rl, 4)).toEqual([true, true, true, false]);
  });

  it('does not count refused requests', () => {
    const { rl, clock } = limits({ requestsPerMinute: 1 });
    expect(admitN(rl, 5)).toEqual([true, false, false, false, false]);
    clock.advance(60_000);
    expect(rl.admit('key-1', 'm').ok).toBe(true);
  });
});

describe('RateLimits per model', () => {
  it('shares one budget across identities', () => {
    const { rl, clock } = limits({ modelRequestsPerMinute: 2 });
    expect(rl.admit('a', 'llama').ok).toBe(true);
    expect(rl.admit('b', 'llama').ok).toBe(true);
    expect(rl.admit('c', 'llama')).toEqual({ ok: false, code: 'gateway.rate_limited', retryAfterSeconds: 30 });
    expect(rl.admit('c', 'other-model').ok).toBe(true);
    clock.advance(30_000);
    expect(rl.admit('c', 'llama').ok).toBe(true);
  });

  it('a request refused by the model limit does not spend the identity budget (and the reverse)', () => {
    const { rl, clock } = limits({ requestsPerMinute: 2, modelRequestsPerMinute: 1 });
    expect(rl.admit('a', 'm').ok).toBe(true);
    expect(rl.admit('a', 'm').ok).toBe(false); // model empty
    expect(rl.admit('a', 'n').ok).toBe(true); // identity still had one
    expect(rl.admit('a', 'o').ok).toBe(false); // identity empty
    clock.advance(60_000);
    expect(rl.admit('b', 'o').ok).toBe(true); // model o was not spent by the refused call
  });
});

describe('RateLimits daily token quota', () => {
  it('refuses once the quota is used, until UTC midnight', () => {
    const { rl, clock } = limits({ tokensPerDay: 1000 });
    expect(rl.admit('a', 'm').ok).toBe(true);
    rl.recordTokens('a', 999);
    expect(rl.admit('a', 'm').ok).toBe(true);
    rl.recordTokens('a', 1);
    // 12:00 UTC -> 12 hours to midnight.
    expect(rl.admit('a', 'm')).toEqual({ ok: false, code: 'gateway.quota_exhausted', retryAfterSeconds: 12 * 3600 });
    expect(rl.admit('b', 'm').ok).toBe(true);
    clock.set(new Date('2025-06-01T23:59:59.500Z'));
    expect(rl.admit('a', 'm')).toEqual({ ok: false, code: 'gateway.quota_exhausted', retryAfterSeconds: 1 });
    clock.set(new Date('2025-06-02T00:00:00.000Z'));
    expect(rl.admit('a', 'm').ok).toBe(true);
  });

  it('ignores nonsense token counts and rounds fractions up', () => {
    const { rl } = limits({ tokensPerDay: 2 });
    rl.recordTokens('a', -5);
    rl.recordTokens('a', Number.NaN);
    expect(rl.admit('a', 'm').ok).toBe(true);
    rl.recordTokens('a', 1.2);
    expect(rl.admit('a', 'm').ok).toBe(false);
  });
});

describe('RateLimits bounds and switches', () => {
  it('0 disables every limit and tracks nothing', () => {
    const { rl } = limits();
    expect(admitN(rl, 1000).every(Boolean)).toBe(true);
    rl.recordTokens('key-1', 1e9);
    expect(rl.admit('key-1', 'm').ok).toBe(true);
    expect(rl.size).toBe(0);
  });

  it('tracks at most maxIdentities, forgetting the least recently used first', () => {
    const { rl } = limits({ requestsPerMinute: 1, maxIdentities: 3 });
    for (const id of ['a', 'b', 'c']) expect(rl.admit(id, 'm').ok).toBe(true);
    expect(rl.admit('a', 'm').ok).toBe(false); // touches a: b is now the oldest
    expect(rl.admit('d', 'm').ok).toBe(true); // evicts b
    expect(rl.size).toBe(3);
    expect(rl.admit('a', 'm').ok).toBe(false); // a was kept
    expect(rl.admit('c', 'm').ok).toBe(false); // c was kept (and is now recent)
    expect(rl.admit('b', 'm').ok).toBe(true); // b was forgotten
    for (let i = 0; i < 100; i++) rl.admit(`id-${i}`, 'm');
    expect(rl.size).toBe(3);
  });

  it('refuses a nonsensical configuration', () => {
    expect(() => limits({ requestsPerMinute: -1 })).toThrow(WardError);
    expect(() => limits({ tokensPerDay: 1.5 })).toThrow(WardError);
    expect(() => limits({ maxIdentities: 0 })).toThrow(WardError);
  });
});
