/**
 * The append-only audit log with group commit.
 *
 * Appends from concurrent callers are queued and written together: one transaction (one
 * fsync on SQLite with synchronous=FULL, one commit on PostgreSQL) per batch. A caller's
 * promise resolves only after the batch has committed, so an acknowledged entry is durable.
 * `transact` runs a caller's state change inside the same batch transaction as its audit
 * entries (under a savepoint): both commit or neither does, which is how Ward fails closed.
 *
 * Sequence numbers are gap-free: they are assigned inside the transaction from the head row,
 * which is locked first (a row lock on PostgreSQL, the write lock on SQLite), so several
 * processes may share one database.
 */
import { createPublicKey } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { StoredAuditRow, WardSchema } from '../storage/schema.js';
import type { Clock } from '../shared/clock.js';
import { canonicalJson } from '../shared/canonical-json.js';
import type { JsonValue } from '../shared/canonical-json.js';
import { WardError } from '../shared/ward-error.js';
import { auditEntryInputSchema } from './audit-entry.js';
import type { AuditEntry, AuditEntryInput, AuditReceipt } from './audit-entry.js';
import { GENESIS_CHAIN, chainHash } from './hash-chain.js';
import { readAllCheckpoints, readAuditHead, streamAuditRows } from './audit-reader.js';
import { verifyChunk } from './verify-chunk.js';
import { MerkleFrontier, leafHash } from './merkle.js';
import { newestValidCheckpoint, signCheckpoint } from './checkpoint.js';
import type { SignedCheckpoint } from './checkpoint.js';
import type { CheckpointSink } from './checkpoint-file.js';

export type AuditTransaction = Transaction<WardSchema>;
/** Record an audit entry as part of a `transact` unit of work. */
export type RecordAudit = (entry: AuditEntryInput) => void;

interface EntryItem {
  kind: 'entry';
  input: AuditEntryInput;
  time: string;
  resolve: (r: AuditReceipt) => void;
  reject: (e: unknown) => void;
}

interface WorkItem {
  kind: 'work';
  time: string;
  work: (trx: AuditTransaction, record: RecordAudit) => Promise<unknown>;
  resolve: (r: unknown) => void;
  reject: (e: unknown) => void;
}

type Item = EntryItem | WorkItem;

export interface AuditLogOptions {
  db: Kysely<WardSchema>;
  clock: Clock;
  /** Ed25519 key that signs checkpoints; without it the log can append but not checkpoint. */
  signingKey?: KeyObject;
  /** Where signed checkpoints are also written, outside the database. */
  checkpointSink?: CheckpointSink;
  /** Largest number of entries written in one transaction. */
  maxBatch?: number;
}

interface HeadState {
  seq: number;
  chain: Buffer;
  frontier: MerkleFrontier;
}

export function validateAuditEntry(input: AuditEntryInput): AuditEntryInput {
  const parsed = auditEntryInputSchema.safeParse(input);
  if (!parsed.success) {
    // The message names fields and rules only: the rejected value may be exactly the PHI we keep out.
    const fields = parsed.error.issues.map((i) => i.path.join('.') || '(entry)').join(', ');
    throw new WardError('audit.invalid_entry', `audit entry rejected: invalid ${fields}`);
  }
  return parsed.data;
}

export class AuditLog {
  private readonly db: Kysely<WardSchema>;
  private readonly clock: Clock;
  private readonly signingKey: KeyObject | undefined;
  private readonly sink: CheckpointSink | undefined;
  private readonly maxBatch: number;
  private queue: Item[] = [];
  private flushing: Promise<void> | undefined;
  private closed = false;
  /** The last entry this process committed: a checkpoint must find it where it was left. */
  private lastCommitted: { seq: number; chainHash: string } | undefined;
  /** Counters for benchmarks and tests (batches written, entries written). */
  readonly stats = { batches: 0, entries: 0 };

  constructor(options: AuditLogOptions) {
    this.db = options.db;
    this.clock = options.clock;
    this.signingKey = options.signingKey;
    this.sink = options.checkpointSink;
    this.maxBatch = options.maxBatch ?? 4096;
  }

  /** Append one entry; resolves once it is durable. Rejects with `audit.write_failed` otherwise. */
  append(input: AuditEntryInput): Promise<AuditReceipt> {
    return new Promise<AuditReceipt>((resolve, reject) => {
      if (this.closed) return reject(new WardError('audit.closed', 'the audit log is shut down', { status: 503 }));
      let valid: AuditEntryInput;
      try {
        valid = validateAuditEntry(input);
      } catch (e) {
        return reject(e instanceof Error ? e : new WardError('audit.invalid_entry', 'audit entry rejected'));
      }
      this.enqueue({ kind: 'entry', input: valid, time: this.clock.now().toISOString(), resolve, reject });
    });
  }

  /**
   * Run `work` and the audit entries it records in one transaction. If the work throws, its
   * changes are rolled back and nothing it recorded is kept; if the audit write fails, the
   * work is rolled back too (fail closed). Keep `work` short: it runs inside a batch.
   *
   * `work` must use only the `trx` it is given: on SQLite the batch holds the one connection,
   * so a query on the plain database handle (or an `append`/`transact` awaited inside `work`)
   * waits for the batch that waits for it, and on PostgreSQL it would run outside the
   * transaction and lose the atomicity this method exists for.
   */
  transact<T>(work: (trx: AuditTransaction, record: RecordAudit) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.closed) return reject(new WardError('audit.closed', 'the audit log is shut down', { status: 503 }));
      this.enqueue({ kind: 'work', time: this.clock.now().toISOString(), work, resolve: resolve as (r: unknown) => void, reject });
    });
  }

  /** Wait until everything queued so far is written (or has failed). */
  async flush(): Promise<void> {
    while (this.flushing !== undefined || this.queue.length > 0) {
      if (this.flushing === undefined) this.startFlush();
      await this.flushing;
    }
  }

  /**
   * Sign a checkpoint of the log as it stands, store it in the checkpoint file and the
   * database. Returns undefined when nothing was appended since the last checkpoint.
   *
   * Before signing, the entries since the newest valid checkpoint are verified again (leaf
   * hashes, chain, sequence) and the tree is extended from that checkpoint's signed frontier:
   * a checkpoint never blesses history that someone with database access rewrote, cut off or
   * forged in the unsigned window. If that check fails, nothing is signed
   * (`audit.integrity_violation`) and the caller (the server) stops reporting ready.
   */
  async checkpoint(options: { force?: boolean } = {}): Promise<SignedCheckpoint | undefined> {
    if (this.signingKey === undefined) throw new WardError('audit.no_signing_key', 'no audit signing key configured');
    await this.flush();
    const head = await readAuditHead(this.db);
    const base = newestValidCheckpoint(await readAllCheckpoints(this.db, this.sink), createPublicKey(this.signingKey));
    if (base !== undefined && base.treeSize > head.seq) {
      throw new WardError('audit.integrity_violation', `refusing to sign: the log ends at ${head.seq} behind a signed checkpoint of ${base.treeSize} entries`);
    }
    if (this.lastCommitted !== undefined) {
      // What this process wrote must still be there, unchanged: re-hashing everything after an
      // edit, or cutting entries off and moving the head back, would otherwise pass the tail check.
      const mine = await this.db.selectFrom('audit_entry').select('chain_hash').where('seq', '=', this.lastCommitted.seq).executeTakeFirst();
      if (head.seq < this.lastCommitted.seq || mine?.chain_hash !== this.lastCommitted.chainHash) {
        throw new WardError('audit.integrity_violation', `refusing to sign: entry ${this.lastCommitted.seq}, written by this process, is gone or changed`);
      }
    }
    if (!options.force && base !== undefined && base.treeSize === head.seq) return undefined;
    if (!options.force && base === undefined && head.seq === 0) return undefined;
    const start = base?.treeSize ?? 0;
    if (base !== undefined && MerkleFrontier.fromHex(base.frontier, base.treeSize).root().toString('hex') !== base.rootHash) {
      throw new WardError('audit.integrity_violation', `refusing to sign: checkpoint ${base.treeSize} carries a frontier that does not match its root`);
    }
    const rows = streamAuditRows(this.db, { afterSeq: start, uptoSeq: head.seq });
    const tail = await verifyChunk(rows, {
      start, end: head.seq, prevChain: base?.chainHash ?? GENESIS_CHAIN.toString('hex'), snapshotSizes: [], base: base?.frontier ?? [],
    });
    if (tail.problem !== undefined || start + tail.count !== head.seq || tail.lastChain !== head.chainHash) {
      const where = tail.problem ? `${tail.problem.kind} at entry ${tail.problem.seq}` : 'the head does not match the entries';
      throw new WardError('audit.integrity_violation', `refusing to sign: entries since checkpoint ${start} fail verification (${where})`);
    }
    const frontier = MerkleFrontier.fromHex(tail.frontier, head.seq);
    const cp = signCheckpoint(this.signingKey, {
      treeSize: head.seq,
      rootHash: frontier.root().toString('hex'),
      chainHash: head.chainHash,
      frontier: frontier.toHex(),
      time: this.clock.now().toISOString(),
    });
    // File first: if the database insert then fails, the file holds a checkpoint that the
    // database does not, which verify accepts (it recomputes the root); the reverse order
    // could leave a database-only checkpoint that an attacker could quietly delete.
    this.sink?.append(cp);
    await this.db
      .insertInto('audit_checkpoint')
      .values({ tree_size: cp.treeSize, ts: cp.time, body: canonicalJson({ ...cp }) })
      .onConflict((oc) => oc.column('tree_size').doNothing())
      .execute();
    return cp;
  }

  /** Stop accepting entries, write what is queued, and sign a final checkpoint. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
    if (this.signingKey !== undefined) await this.checkpoint();
  }

  private enqueue(item: Item): void {
    this.queue.push(item);
    if (this.flushing === undefined) this.startFlush();
  }

  private startFlush(): void {
    this.flushing = (async () => {
      // Let callers that are appending in this same tick join the batch.
      await new Promise<void>((r) => setImmediate(r));
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.maxBatch);
        await this.writeBatch(batch);
      }
    })().finally(() => {
      this.flushing = undefined;
      if (this.queue.length > 0) this.startFlush();
    });
  }

  private async writeBatch(batch: Item[]): Promise<void> {
    const receipts = new Map<Item, AuditReceipt | { value: unknown }>();
    const failures = new Map<Item, unknown>();
    let trx;
    try {
      trx = await this.db.startTransaction().execute();
    } catch (cause) {
      const err = new WardError('audit.write_failed', 'audit log write failed', { cause, status: 503 });
      for (const item of batch) item.reject(err);
      return;
    }
    try {
      // Take the head lock first: the UPDATE makes SQLite take its write lock and PostgreSQL
      // lock the row, so concurrent writers (other processes) serialize here.
      await trx.updateTable('audit_head').set({ id: 1 }).where('id', '=', 1).execute();
      const headRow = await trx.selectFrom('audit_head').selectAll().where('id', '=', 1).executeTakeFirstOrThrow();
      const head: HeadState = {
        seq: headRow.seq,
        chain: Buffer.from(headRow.chain_hash, 'hex'),
        frontier: MerkleFrontier.fromHex(JSON.parse(headRow.frontier) as string[], headRow.seq),
      };
      const rows: StoredAuditRow[] = [];
      const add = (input: AuditEntryInput, time: string): AuditReceipt => {
        const seq = head.seq + 1;
        const entry: AuditEntry = { v: 1, seq, time, ...input };
        const body = canonicalJson(entry as unknown as JsonValue);
        const leaf = leafHash(body);
        const chain = chainHash(head.chain, leaf);
        head.frontier.push(leaf.toString('hex'));
        head.seq = seq;
        head.chain = chain;
        rows.push(auditRowOf(entry, body, leaf, chain));
        return { seq, chainHash: chain.toString('hex') };
      };
      for (const item of batch) {
        if (item.kind === 'entry') {
          receipts.set(item, add(item.input, item.time));
          continue;
        }
        const recorded: AuditEntryInput[] = [];
        const sp = await trx.savepoint('ward_work').execute();
        try {
          const value = await item.work(sp, (e) => recorded.push(validateAuditEntry(e)));
          await sp.releaseSavepoint('ward_work').execute();
          for (const e of recorded) add(e, item.time);
          receipts.set(item, { value });
        } catch (e) {
          await sp.rollbackToSavepoint('ward_work').execute();
          failures.set(item, e);
        }
      }
      for (let i = 0; i < rows.length; i += 500) {
        await trx.insertInto('audit_entry').values(rows.slice(i, i + 500)).execute();
      }
      await trx
        .updateTable('audit_head')
        .set({ seq: head.seq, chain_hash: head.chain.toString('hex'), frontier: JSON.stringify(head.frontier.toHex()) })
        .where('id', '=', 1)
        .execute();
      await trx.commit().execute();
      this.stats.batches += 1;
      this.stats.entries += rows.length;
      if (rows.length > 0) this.lastCommitted = { seq: head.seq, chainHash: head.chain.toString('hex') };
    } catch (cause) {
      await trx.rollback().execute().catch(() => undefined);
      const err = new WardError('audit.write_failed', 'audit log write failed', { cause, status: 503 });
      for (const item of batch) item.reject(err);
      return;
    }
    for (const item of batch) {
      const failure = failures.get(item);
      if (failures.has(item)) {
        item.reject(failure);
        continue;
      }
      const r = receipts.get(item);
      if (item.kind === 'entry') item.resolve(r as AuditReceipt);
      else item.resolve((r as { value: unknown }).value);
    }
  }
}

export function auditRowOf(entry: AuditEntry, body: string, leaf: Buffer, chain: Buffer): StoredAuditRow {
  return { seq: entry.seq, body, leaf_hash: leaf.toString('hex'), chain_hash: chain.toString('hex') };
}
