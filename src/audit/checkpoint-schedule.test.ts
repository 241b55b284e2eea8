import { describe, expect, it } from 'vitest';
import { CheckpointSchedule } from './checkpoint-schedule.js';

describe('CheckpointSchedule', () => {
  it('is due every interval', () => {
    const s = new CheckpointSchedule(60_000, 50_000, 0);
    expect(s.due(59_999, 10)).toBe(false);
    expect(s.due(60_000, 10)).toBe(true);
    s.finished(true, 10);
    expect(s.due(61_000, 20)).toBe(false);
    expect(s.due(120_000, 20)).toBe(true);
  });

  it('is due sooner once enough entries were written since the last good checkpoint', () => {
    const s = new CheckpointSchedule(60_000, 1_000, 0);
    expect(s.due(1_000, 999)).toBe(false);
    expect(s.due(1_000, 1_000)).toBe(true);
    s.finished(true, 1_000);
    expect(s.due(2_000, 1_999)).toBe(false);
    expect(s.due(2_000, 2_000)).toBe(true);
  });

  it('never starts a second checkpoint while one is running', () => {
    const s = new CheckpointSchedule(1_000, 10, 0);
    expect(s.due(5_000, 100)).toBe(true);
    expect(s.due(9_000, 500)).toBe(false);
    s.finished(false, 100);
    // A failed checkpoint does not count: the entries since the last good one are still unsigned.
    expect(s.due(9_001, 100)).toBe(true);
  });
});
