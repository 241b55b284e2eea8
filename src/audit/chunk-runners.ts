/**
 * Where verification chunks run: in this thread (small logs, tests) or on worker threads,
 * one per core, each with its own database connection.
 */
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import type { ConnectionInfo } from '../storage/ward-database.js';
import { openAuditRowScanner } from '../storage/scan-audit-rows.js';
import type { AuditRowScanner } from '../storage/scan-audit-rows.js';
import { WardError } from '../shared/ward-error.js';
import { verifyChunk } from './verify-chunk.js';
import type { ChunkResult, ChunkTask } from './verify-chunk.js';

export interface ChunkRunner {
  parallelism: number;
  run(task: ChunkTask): Promise<ChunkResult>;
  chainHashAt(seq: number): Promise<string | undefined>;
  close(): Promise<void>;
}

export function inProcessRunner(connection: ConnectionInfo): ChunkRunner {
  const scanner = openAuditRowScanner(connection);
  return {
    parallelism: 1,
    run: (task) => verifyChunk(scanner.scan(task.start, task.end), task),
    chainHashAt: (seq) => scanner.chainHashAt(seq),
    close: () => scanner.close(),
  };
}

/**
 * Worker threads load the TypeScript sources through tsx's loader (registered inside the
 * thread, since loader hooks are not inherited), so this works the same under `ward`, tests
 * and benchmarks.
 *
 * A worker that fails (an `error` event, idle or busy) or exits is dead for good: its task,
 * if any, is rejected with `audit.verify_failed`, it is never handed out again, and once all
 * are dead every waiting and later task is rejected too. Without permanent listeners an idle
 * worker's error would crash the process and a task on a worker that exits would never settle.
 */
export function workerRunner(connection: ConnectionInfo, threads = Math.max(1, availableParallelism())): ChunkRunner {
  const entry = new URL('./verify-worker.ts', import.meta.url).href;
  const boot = `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`;
  const pool = Array.from({ length: threads }, () => poolWorker(new Worker(boot, { eval: true, workerData: connection })));
  const idle = [...pool];
  const waiting: { resolve: (w: PoolWorker) => void; reject: (e: WardError) => void }[] = [];
  let nextId = 0;
  let closing = false;
  // Opened on first use, so a failure to open it cannot leave the workers above running.
  let local: AuditRowScanner | undefined;
  const allDead = (): WardError => new WardError('audit.verify_failed', 'no verification worker is running');

  function poolWorker(thread: Worker): PoolWorker {
    const w: PoolWorker = { thread, dead: false };
    thread.on('message', (m: { id: number; result?: ChunkResult; error?: string }) => {
      const task = w.task;
      if (task === undefined || m.id !== task.id) return;
      w.task = undefined;
      if (m.result) task.resolve(m.result);
      else task.reject(new WardError('audit.verify_failed', 'a verification worker failed'));
    });
    // Permanent listeners: the error is not inspected (it may quote data) and never rethrown.
    thread.on('error', () => die(w));
    thread.on('exit', () => die(w));
    return w;
  }

  function die(w: PoolWorker): void {
    if (w.dead) return;
    w.dead = true;
    const at = idle.indexOf(w);
    if (at >= 0) idle.splice(at, 1);
    const task = w.task;
    w.task = undefined;
    task?.reject(new WardError('audit.verify_failed', closing ? 'the verifier was closed' : 'a verification worker stopped'));
    if (pool.every((p) => p.dead)) {
      for (const waiter of waiting.splice(0)) waiter.reject(allDead());
    }
  }

  const acquire = (): Promise<PoolWorker> => {
    if (closing || pool.every((p) => p.dead)) return Promise.reject(allDead());
    const w = idle.pop();
    return w ? Promise.resolve(w) : new Promise((resolve, reject) => waiting.push({ resolve, reject }));
  };
  const release = (w: PoolWorker): void => {
    if (w.dead) return;
    const waiter = waiting.shift();
    if (waiter) waiter.resolve(w);
    else idle.push(w);
  };
  return {
    parallelism: threads,
    async run(task) {
      const w = await acquire();
      const id = nextId++;
      try {
        return await new Promise<ChunkResult>((resolve, reject) => {
          // It may have died between being handed out and now: nothing would ever answer.
          if (w.dead) return reject(new WardError('audit.verify_failed', 'a verification worker stopped'));
          w.task = { id, resolve, reject };
          w.thread.postMessage({ id, task });
        });
      } finally {
        release(w);
      }
    },
    chainHashAt: (seq) => (local ??= openAuditRowScanner(connection)).chainHashAt(seq),
    async close() {
      closing = true;
      await Promise.all(pool.map((w) => w.thread.terminate()));
      await local?.close();
    },
  };
}

interface PoolWorker {
  thread: Worker;
  dead: boolean;
  /** The task this worker is running, settled by its reply or by its death. */
  task?: { id: number; resolve: (r: ChunkResult) => void; reject: (e: WardError) => void };
}
