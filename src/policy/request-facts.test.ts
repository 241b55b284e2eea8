import { describe, expect, it } from 'vitest';
import { isBefore } from './request-facts.js';

describe('isBefore (grant expiry without a clock)', () => {
  it.each([
    ['2026-11-29T10:00:00.000Z', '2026-11-29T14:00:00.000Z', true],
    ['2026-11-29T14:00:00.000Z', '2026-11-29T10:00:00.000Z', false],
    ['2026-11-29T10:00:00.000Z', '2026-11-29T10:00:00.000Z', false],
    ['2026-11-29T09:59:59.999Z', '2026-11-29T10:00:00.000Z', true],
    // Other shapes are parsed, so offsets count.
    ['2026-11-29T10:00:00.000Z', '2026-11-29T11:00:00+02:00', false],
    ['2026-11-29T10:00:00.000Z', '2026-11-29T07:00:00-04:00', true],
    ['2026-11-29T10:00:00Z', '2026-11-29T10:00:00.001Z', true],
    // Unreadable times never compare as earlier (fail closed).
    ['2026-11-29T10:00:00.000Z', 'tomorrow', false],
    ['now', '2026-11-29T10:00:00.000Z', false],
    ['2026-11-29T10:00:00.000Z', '2026-19-29T10:00:00.000Z', false],
  ])('%s < %s: %s', (a, b, expected) => {
    expect(isBefore(a, b)).toBe(expected);
  });
  it('agrees with Date.parse on canonical instants', () => {
    const times = [0, 1, 999, 1000, 59_999, 3_600_000, 86_399_999, 1_800_000_000_000].map((ms) => new Date(Date.UTC(2026, 0, 1) + ms).toISOString());
    for (const a of times) for (const b of times) expect(isBefore(a, b), `${a} ${b}`).toBe(Date.parse(a) < Date.parse(b));
  });
});
