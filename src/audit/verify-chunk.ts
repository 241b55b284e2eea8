/**
 * Verification of one contiguous chunk of the log, the unit of parallel work. For each row:
 * the sequence number is where it should be, the entry's own `seq` agrees, the leaf hash is
 * SHA-256(0x00 || body), and the chain link is SHA-256(previous chain || leaf). It also builds
 * the Merkle frontier of the chunk as a tree of its own and snapshots it at checkpoint sizes;
 * chunks start at multiples of a power of two, so the orchestrator can join them exactly.
 */
import type { StoredAuditRow } from '../storage/schema.js';
import { MerkleFrontier, leafHashHex } from './merkle.js';
import { chainHashHex } from './hash-chain.js';
import type { AuditProblem } from './audit-problem.js';

export interface ChunkTask {
  /** Rows start after this sequence number. */
  start: number;
  /** Last sequence number to check (inclusive). */
  end: number;
  /** Stored chain hash of entry `start` (32 zero bytes when start = 0). */
  prevChain: string;
  /** Absolute tree sizes inside (start, end] at which to snapshot the frontier. */
  snapshotSizes: number[];
  /**
   * Extend this frontier (of the tree of the first `start` entries) instead of building the
   * chunk as a tree of its own; used when re-verifying the tail since a checkpoint.
   */
  base?: string[];
}

export interface ChunkSnapshot {
  size: number;
  frontier: string[];
  chain: string;
}

export interface ChunkResult {
  start: number;
  /** Rows verified before the first problem (or all of them). */
  count: number;
  problem?: AuditProblem;
  frontier: string[];
  lastChain: string;
  snapshots: ChunkSnapshot[];
}

/** The entry's own sequence number, read from canonical JSON without a full parse (hot path). */
function entrySeqOf(body: string): number | undefined {
  // `seq` is a top-level key; in canonical JSON only `time`, `v` and `who` follow it, and no
  // value may contain a quote, so the last `,"seq":` is the top-level one.
  const at = body.lastIndexOf(',"seq":');
  if (at < 0) return undefined;
  const end = body.indexOf(',', at + 7);
  const n = Number(body.slice(at + 7, end));
  return Number.isSafeInteger(n) ? n : undefined;
}

function parsedSeq(body: string): number | undefined {
  try {
    const v = (JSON.parse(body) as { seq?: unknown }).seq;
    return typeof v === 'number' ? v : undefined;
  } catch {
    return undefined;
  }
}

export async function verifyChunk(rows: AsyncIterable<StoredAuditRow> | Iterable<StoredAuditRow>, task: ChunkTask): Promise<ChunkResult> {
  const frontier = task.base ? MerkleFrontier.fromHex(task.base, task.start) : new MerkleFrontier();
  const snapshots: ChunkSnapshot[] = [];
  let chainHex = task.prevChain;
  let expected = task.start + 1;
  let snapIdx = 0;
  const result = (problem?: AuditProblem): ChunkResult => ({
    start: task.start,
    count: expected - task.start - 1,
    ...(problem ? { problem } : {}),
    frontier: frontier.toHex(),
    lastChain: chainHex,
    snapshots,
  });
  for await (const row of rows) {
    const seq = Number(row.seq);
    if (seq !== expected) return result({ seq: expected, kind: 'missing', detail: `entry ${expected} is missing (next stored entry is ${seq})` });
    const own = entrySeqOf(row.body) ?? parsedSeq(row.body);
    if (own !== seq) {
      if (own === undefined) return result({ seq, kind: 'modified', detail: `entry ${seq} is not a well-formed entry` });
      if (own === seq - 1) return result({ seq: seq - 1, kind: 'inserted', detail: `an entry was inserted at ${seq - 1}: later entries were renumbered` });
      if (own === seq + 1) return result({ seq, kind: 'missing', detail: `entry ${seq} was deleted and later entries renumbered` });
      return result({ seq, kind: 'reordered', detail: `entry stored at ${seq} says it is entry ${own}` });
    }
    const leafHex = leafHashHex(row.body);
    if (leafHex !== row.leaf_hash) return result({ seq, kind: 'modified', detail: `entry ${seq} content does not match its leaf hash` });
    const nextHex = chainHashHex(chainHex, leafHex);
    if (nextHex !== row.chain_hash) return result({ seq, kind: 'modified', detail: `hash chain broken at entry ${seq}: this entry or the one before it was altered` });
    chainHex = nextHex;
    frontier.push(leafHex);
    if (task.snapshotSizes[snapIdx] === seq) {
      snapshots.push({ size: seq, frontier: frontier.toHex(), chain: chainHex });
      snapIdx += 1;
    }
    expected += 1;
    if (expected > task.end) break;
  }
  if (expected <= task.end) return result({ seq: expected, kind: 'missing', detail: `entry ${expected} is missing` });
  return result();
}
