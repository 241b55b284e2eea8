/**
 * Inclusion proofs (RFC 9162 2.1.3): evidence, checkable offline with only the audit public
 * key, that one entry is part of the log committed to by a signed checkpoint. A privacy
 * officer can hand a proof to an auditor who never touches Ward's database.
 */
import type { KeyObject } from 'node:crypto';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { WardSchema } from '../storage/schema.js';
import { WardError } from '../shared/ward-error.js';
import type { SignedCheckpoint } from './checkpoint.js';
import { checkpointSignatureValid, keyIdOf, parseSignedCheckpoint } from './checkpoint.js';
import { inclusionProof, leafHash, verifyInclusion } from './merkle.js';
import type { AuditEntry } from './audit-entry.js';

export interface InclusionProof {
  format: 'ward.audit.inclusion-proof.v1';
  seq: number;
  leafIndex: number;
  treeSize: number;
  /** The entry's canonical JSON, exactly as hashed. */
  entry: string;
  auditPath: string[];
  checkpoint: SignedCheckpoint;
}

const hex64 = z.string().regex(/^[0-9a-f]{64}$/);
const proofSchema = z.object({
  format: z.literal('ward.audit.inclusion-proof.v1'),
  seq: z.number().int().positive(),
  leafIndex: z.number().int().nonnegative(),
  treeSize: z.number().int().positive(),
  entry: z.string(),
  auditPath: z.array(hex64).max(64),
  checkpoint: z.unknown(),
});

/** Build a proof for `seq` against the newest valid checkpoint that covers it. */
export async function buildInclusionProof(
  db: Kysely<WardSchema>,
  seq: number,
  checkpoints: readonly SignedCheckpoint[],
  publicKey: KeyObject,
): Promise<InclusionProof> {
  const usable = checkpoints
    .filter((c) => c.treeSize >= seq && checkpointSignatureValid(publicKey, c) && c.keyId === keyIdOf(publicKey))
    .sort((a, b) => b.treeSize - a.treeSize)[0];
  if (usable === undefined) {
    throw new WardError('audit.not_checkpointed', `entry ${seq} is not covered by a signed checkpoint yet; run \`ward audit checkpoint\` or wait for the next one`);
  }
  const rows = await db.selectFrom('audit_entry').select(['seq', 'leaf_hash']).where('seq', '<=', usable.treeSize).orderBy('seq').execute();
  if (rows.length !== usable.treeSize) throw new WardError('audit.log_damaged', 'the stored log does not match its checkpoint; run `ward audit verify`');
  const entryRow = await db.selectFrom('audit_entry').select('body').where('seq', '=', seq).executeTakeFirst();
  if (entryRow === undefined) throw new WardError('audit.no_such_entry', `no audit entry ${seq}`);
  const leaves = rows.map((r) => Buffer.from(r.leaf_hash, 'hex'));
  const path = inclusionProof(leaves, seq - 1, usable.treeSize);
  return {
    format: 'ward.audit.inclusion-proof.v1',
    seq,
    leafIndex: seq - 1,
    treeSize: usable.treeSize,
    entry: entryRow.body,
    auditPath: path.map((b) => b.toString('hex')),
    checkpoint: usable,
  };
}

export type ProofVerdict = { ok: true; seq: number; treeSize: number; checkpointTime: string } | { ok: false; reason: string };

/** Check a proof offline: the checkpoint's signature, then the entry's path to the signed root. */
export function checkInclusionProof(input: unknown, publicKey: KeyObject): ProofVerdict {
  const parsed = proofSchema.safeParse(input);
  if (!parsed.success) return { ok: false, reason: 'not a Ward inclusion proof' };
  const p = parsed.data;
  const cp = parseSignedCheckpoint(JSON.stringify(p.checkpoint));
  if (cp === undefined) return { ok: false, reason: 'the proof carries no readable checkpoint' };
  if (cp.keyId !== keyIdOf(publicKey) || !checkpointSignatureValid(publicKey, cp)) return { ok: false, reason: 'checkpoint signature is not valid for this audit key' };
  if (cp.treeSize !== p.treeSize) return { ok: false, reason: 'proof tree size differs from the signed checkpoint' };
  let entrySeq: unknown;
  try {
    entrySeq = (JSON.parse(p.entry) as Partial<AuditEntry>).seq;
  } catch {
    return { ok: false, reason: 'entry is not valid JSON' };
  }
  if (entrySeq !== p.seq || p.leafIndex !== p.seq - 1) return { ok: false, reason: 'entry sequence number does not match the proof' };
  const ok = verifyInclusion(leafHash(p.entry), p.leafIndex, p.treeSize, p.auditPath.map((h) => Buffer.from(h, 'hex')), Buffer.from(cp.rootHash, 'hex'));
  return ok ? { ok: true, seq: p.seq, treeSize: p.treeSize, checkpointTime: cp.time } : { ok: false, reason: 'entry is not included in the signed tree (path does not lead to the root)' };
}
