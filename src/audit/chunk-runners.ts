/**
 * Where verification chunks run: in this thread (small logs, tests) or on worker threads,
 * one per core, each with its own database connection.
 */
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import type { ConnectionInfo } from '../storage/ward-database.js';
import { openAuditRowScanner } from '../storage/scan-audit-rows.js';
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
 */
export function workerRunner(connection: ConnectionInfo, threads = Math.max(1, availableParallelism())): ChunkRunner {
  const entry = new URL('./verify-worker.ts', import.meta.url).href;
  const boot = `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`;
  const workers = Array.from({ length: threads }, () => new Worker(boot, { eval: true, workerData: connection }));
  const idle = [...workers];
  const waiting: ((w: Worker) => void)[] = [];
  let nextId = 0;
  const local = openAuditRowScanner(connection);
  const acquire = (): Promise<Worker> => {
    const w = idle.pop();
    return w ? Promise.resolve(w) : new Promise((r) => waiting.push(r));
  };
  const release = (w: Worker): void => {
    const r = waiting.shift();
    if (r) r(w);
    else idle.push(w);
  };
  return {
    parallelism: threads,
    async run(task) {
      const w = await acquire();
      const id = nextId++;
      try {
        return await new Promise<ChunkResult>((resolve, reject) => {
          const onMessage = (m: { id: number; result?: ChunkResult; error?: string }): void => {
            if (m.id !== id) return;
            w.off('message', onMessage);
            w.off('error', onError);
            if (m.result) resolve(m.result);
            else reject(new WardError('audit.verify_failed', 'a verification worker failed'));
          };
          const onError = (): void => {
            w.off('message', onMessage);
            reject(new WardError('audit.verify_failed', 'a verification worker crashed'));
          };
          w.on('message', onMessage);
          w.once('error', onError);
          w.postMessage({ id, task });
        });
      } finally {
        release(w);
      }
    },
    chainHashAt: (seq) => local.chainHashAt(seq),
    async close() {
      await Promise.all(workers.map((w) => w.terminate()));
      await local.close();
    },
  };
}
