/**
 * Merkle tree hashing as specified by RFC 9162 (Certificate Transparency v2) section 2.1:
 *   leaf hash  MTH({d0}) = SHA-256(0x00 || d0)
 *   node hash  SHA-256(0x01 || left || right)
 * The split point for n leaves is the largest power of two smaller than n (2.1.1).
 * Pure functions over Buffers; no I/O.
 */
import { hash } from 'node:crypto';

const LEAF_PREFIX = Buffer.from([0x00]);
const NODE_PREFIX = Buffer.from([0x01]);

export const EMPTY_TREE_ROOT = hash('sha256', Buffer.alloc(0), 'buffer');

export function leafHash(data: Buffer | string): Buffer {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  return hash('sha256', Buffer.concat([LEAF_PREFIX, bytes]), 'buffer');
}

/** The leaf hash of a text entry as hex, hashed from the string directly (verify's hot path). */
export function leafHashHex(body: string): string {
  return hash('sha256', `\u0000${body}`, 'hex');
}

export function nodeHash(left: Buffer, right: Buffer): Buffer {
  return hash('sha256', Buffer.concat([NODE_PREFIX, left, right], 65), 'buffer');
}

/** Largest power of two strictly smaller than n (n >= 2). */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** MTH(D[n]) from the leaf hashes (RFC 9162 2.1.1), bottom-up over a frontier in O(n). */
export function rootFromLeafHashes(leaves: readonly Buffer[]): Buffer {
  const frontier = new MerkleFrontier();
  for (const leaf of leaves) frontier.push(leaf.toString('hex'));
  return frontier.root();
}

/** PATH(m, D[n]) of RFC 9162 2.1.3.1: the inclusion proof for leaf index m in a tree of n leaves. */
export function inclusionProof(leaves: readonly Buffer[], index: number, size: number = leaves.length): Buffer[] {
  if (!Number.isInteger(index) || index < 0 || index >= size || size > leaves.length) {
    throw new RangeError('leaf index outside the tree');
  }
  const path: Buffer[] = [];
  let lo = 0;
  let n = size;
  let m = index;
  // Walk down from the root, collecting the sibling subtree root at each level (top-down),
  // then reverse so the proof lists siblings from the leaf upwards as RFC 9162 does.
  while (n > 1) {
    const k = splitPoint(n);
    if (m < k) {
      path.push(rootFromLeafHashes(leaves.slice(lo + k, lo + n)));
      n = k;
    } else {
      path.push(rootFromLeafHashes(leaves.slice(lo, lo + k)));
      lo += k;
      m -= k;
      n -= k;
    }
  }
  return path.reverse();
}

/** Verify an inclusion proof (RFC 9162 2.1.3.2). Returns false on any mismatch. */
export function verifyInclusion(leaf: Buffer, index: number, size: number, proof: readonly Buffer[], root: Buffer): boolean {
  if (!Number.isInteger(index) || !Number.isInteger(size) || index < 0 || index >= size) return false;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) return false;
    if (fn & 1 || fn === sn) {
      r = nodeHash(p, r);
      if (!(fn & 1)) {
        while (fn !== 0 && !(fn & 1)) {
          fn >>>= 1;
          sn >>>= 1;
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn >>>= 1;
    sn >>>= 1;
  }
  return sn === 0 && r.equals(root);
}

/** Scratch buffer for node hashes: one allocation, not one per node (hot path of verify). */
const scratch = Buffer.alloc(65);
scratch[0] = 0x01;

/** nodeHash over hex strings, returning hex: hex output avoids a Buffer allocation per hash. */
export function nodeHashHex(left: string, right: string): string {
  scratch.write(left, 1, 32, 'hex');
  scratch.write(right, 33, 32, 'hex');
  return hash('sha256', scratch, 'hex');
}

/**
 * A mutable frontier for streaming use (writer and verifier): O(1) amortized per leaf.
 * Nodes are kept as hex strings, the form they are stored and compared in.
 */
export class MerkleFrontier {
  private nodes: string[];
  private count: number;

  constructor(nodes: readonly string[] = [], size = 0) {
    if (nodes.length !== popcount(size)) throw new Error('merkle frontier does not match its size');
    this.nodes = nodes.slice();
    this.count = size;
  }

  get size(): number {
    return this.count;
  }

  /** Append one leaf hash (hex). */
  push(leafHex: string): void {
    let node = leafHex;
    let s = this.count;
    while (s & 1) {
      node = nodeHashHex(this.nodes.pop() as string, node);
      s >>>= 1;
    }
    this.nodes.push(node);
    this.count += 1;
  }

  root(): Buffer {
    if (this.nodes.length === 0) return EMPTY_TREE_ROOT;
    let acc = this.nodes[this.nodes.length - 1] as string;
    for (let i = this.nodes.length - 2; i >= 0; i--) acc = nodeHashHex(this.nodes[i] as string, acc);
    return Buffer.from(acc, 'hex');
  }

  /**
   * Append a whole perfect subtree of 2^height leaves, given its root. Valid only at an aligned
   * position (size a multiple of 2^height), which is how the verifier joins chunks.
   */
  pushSubtree(rootHex: string, height: number): void {
    const width = 2 ** height;
    if (this.count % width !== 0) throw new Error('merkle subtree is not aligned');
    let node = rootHex;
    let s = this.count / width;
    while (s % 2 === 1) {
      node = nodeHashHex(this.nodes.pop() as string, node);
      s = (s - 1) / 2;
    }
    this.nodes.push(node);
    this.count += width;
  }

  /** Append the frontier of a separately built tree of `size` leaves (aligned, as above). */
  pushFrontier(nodes: readonly string[], size: number): void {
    let i = 0;
    for (let bit = 2 ** Math.floor(Math.log2(Math.max(size, 1))); bit >= 1; bit /= 2) {
      if (Math.floor(size / bit) % 2 === 1) this.pushSubtree(nodes[i++] as string, Math.log2(bit));
    }
  }

  clone(): MerkleFrontier {
    return new MerkleFrontier(this.nodes, this.count);
  }

  toHex(): string[] {
    return this.nodes.slice();
  }

  static fromHex(hexes: readonly string[], size: number): MerkleFrontier {
    return new MerkleFrontier(hexes, size);
  }
}

function popcount(n: number): number {
  let c = 0;
  for (let v = n; v > 0; v = Math.floor(v / 2)) c += v % 2;
  return c;
}
