/**
 * Reading the stored log: entries in sequence order (keyset pagination, so memory stays flat
 * on a log of any size), checkpoints and the head. Used by verify, export, proofs and search.
 */
import type { KeyObject } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import type { AuditEntryTable, WardSchema } from '../storage/schema.js';
import type { WardDatabase } from '../storage/ward-database.js';
import type { SignedCheckpoint } from './checkpoint.js';
import { parseSignedCheckpoint } from './checkpoint.js';
import type { CheckpointFile } from './checkpoint-file.js';
import { verifyAuditLog } from './audit-verifier.js';
import type { AuditVerdict } from './audit-verifier.js';
import { inProcessRunner, workerRunner } from './chunk-runners.js';
import { availableParallelism } from 'node:os';

export async function* streamAuditRows(
  db: Kysely<WardSchema>,
  options: { afterSeq?: number; uptoSeq?: number; pageSize?: number } = {},
): AsyncGenerator<Selectable<AuditEntryTable>> {
  const pageSize = options.pageSize ?? 10_000;
  let after = options.afterSeq ?? 0;
  for (;;) {
    let q = db.selectFrom('audit_entry').selectAll().where('seq', '>', after).orderBy('seq').limit(pageSize);
    if (options.uptoSeq !== undefined) q = q.where('seq', '<=', options.uptoSeq);
    const page = await q.execute();
    for (const row of page) yield row;
    if (page.length < pageSize) return;
    after = Number((page[page.length - 1] as Selectable<AuditEntryTable>).seq);
  }
}

export async function readStoredCheckpoints(db: Kysely<WardSchema>): Promise<{ checkpoints: SignedCheckpoint[]; unreadable: number[] }> {
  const rows = await db.selectFrom('audit_checkpoint').selectAll().orderBy('tree_size').execute();
  const checkpoints: SignedCheckpoint[] = [];
  const unreadable: number[] = [];
  for (const r of rows) {
    const cp = parseSignedCheckpoint(r.body);
    if (cp && cp.treeSize === Number(r.tree_size)) checkpoints.push(cp);
    else unreadable.push(Number(r.tree_size));
  }
  return { checkpoints, unreadable };
}

export async function readAuditHead(db: Kysely<WardSchema>): Promise<{ seq: number; chainHash: string }> {
  const head = await db.selectFrom('audit_head').select(['seq', 'chain_hash']).where('id', '=', 1).executeTakeFirstOrThrow();
  return { seq: Number(head.seq), chainHash: head.chain_hash };
}

export interface VerifyOptions {
  /** Worker threads for large logs (default: one per core); 0 verifies in this thread. */
  threads?: number;
}

/** Verify the log as stored: database entries, database checkpoints and the checkpoint file. */
export async function verifyStoredLog(
  database: WardDatabase,
  publicKey: KeyObject,
  checkpointFile?: CheckpointFile,
  options: VerifyOptions = {},
): Promise<AuditVerdict> {
  const db = database.db;
  const stored = await readStoredCheckpoints(db);
  const file = checkpointFile?.read();
  const warnings: string[] = [];
  if (file?.tornTail) warnings.push('the checkpoint file ends in a partial line (a crash while writing); it was ignored');
  const checkpoints = [...stored.checkpoints, ...(file?.checkpoints ?? [])];
  const firstUnreadable = stored.unreadable[0] ?? (file && file.badLines.length > 0 ? -1 : undefined);
  if (firstUnreadable !== undefined) {
    return {
      ok: false,
      entries: 0,
      checkpointsVerified: 0,
      problem: {
        seq: Math.max(firstUnreadable, 0),
        kind: 'bad_signature',
        detail: firstUnreadable >= 0
          ? `stored checkpoint at tree size ${firstUnreadable} is unreadable`
          : `checkpoint file line ${String(file?.badLines[0])} is not a checkpoint`,
      },
      warnings,
    };
  }
  const head = await readAuditHead(db);
  const max = await db.selectFrom('audit_entry').select((eb) => eb.fn.max('seq').as('m')).executeTakeFirst();
  const lastStoredSeq = Number(max?.m ?? 0);
  const threads = options.threads ?? (lastStoredSeq >= 200_000 ? availableParallelism() : 0);
  const runner = threads > 0 ? workerRunner(database.connection, threads) : inProcessRunner(database.connection);
  try {
    return await verifyAuditLog({
      checkpoints,
      publicKey,
      lastStoredSeq,
      head,
      runChunk: (task) => runner.run(task),
      chainHashAt: (seq) => runner.chainHashAt(seq),
      parallelism: runner.parallelism,
      warnings,
    });
  } finally {
    await runner.close();
  }
}
