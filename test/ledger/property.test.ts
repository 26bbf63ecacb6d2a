import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  appendLeaves, consistencyProof, consistencyProofPlan, inclusionProof, inclusionProofPlan, rootFromInclusionProof,
  rootOfLeaves, treeRoot, treeRootPlan, verifyConsistency, verifyInclusion, type Hash,
} from '../../src/ledger/index.js';
import { expectEvidentError, flipBit, makeLeaves } from './helpers.js';

const toHex = (h: Uint8Array): string => Buffer.from(h).toString('hex');

/** A random tree: n leaves appended in random batch sizes; its stored hashes in a Map. */
function buildTree(n: number, batchSizes: number[], salt: number) {
  const leaves = makeLeaves(n, salt);
  const stored = new Map<number, Hash>();
  let size = 0;
  let frontier: Hash[] = [];
  for (let b = 0; size < n; b++) {
    const batch = leaves.slice(size, size + batchSizes[b % batchSizes.length]!);
    const result = appendLeaves(size, frontier, batch);
    for (const s of result.stored) stored.set(s.index, s.hash);
    size = result.size;
    frontier = result.frontier;
  }
  return { leaves, stored };
}

/** Tight O(log n) bound on stored-hash reads: ceil(log2 n) path hashes plus one split subtree. */
const bound = (n: number): number => 2 * Math.ceil(Math.log2(Math.max(n, 2))) + 2;

const treeArb = fc.record({
  n: fc.integer({ min: 1, max: 3000 }),
  batches: fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 8 }),
  salt: fc.nat(),
  picks: fc.array(fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true })), {
    minLength: 8,
    maxLength: 8,
  }),
  bit: fc.nat({ max: 255 }),
});

describe('proofs over random trees', () => {
  it('every inclusion and consistency proof verifies and every single-bit change breaks it', () => {
    fc.assert(
      fc.property(treeArb, ({ n, batches, salt, picks, bit }) => {
        const { leaves, stored } = buildTree(n, batches, salt);
        const rootCache = new Map<number, Hash>();
        const rootAt = (size: number): Hash => {
          let root = rootCache.get(size);
          if (!root) {
            expect(treeRootPlan(size).length).toBeLessThanOrEqual(bound(size));
            root = treeRoot(size, stored);
            rootCache.set(size, root);
          }
          return root;
        };
        expect(toHex(rootAt(n))).toBe(toHex(rootOfLeaves(leaves)));

        for (const [a, b] of picks) {
          // Inclusion: a random size <= n and a random index below it.
          const size = 1 + Math.floor(a * (n - 1 + 0.999));
          const index = Math.floor(b * (size - 0.001));
          const plan = inclusionProofPlan(index, size);
          expect(plan.length).toBeLessThanOrEqual(bound(size));
          const proof = inclusionProof(index, size, stored);
          const root = rootAt(size);
          const leaf = leaves[index]!;
          verifyInclusion(index, size, leaf, proof, root);
          expect(toHex(rootFromInclusionProof(index, size, leaf, proof))).toBe(toHex(root));
          proof.forEach((_, i) => {
            const bad = proof.map((h, j) => (i === j ? flipBit(h, bit) : h));
            expectEvidentError(() => verifyInclusion(index, size, leaf, bad, root), 'VERIFICATION_FAILED');
          });
          expectEvidentError(() => verifyInclusion(index, size, flipBit(leaf, bit), proof, root), 'VERIFICATION_FAILED');
          expectEvidentError(() => verifyInclusion(index, size, leaf, proof, flipBit(root, bit)), 'VERIFICATION_FAILED');
          if (proof.length > 0) {
            expectEvidentError(() => verifyInclusion(index, size, leaf, proof.slice(1), root), 'VERIFICATION_FAILED');
          }
          expectEvidentError(() => verifyInclusion(index, size, leaf, [...proof, root], root), 'VERIFICATION_FAILED');

          // Consistency: random from <= to <= n.
          const to = size;
          const from = 1 + Math.floor(b * (to - 0.001));
          expect(consistencyProofPlan(from, to).length).toBeLessThanOrEqual(bound(to));
          const cproof = consistencyProof(from, to, stored);
          const root1 = rootAt(from);
          verifyConsistency(from, to, cproof, root1, root);
          cproof.forEach((_, i) => {
            const bad = cproof.map((h, j) => (i === j ? flipBit(h, bit) : h));
            expectEvidentError(() => verifyConsistency(from, to, bad, root1, root), 'VERIFICATION_FAILED');
          });
          expectEvidentError(() => verifyConsistency(from, to, cproof, flipBit(root1, bit), root), 'VERIFICATION_FAILED');
          expectEvidentError(() => verifyConsistency(from, to, cproof, root1, flipBit(root, bit)), 'VERIFICATION_FAILED');
          if (from < to) {
            expectEvidentError(() => verifyConsistency(from, to, cproof.slice(0, -1), root1, root), 'VERIFICATION_FAILED');
          }
        }
      }),
      { numRuns: 60 },
    );
  });

  it('proofs from all stored hashes agree with proofs of a freshly built tree of that size', () => {
    // A tree of 300 leaves: the proofs for size m from the big tree's store equal those from a store
    // holding only the first m leaves (stored hashes never change once written).
    const { leaves, stored } = buildTree(300, [17, 1, 64], 7);
    for (const m of [1, 2, 3, 31, 32, 33, 127, 128, 200, 300]) {
      const small = buildTree(m, [m], 7).stored;
      expect(toHex(treeRoot(m, small))).toBe(toHex(treeRoot(m, stored)));
      for (const i of [0, Math.floor(m / 2), m - 1]) {
        expect(inclusionProof(i, m, small).map(toHex)).toEqual(inclusionProof(i, m, stored).map(toHex));
      }
      expect(toHex(rootOfLeaves(leaves.slice(0, m)))).toBe(toHex(treeRoot(m, stored)));
    }
  });
});
