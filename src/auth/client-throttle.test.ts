/** The per-client failure budget: a sliding window, per-client counts, IPv6 /64 grouping, bounded memory. */
import { describe, expect, it } from 'vitest';
import { fixedClock } from '../shared/clock.js';
import { ClientThrottle, clientKeyOf } from './client-throttle.js';

const WINDOW = 10 * 60_000;

describe('ClientThrottle', () => {
  it('limits a client after 30 failures in 10 minutes, until the oldest leaves the window', () => {
    const clock = fixedClock(new Date('2026-03-01T09:00:00.000Z'));
    const t = new ClientThrottle(clock);
    for (let i = 0; i < 30; i++) {
      expect(t.check('198.51.100.1')).toEqual({ limited: false });
      t.recordFailure('198.51.100.1');
      clock.advance(1000);
    }
    // 30 failures, the first 30 s ago: it leaves the window in 9.5 minutes.
    expect(t.check('198.51.100.1')).toEqual({ limited: true, retryAfterSeconds: 570 });
    expect(t.check('198.51.100.2')).toEqual({ limited: false });
    clock.advance(570_000 - 1);
    expect(t.check('198.51.100.1')).toMatchObject({ limited: true, retryAfterSeconds: 1 });
    clock.advance(1);
    // Sliding: one failure left the window, so one more attempt is allowed, and then no more.
    expect(t.check('198.51.100.1')).toEqual({ limited: false });
    t.recordFailure('198.51.100.1');
    expect(t.check('198.51.100.1')).toMatchObject({ limited: true });
  });

  it('forgets a client entirely once all its failures are old', () => {
    const clock = fixedClock(new Date('2026-03-01T09:00:00.000Z'));
    const t = new ClientThrottle(clock, { maxFailures: 2 });
    t.recordFailure('198.51.100.1');
    t.recordFailure('198.51.100.1');
    expect(t.check('198.51.100.1')).toEqual({ limited: true, retryAfterSeconds: 600 });
    clock.advance(WINDOW);
    expect(t.check('198.51.100.1')).toEqual({ limited: false });
    expect(t.size).toBe(0);
  });

  it('does not limit callers without an address (the console)', () => {
    const t = new ClientThrottle(fixedClock(new Date(0)), { maxFailures: 1 });
    t.recordFailure(undefined);
    t.recordFailure(undefined);
    expect(t.check(undefined)).toEqual({ limited: false });
    expect(t.size).toBe(0);
  });

  it('keeps at most maxClients, forgetting the least recently failing first', () => {
    const clock = fixedClock(new Date('2026-03-01T09:00:00.000Z'));
    const t = new ClientThrottle(clock, { maxFailures: 1, maxClients: 3 });
    for (const c of ['10.0.0.1', '10.0.0.2', '10.0.0.3']) t.recordFailure(c);
    // 10.0.0.1 fails again: now 10.0.0.2 is the least recent.
    t.recordFailure('10.0.0.1');
    t.recordFailure('10.0.0.4');
    expect(t.size).toBe(3);
    expect(t.check('10.0.0.2')).toEqual({ limited: false });
    for (const c of ['10.0.0.1', '10.0.0.3', '10.0.0.4']) expect(t.check(c)).toMatchObject({ limited: true });
    for (let i = 0; i < 10_000; i++) t.recordFailure(`10.1.${i >> 8}.${i & 255}`);
    expect(t.size).toBe(3);
  });

  it('counts IPv6 clients per /64 and IPv4-mapped addresses as IPv4', () => {
    expect(clientKeyOf('2001:db8:1:2::1')).toBe('2001:db8:1:2::/64');
    expect(clientKeyOf('2001:0DB8:0001:0002:ffff:0:0:9')).toBe('2001:db8:1:2::/64');
    expect(clientKeyOf('2001:db8:1:3::1')).toBe('2001:db8:1:3::/64');
    expect(clientKeyOf('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(clientKeyOf('::1')).toBe('0:0:0:0::/64');
    expect(clientKeyOf('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(clientKeyOf('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(clientKeyOf('192.0.2.1')).toBe('192.0.2.1');
    const clock = fixedClock(new Date(0));
    const t = new ClientThrottle(clock, { maxFailures: 2 });
    t.recordFailure('2001:db8:1:2::1');
    t.recordFailure('2001:db8:1:2::2');
    expect(t.check('2001:db8:1:2:abcd::3')).toMatchObject({ limited: true });
    expect(t.check('2001:db8:1:3::1')).toEqual({ limited: false });
  });

  it('refuses nonsense settings', () => {
    const clock = fixedClock(new Date(0));
    expect(() => new ClientThrottle(clock, { maxFailures: 0 })).toThrow(expect.objectContaining({ code: 'config.invalid' }));
    expect(() => new ClientThrottle(clock, { windowMinutes: 0 })).toThrow(expect.objectContaining({ code: 'config.invalid' }));
    expect(() => new ClientThrottle(clock, { maxClients: 0 })).toThrow(expect.objectContaining({ code: 'config.invalid' }));
  });
});
