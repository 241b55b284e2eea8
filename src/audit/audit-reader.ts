/**
 * Reading the stored log: entries in sequence order (keyset pagination, so memory stays flat
 * on a log of any size), checkpoints and the head. Used by verify, export, proofs and search.
 */
import type { KeyObject } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { AuditEntryTable, WardSchema } from '../storage/schema.js';
import type { SignedCheckpoint } from './checkpoint.js';
import { parseSignedCheckpoint } from './checkpoint.js';
import type { CheckpointFile } from './checkpoint-file.js';
import { verifyAuditLog } from './audit-verifier.js';
import type { AuditVerdict } from './audit-verifier.js';

export async function* streamAuditRows(
  db: Kysely<WardSchema>,
  options: { afterSeq?: number; uptoSeq?: number; pageSize?: number } = {},
): AsyncGenerator<AuditEntryTable> {
  const pageSize = options.pageSize ?? 10_000;
  let after = options.afterSeq ?? 0;
  for (;;) {
    let q = db.selectFrom('audit_entry').selectAll().where('seq', '>', after).orderBy('seq').limit(pageSize);
    if (options.uptoSeq !== undefined) q = q.where('seq', '<=', options.uptoSeq);
    const page = await q.execute();
    for (const row of page) yield row;
    if (page.length < pageSize) return;
    after = Number((page[page.length - 1] as AuditEntryTable).seq);
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

/** Verify the log as stored: database entries, database checkpoints and the checkpoint file. */
export async function verifyStoredLog(
  db: Kysely<WardSchema>,
  publicKey: KeyObject,
  checkpointFile?: CheckpointFile,
): Promise<AuditVerdict> {
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
  return verifyAuditLog({
    rows: streamAuditRows(db),
    checkpoints,
    publicKey,
    head: await readAuditHead(db),
    warnings,
  });
}
