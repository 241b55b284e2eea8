/**
 * The verification worker pool when workers fail: a task on a worker that dies is rejected
 * with `audit.verify_failed` (not a crash of the process, not a hang), and a pool whose
 * workers are all dead rejects every later task.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { workerRunner } from './chunk-runners.js';
import type { ChunkRunner } from './chunk-runners.js';
import type { ChunkTask } from './verify-chunk.js';

const TASK: ChunkTask = { start: 0, end: 10, prevChain: '00'.repeat(32), snapshotSizes: [] };

describe('workerRunner', () => {
  let runner: ChunkRunner | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await runner?.close();
    runner = undefined;
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('rejects tasks with audit.verify_failed when its workers cannot start, and keeps rejecting once all are dead', async () => {
    dir = mkdtempSync(join(tmpdir(), 'ward-runner-'));
    // Each worker opens this file at start-up and fails: it does not exist.
    runner = workerRunner({ kind: 'sqlite', file: join(dir, 'missing.db') }, 2);
    const first = await Promise.allSettled([runner.run(TASK), runner.run(TASK), runner.run(TASK)]);
    for (const r of first) {
      expect(r.status).toBe('rejected');
      expect((r as PromiseRejectedResult).reason).toMatchObject({ name: 'WardError', code: 'audit.verify_failed' });
    }
    await expect(runner.run(TASK)).rejects.toMatchObject({ code: 'audit.verify_failed' });
  }, 30_000);
});
