/**
 * Signed checkpoints: an Ed25519 signature over (tree size, Merkle root, chain head, time).
 * A checkpoint commits the log's whole history up to `treeSize`; copies live both in the
 * database and in an append-only file outside it, so rewriting history needs the signing
 * key and both places (and any copy already shipped to a SIEM).
 */
import { createHash, createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { canonicalJson } from '../shared/canonical-json.js';

export interface CheckpointBody {
  /** Format tag, so a signature over one kind of statement can never be replayed as another. */
  type: 'ward.audit.checkpoint.v1';
  treeSize: number;
  rootHash: string;
  chainHash: string;
  /**
   * The Merkle frontier (roots of the perfect subtrees, hex) at `treeSize`. Signed, so the next
   * checkpoint can re-verify only the entries after this one and extend the tree from here.
   */
  frontier: string[];
  time: string;
  keyId: string;
}

export interface SignedCheckpoint extends CheckpointBody {
  signature: string;
}

/** Key id: the first 16 bytes of SHA-256 over the SPKI DER encoding of the public key, hex. */
export function keyIdOf(publicKey: KeyObject): string {
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('hex').slice(0, 32);
}

export function checkpointMessage(body: CheckpointBody): Buffer {
  return Buffer.from(canonicalJson({ ...body }), 'utf8');
}

export function signCheckpoint(
  privateKey: KeyObject,
  fields: Omit<CheckpointBody, 'type' | 'keyId'>,
): SignedCheckpoint {
  const publicKey = createPublicKey(privateKey);
  const body: CheckpointBody = { type: 'ward.audit.checkpoint.v1', ...fields, keyId: keyIdOf(publicKey) };
  const signature = sign(null, checkpointMessage(body), privateKey).toString('base64');
  return { ...body, signature };
}

export function checkpointSignatureValid(publicKey: KeyObject, cp: SignedCheckpoint): boolean {
  const { signature, ...body } = cp;
  try {
    return verify(null, checkpointMessage(body), publicKey, Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}

export function parseSignedCheckpoint(text: string): SignedCheckpoint | undefined {
  try {
    const v = JSON.parse(text) as Partial<SignedCheckpoint>;
    if (
      v.type === 'ward.audit.checkpoint.v1' && Number.isSafeInteger(v.treeSize) && typeof v.rootHash === 'string' &&
      typeof v.chainHash === 'string' && typeof v.time === 'string' && typeof v.keyId === 'string' &&
      typeof v.signature === 'string' && Array.isArray(v.frontier) && v.frontier.every((h) => typeof h === 'string' && /^[0-9a-f]{64}$/.test(h))
    ) {
      return v as SignedCheckpoint;
    }
  } catch {
    // fall through: not a checkpoint
  }
  return undefined;
}

export function loadPrivateKey(pem: string): KeyObject {
  return createPrivateKey(pem);
}

export function loadPublicKey(pem: string): KeyObject {
  return createPublicKey(pem);
}

/** The newest checkpoint (largest tree) whose signature is valid for `publicKey`. */
export function newestValidCheckpoint(checkpoints: readonly SignedCheckpoint[], publicKey: KeyObject): SignedCheckpoint | undefined {
  const keyId = keyIdOf(publicKey);
  let best: SignedCheckpoint | undefined;
  for (const cp of checkpoints) {
    if (cp.keyId !== keyId || (best !== undefined && cp.treeSize <= best.treeSize)) continue;
    if (checkpointSignatureValid(publicKey, cp)) best = cp;
  }
  return best;
}
