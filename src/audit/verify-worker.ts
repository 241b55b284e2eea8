/**
 * Worker thread body for parallel verification: opens its own read-only connection from the
 * connection info it is given and answers chunk tasks with chunk results.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openAuditRowScanner } from '../storage/scan-audit-rows.js';
import type { ConnectionInfo } from '../storage/ward-database.js';
import { verifyChunk } from './verify-chunk.js';
import type { ChunkTask } from './verify-chunk.js';

const scanner = openAuditRowScanner(workerData as ConnectionInfo);
parentPort?.on('message', (msg: { id: number; task: ChunkTask } | 'close') => {
  if (msg === 'close') {
    void scanner.close().finally(() => parentPort?.close());
    return;
  }
  verifyChunk(scanner.scan(msg.task.start, msg.task.end), msg.task).then(
    (result) => parentPort?.postMessage({ id: msg.id, result }),
    () => parentPort?.postMessage({ id: msg.id, error: 'audit.verify_failed' }),
  );
});
