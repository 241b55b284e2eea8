/**
 * Recomputes the audit log's integrity from scratch: every entry's leaf hash, the hash chain,
 * the indexed columns against the entry itself, the Merkle root at every signed checkpoint,
 * and every checkpoint's Ed25519 signature. The verdict names the first bad sequence number
 * and what is wrong. It is a value, not an exception: a broken log is an expected finding.
 *
 * What it can and cannot see: any change to an entry at or before the latest checkpoint is
 * caught, even by someone who recomputed every hash, because the checkpoint's signed root
 * disagrees. Entries appended after the latest checkpoint are protected by the chain only
 * against naive edits; that window is bounded by the checkpoint interval (60 s by default).
 */
import type { KeyObject } from 'node:crypto';
import type { AuditEntryTable } from '../storage/schema.js';
import type { AuditEntry } from './audit-entry.js';
import type { SignedCheckpoint } from './checkpoint.js';
import { checkpointSignatureValid, keyIdOf } from './checkpoint.js';
import { GENESIS_CHAIN, chainHash } from './hash-chain.js';
import { MerkleFrontier, leafHash } from './merkle.js';
import { auditRowOf } from './audit-log.js';

export type AuditProblemKind =
  | 'modified'
  | 'missing'
  | 'inserted'
  | 'reordered'
  | 'bad_signature'
  | 'truncated'
  | 'checkpoint_mismatch';

export interface AuditProblem {
  seq: number;
  kind: AuditProblemKind;
  detail: string;
}

export interface AuditVerdict {
  ok: boolean;
  entries: number;
  checkpointsVerified: number;
  latestCheckpoint?: { treeSize: number; time: string };
  problem?: AuditProblem;
  warnings: string[];
}

export interface VerifyInput {
  rows: AsyncIterable<AuditEntryTable> | Iterable<AuditEntryTable>;
  /** Checkpoints from the database and from the checkpoint file (duplicates are fine). */
  checkpoints: readonly SignedCheckpoint[];
  publicKey: KeyObject;
  /** The head row's view of the log end, when available (catches naive tail truncation). */
  head?: { seq: number; chainHash: string };
  warnings?: string[];
}

const INDEXED: readonly (keyof AuditEntryTable)[] = [
  'ts', 'principal_id', 'principal_kind', 'action', 'resource_type', 'resource_id', 'patient_id', 'purpose', 'outcome', 'request_id',
];

export async function verifyAuditLog(input: VerifyInput): Promise<AuditVerdict> {
  const warnings = [...(input.warnings ?? [])];
  const expectedKeyId = keyIdOf(input.publicKey);
  const fail = (problem: AuditProblem, entries: number, checkpointsVerified: number): AuditVerdict => ({
    ok: false, entries, checkpointsVerified, problem, warnings,
  });

  // 1. Signatures first: a forged checkpoint must not be used to judge the entries.
  const bySize = new Map<number, SignedCheckpoint[]>();
  for (const cp of input.checkpoints) {
    if (cp.keyId !== expectedKeyId || !checkpointSignatureValid(input.publicKey, cp)) {
      return fail({ seq: cp.treeSize, kind: 'bad_signature', detail: `checkpoint at tree size ${cp.treeSize} is not signed by the audit key ${expectedKeyId}` }, 0, 0);
    }
    const list = bySize.get(cp.treeSize) ?? [];
    list.push(cp);
    bySize.set(cp.treeSize, list);
  }
  const sizes = [...bySize.keys()].sort((a, b) => a - b);
  const latest = sizes.length > 0 ? (bySize.get(sizes[sizes.length - 1] as number)?.[0] as SignedCheckpoint) : undefined;

  // 2. Stream the entries.
  const frontier = new MerkleFrontier();
  let chain: Buffer = GENESIS_CHAIN;
  let expected = 1;
  let checkpointsVerified = 0;
  let lastGoodCheckpoint = 0;
  let nextSizeIdx = 0;

  const checkAtSize = (size: number): AuditProblem | undefined => {
    for (const cp of bySize.get(size) ?? []) {
      if (cp.rootHash !== frontier.root().toString('hex') || cp.chainHash !== chain.toString('hex')) {
        return {
          seq: lastGoodCheckpoint + 1,
          kind: 'checkpoint_mismatch',
          detail: `entries ${lastGoodCheckpoint + 1}..${size} differ from the signed checkpoint at tree size ${size} (rewritten history)`,
        };
      }
      checkpointsVerified += 1;
    }
    lastGoodCheckpoint = size;
    return undefined;
  };
  if (bySize.has(0)) {
    const p = checkAtSize(0);
    if (p) return fail(p, 0, checkpointsVerified);
  }
  while (sizes[nextSizeIdx] === 0) nextSizeIdx += 1;

  for await (const row of input.rows) {
    const seq = Number(row.seq);
    if (seq !== expected) {
      return fail({ seq: expected, kind: 'missing', detail: `entry ${expected} is missing (next stored entry is ${seq})` }, expected - 1, checkpointsVerified);
    }
    let entry: AuditEntry;
    try {
      entry = JSON.parse(row.body) as AuditEntry;
    } catch {
      return fail({ seq, kind: 'modified', detail: `entry ${seq} is not valid JSON` }, expected - 1, checkpointsVerified);
    }
    if (entry.seq !== seq) {
      if (entry.seq === seq - 1) {
        return fail({ seq: seq - 1, kind: 'inserted', detail: `an entry was inserted at ${seq - 1}: later entries were renumbered` }, expected - 1, checkpointsVerified);
      }
      if (entry.seq === seq + 1) {
        return fail({ seq, kind: 'missing', detail: `entry ${seq} was deleted and later entries renumbered` }, expected - 1, checkpointsVerified);
      }
      return fail({ seq, kind: 'reordered', detail: `entry stored at ${seq} says it is entry ${String(entry.seq)}` }, expected - 1, checkpointsVerified);
    }
    const leaf = leafHash(row.body);
    if (leaf.toString('hex') !== row.leaf_hash) {
      return fail({ seq, kind: 'modified', detail: `entry ${seq} content does not match its leaf hash` }, expected - 1, checkpointsVerified);
    }
    let derived;
    try {
      derived = auditRowOf(entry, row.body, leaf, chain);
    } catch {
      return fail({ seq, kind: 'modified', detail: `entry ${seq} is not a well-formed audit entry` }, expected - 1, checkpointsVerified);
    }
    for (const col of INDEXED) {
      if ((derived[col] ?? null) !== (row[col] ?? null)) {
        return fail({ seq, kind: 'modified', detail: `entry ${seq}: indexed column ${col} disagrees with the entry` }, expected - 1, checkpointsVerified);
      }
    }
    const nextChain = chainHash(chain, leaf);
    if (nextChain.toString('hex') !== row.chain_hash) {
      return fail({ seq, kind: 'modified', detail: `hash chain broken at entry ${seq}: this entry or the one before it was altered` }, expected - 1, checkpointsVerified);
    }
    chain = nextChain;
    frontier.push(leaf);
    if (sizes[nextSizeIdx] === seq) {
      const p = checkAtSize(seq);
      if (p) return fail(p, seq, checkpointsVerified);
      nextSizeIdx += 1;
    }
    expected += 1;
  }
  const count = expected - 1;

  // 3. The end of the log: nothing behind a checkpoint, or behind the head, may be gone.
  const maxSize = sizes.length > 0 ? (sizes[sizes.length - 1] as number) : 0;
  if (maxSize > count) {
    return fail({ seq: count + 1, kind: 'truncated', detail: `log ends at ${count} but a signed checkpoint covers ${maxSize} entries` }, count, checkpointsVerified);
  }
  if (input.head !== undefined) {
    if (input.head.seq > count) {
      return fail({ seq: count + 1, kind: 'truncated', detail: `log ends at ${count} but its head records ${input.head.seq} entries` }, count, checkpointsVerified);
    }
    if (input.head.seq < count || input.head.chainHash !== chain.toString('hex')) {
      return fail({ seq: input.head.seq + 1, kind: 'inserted', detail: `entries after ${input.head.seq} were not written by the log writer` }, count, checkpointsVerified);
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
