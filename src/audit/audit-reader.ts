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
import type { CheckpointFile, CheckpointSink } from './checkpoint-file.js';
import { verifyAuditLog } from './audit-verifier.js';
import type { AuditProblemKind, AuditVerdict } from './audit-verifier.js';
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

/** Checkpoints from the database and from the checkpoint file outside it (duplicates are fine). */
export async function readAllCheckpoints(db: Kysely<WardSchema>, sink?: Pick<CheckpointSink, 'read'>): Promise<SignedCheckpoint[]> {
  return [...(await readStoredCheckpoints(db)).checkpoints, ...(sink?.read().checkpoints ?? [])];
}

/**
 * Head, highest and lowest sequence number and row count, read in one snapshot so a writer
 * committing meanwhile cannot make them disagree (which would look like tampering).
 */
export async function readLogExtent(database: WardDatabase): Promise<{ head: { seq: number; chainHash: string }; max: number; min: number; count: number }> {
  const run = async (trx: Kysely<WardSchema>): Promise<{ head: { seq: number; chainHash: string }; max: number; min: number; count: number }> => {
    const head = await readAuditHead(trx);
    const r = await trx
      .selectFrom('audit_entry')
      .select((eb) => [eb.fn.max('seq').as('max'), eb.fn.min('seq').as('min'), eb.fn.countAll().as('count')])
      .executeTakeFirst();
    return { head, max: Number(r?.max ?? 0), min: Number(r?.min ?? 0), count: Number(r?.count ?? 0) };
  };
  const tx = database.db.transaction();
  return database.dialect === 'postgres' ? tx.setIsolationLevel('repeatable read').execute(run) : tx.execute(run);
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
  const fail = (seq: number, kind: AuditProblemKind, detail: string): AuditVerdict => ({ ok: false, entries: 0, checkpointsVerified: 0, problem: { seq, kind, detail }, warnings });
  if (firstUnreadable !== undefined) {
    return fail(
      Math.max(firstUnreadable, 0),
      'bad_signature',
      firstUnreadable >= 0 ? `stored checkpoint at tree size ${firstUnreadable} is unreadable` : `checkpoint file line ${String(file?.badLines[0])} is not a checkpoint`,
    );
  }
  if (file !== undefined) {
    // The file is written before the database row, so every stored checkpoint should be in it.
    const inFile = new Set(file.checkpoints.map((c) => c.signature));
    const missing = stored.checkpoints.filter((c) => !inFile.has(c.signature)).length;
    if (missing > 0) warnings.push(`${missing} checkpoint(s) in the database are missing from the checkpoint file (file replaced, truncated or lost?)`);
  }
  const extent = await readLogExtent(database);
  // Every row must be one of 1..max: rows numbered 0 or below would escape the scan.
  if (extent.count > 0 && extent.min < 1) return fail(extent.min, 'inserted', `an entry is stored at sequence number ${extent.min}, outside the log`);
  // Rows past the head were not written by the log writer (which moves the head in the same transaction).
  const lastStoredSeq = Math.min(extent.max, Math.max(extent.head.seq, 0));
  if (extent.max > extent.head.seq) {
    const verdict = await verifyRange(database, checkpoints, publicKey, lastStoredSeq, extent.head, warnings, options);
    if (!verdict.ok) return verdict;
    return { ...verdict, ok: false, problem: { seq: extent.head.seq + 1, kind: 'inserted', detail: `entries after ${extent.head.seq} were not written by the log writer` } };
  }
  return verifyRange(database, checkpoints, publicKey, lastStoredSeq, extent.head, warnings, options);
}

async function verifyRange(
  database: WardDatabase,
  checkpoints: SignedCheckpoint[],
  publicKey: KeyObject,
  lastStoredSeq: number,
  head: { seq: number; chainHash: string },
  warnings: string[],
  options: VerifyOptions,
): Promise<AuditVerdict> {
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
