import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import {
  EMPTY_TREE_ROOT, MerkleFrontier, inclusionProof, leafHash, leafHashHex, nodeHash, rootFromLeafHashes, verifyInclusion,
} from './merkle.js';
import { chainHash, chainHashHex } from './hash-chain.js';

// Reference inputs used by Certificate Transparency's RFC 6962 test suites (RFC 9162 keeps the same hashing).
const inputs = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map((h) =>
  Buffer.from(h, 'hex'),
);

/** The recursive definition from RFC 9162 2.1.1, written independently as an oracle. */
function mth(leaves: Buffer[]): Buffer {
  if (leaves.length === 0) return createHash('sha256').digest();
  if (leaves.length === 1) return leaves[0] as Buffer;
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return nodeHash(mth(leaves.slice(0, k)), mth(leaves.slice(k)));
}

describe('RFC 9162 Merkle tree', () => {
  it('matches the published empty, one-leaf and eight-leaf roots', () => {
    expect(EMPTY_TREE_ROOT.toString('hex')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(rootFromLeafHashes([leafHash(inputs[0] as Buffer)]).toString('hex')).toBe(
      '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
    );
    expect(rootFromLeafHashes(inputs.map((b) => leafHash(b))).toString('hex')).toBe(
      '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
    );
  });

  it('frontier roots equal the recursive definition for every size up to 130', () => {
    const leaves = Array.from({ length: 130 }, (_, i) => leafHash(`entry-${i}`));
    const frontier = new MerkleFrontier();
    for (let n = 0; n < leaves.length; n++) {
      expect(frontier.root().equals(mth(leaves.slice(0, n)))).toBe(true);
      frontier.push((leaves[n] as Buffer).toString('hex'));
      expect(frontier.toHex().length).toBe((n + 1).toString(2).replace(/0/g, '').length);
    }
  });

  it('inclusion proofs verify for every leaf of every size, and fail when anything is off', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 70 }), fc.nat(), (size, pick) => {
        const leaves = Array.from({ length: size }, (_, i) => leafHash(`e${i}`));
        const root = mth(leaves);
        const index = pick % size;
        const proof = inclusionProof(leaves, index);
        expect(verifyInclusion(leaves[index] as Buffer, index, size, proof, root)).toBe(true);
        expect(verifyInclusion(leafHash('forged'), index, size, proof, root)).toBe(false);
        if (size > 1) {
          expect(verifyInclusion(leaves[index] as Buffer, (index + 1) % size, size, proof, root)).toBe(false);
          const bent = proof.map((p, i) => (i === 0 ? leafHash('x') : p));
          expect(verifyInclusion(leaves[index] as Buffer, index, size, bent, root)).toBe(false);
        }
        // The tree size itself is authenticated by the signed checkpoint; the root binds the rest.
        expect(verifyInclusion(leaves[index] as Buffer, index, size, proof, leafHash('other root'))).toBe(false);
        expect(verifyInclusion(leaves[index] as Buffer, index, size, [...proof, leafHash('extra')], root)).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it('proves inclusion against an older, smaller tree', () => {
    const leaves = Array.from({ length: 50 }, (_, i) => leafHash(`e${i}`));
    const proof = inclusionProof(leaves, 7, 20);
    expect(verifyInclusion(leaves[7] as Buffer, 7, 20, proof, mth(leaves.slice(0, 20)))).toBe(true);
  });

  it('rejects out-of-range indexes', () => {
    expect(() => inclusionProof([leafHash('a')], 1)).toThrow(RangeError);
    expect(verifyInclusion(leafHash('a'), 0, 0, [], EMPTY_TREE_ROOT)).toBe(false);
  });
});

describe('joining chunk trees (parallel verify)', () => {
  it('aligned chunks built as separate trees join to the same root at every size', async () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 300 }), fc.integer({ min: 0, max: 5 }), (n, widthLog) => {
        const width = 2 ** widthLog;
        const leaves = Array.from({ length: n }, (_, i) => leafHash(`c${i}`).toString('hex'));
        const global = new MerkleFrontier();
        for (let start = 0; start < n; start += width) {
          const chunk = new MerkleFrontier();
          for (let i = start; i < Math.min(start + width, n); i++) {
            chunk.push(leaves[i] as string);
            const probe = global.clone();
            probe.pushFrontier(chunk.toHex(), chunk.size);
            expect(probe.root().equals(mth(leaves.slice(0, i + 1).map((h) => Buffer.from(h, 'hex'))))).toBe(true);
          }
          global.pushFrontier(chunk.toHex(), chunk.size);
        }
        expect(global.size).toBe(n);
      }),
      { numRuns: 60 },
    );
  });

  it('refuses a subtree at an unaligned position', async () => {
    const f = new MerkleFrontier();
    f.push(leafHash('a').toString('hex'));
    expect(() => f.pushSubtree(leafHash('b').toString('hex'), 1)).toThrow(/aligned/);
  });
});

describe('hex forms used by verify', () => {
  it('leafHashHex and chainHashHex equal the Buffer definitions', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (a, b) => {
        expect(leafHashHex(a)).toBe(leafHash(a).toString('hex'));
        const prev = leafHash(b);
        expect(chainHashHex(prev.toString('hex'), leafHashHex(a))).toBe(chainHash(prev, leafHash(a)).toString('hex'));
      }),
      { numRuns: 200 },
    );
  });
});
