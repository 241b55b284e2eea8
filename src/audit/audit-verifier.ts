/**
 * Recomputes the audit log's integrity from scratch: every entry's leaf hash, the hash chain,
 * the Merkle root at every signed checkpoint, and every checkpoint's Ed25519 signature. The
 * verdict names the first bad sequence number and what is wrong. It is a value, not an
 * exception: a broken log is an expected finding.
 *
 * The work is split into chunks that start at multiples of a power of two, verified in
 * parallel (each its own Merkle tree) and joined exactly (RFC 9162 trees decompose into
 * aligned perfect subtrees), so a million entries verify in seconds on two cores.
 *
 * What it can and cannot see: any change to an entry at or before the latest checkpoint is
 * caught, even by someone who recomputed every hash, because the checkpoint's signed root
 * disagrees. Entries appended after the latest checkpoint are protected by the chain and the
 * head row only: someone with write access to the database can append well-formed entries
 * there. That window is bounded by the checkpoint interval (60 s by default), and the next
 * checkpoint re-verifies it before signing (AuditLog.checkpoint).
 */
import type { KeyObject } from 'node:crypto';
import type { SignedCheckpoint } from './checkpoint.js';
import { checkpointSignatureValid, keyIdOf } from './checkpoint.js';
import { GENESIS_CHAIN } from './hash-chain.js';
import { EMPTY_TREE_ROOT, MerkleFrontier } from './merkle.js';
import type { AuditProblem } from './audit-problem.js';
import type { ChunkResult, ChunkTask } from './verify-chunk.js';

export type { AuditProblem, AuditProblemKind } from './audit-problem.js';

export interface AuditVerdict {
  ok: boolean;
  entries: number;
  checkpointsVerified: number;
  latestCheckpoint?: { treeSize: number; time: string };
  problem?: AuditProblem;
  warnings: string[];
}

export interface VerifyInput {
  /** Checkpoints from the database and from the checkpoint file (duplicates are fine). */
  checkpoints: readonly SignedCheckpoint[];
  publicKey: KeyObject;
  /** Highest stored sequence number (0 for an empty log). */
  lastStoredSeq: number;
  /** The head row's view of the log end (catches naive tail truncation and appends). */
  head?: { seq: number; chainHash: string };
  runChunk: (task: ChunkTask) => Promise<ChunkResult>;
  /** The stored chain hash of one entry (chunk boundaries). */
  chainHashAt: (seq: number) => Promise<string | undefined>;
  /** Chunks verified at once (one per thread when the runner uses workers). */
  parallelism?: number;
  warnings?: string[];
}

const GENESIS_HEX = GENESIS_CHAIN.toString('hex');

export function planChunks(lastSeq: number, parallelism: number): { start: number; end: number }[] {
  if (lastSeq <= 0) return [];
  let width = 2 ** 14;
  while (width * parallelism * 4 < lastSeq) width *= 2;
  const chunks: { start: number; end: number }[] = [];
  for (let start = 0; start < lastSeq; start += width) chunks.push({ start, end: Math.min(start + width, lastSeq) });
  return chunks;
}

export async function verifyAuditLog(input: VerifyInput): Promise<AuditVerdict> {
  const warnings = [...(input.warnings ?? [])];
  const expectedKeyId = keyIdOf(input.publicKey);
  let checkpointsVerified = 0;
  const fail = (problem: AuditProblem, entries: number): AuditVerdict => ({ ok: false, entries, checkpointsVerified, problem, warnings });

  // 1. Signatures first: a forged checkpoint must not be used to judge the entries.
  const bySize = new Map<number, SignedCheckpoint[]>();
  for (const cp of input.checkpoints) {
    if (cp.keyId !== expectedKeyId || !checkpointSignatureValid(input.publicKey, cp)) {
      return fail({ seq: cp.treeSize, kind: 'bad_signature', detail: `checkpoint at tree size ${cp.treeSize} is not signed by the audit key ${expectedKeyId}` }, 0);
    }
    bySize.set(cp.treeSize, [...(bySize.get(cp.treeSize) ?? []), cp]);
  }
  const sizes = [...bySize.keys()].sort((a, b) => a - b);
  const latestSize = sizes[sizes.length - 1];
  const latest = latestSize === undefined ? undefined : bySize.get(latestSize)?.[0];

  // 2. Verify chunks in parallel, then join them in order.
  const plan = planChunks(input.lastStoredSeq, Math.max(1, input.parallelism ?? 1));
  const results = await runPool(plan, Math.max(1, input.parallelism ?? 1), async ({ start, end }) =>
    input.runChunk({
      start,
      end,
      prevChain: start === 0 ? GENESIS_HEX : ((await input.chainHashAt(start)) ?? GENESIS_HEX),
      snapshotSizes: sizes.filter((s) => s > start && s <= end),
    }),
  );

  let lastGood = 0;
  const checkAt = (size: number, root: Buffer, chain: string): AuditProblem | undefined => {
    for (const cp of bySize.get(size) ?? []) {
      if (cp.rootHash !== root.toString('hex') || cp.chainHash !== chain) {
        return {
          seq: lastGood + 1,
          kind: 'checkpoint_mismatch',
          detail: `entries ${lastGood + 1}..${size} differ from the signed checkpoint at tree size ${size} (rewritten history)`,
        };
      }
      checkpointsVerified += 1;
    }
    lastGood = size;
    return undefined;
  };
  const zero = checkAt(0, EMPTY_TREE_ROOT, GENESIS_HEX);
  if (zero) return fail(zero, 0);

  const global = new MerkleFrontier();
  for (const res of results) {
    for (const snap of res.snapshots) {
      const f = global.clone();
      f.pushFrontier(snap.frontier, snap.size - res.start);
      const p = checkAt(snap.size, f.root(), snap.chain);
      if (p) return fail(p, snap.size);
    }
    if (res.problem) return fail(res.problem, res.start + res.count);
    global.pushFrontier(res.frontier, res.count);
  }
  const count = global.size;
  const lastChain = results.length > 0 ? (results[results.length - 1] as ChunkResult).lastChain : GENESIS_HEX;

  // 3. The end of the log: nothing behind a checkpoint, or behind the head, may be gone.
  const maxSize = latestSize ?? 0;
  if (maxSize > count) {
    return fail({ seq: count + 1, kind: 'truncated', detail: `log ends at ${count} but a signed checkpoint covers ${maxSize} entries` }, count);
  }
  if (input.head !== undefined) {
    if (input.head.seq > count) {
      return fail({ seq: count + 1, kind: 'truncated', detail: `log ends at ${count} but its head records ${input.head.seq} entries` }, count);
    }
    if (input.head.seq < count || input.head.chainHash !== lastChain) {
      return fail({ seq: input.head.seq + 1, kind: 'inserted', detail: `entries after ${input.head.seq} were not written by the log writer` }, count);
    }
  }
  if (latest === undefined && count > 0) warnings.push('no signed checkpoint yet: only the hash chain protects the log');
  else if (latest !== undefined && latest.treeSize < count) {
    warnings.push(`${count - latest.treeSize} entries after the latest checkpoint are protected by the hash chain only`);
  }
  return {
    ok: true,
    entries: count,
    checkpointsVerified,
    ...(latest ? { latestCheckpoint: { treeSize: latest.treeSize, time: latest.time } } : {}),
    warnings,
  };
}

/** Run `fn` over `items` with at most `limit` in flight; results keep the input order. */
async function runPool<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return out;
}
