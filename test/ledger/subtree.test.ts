import { describe, expect, it } from 'vitest';
import {
  EMPTY_ROOT, appendLeaves, consistencyProof, consistencyProofPlan, inclusionProof, inclusionProofPlan,
  verifyConsistency, verifySubtreeConsistency, verifySubtreeInclusion, type Hash,
} from '../../src/ledger/index.js';
import { expectEvidentError, flipBit, makeLeaves, referenceRoot } from './helpers.js';

const toHex = (h: Uint8Array): string => Buffer.from(h).toString('hex');

const bitCeil = (n: number): number => (n <= 1 ? 1 : 2 ** Math.ceil(Math.log2(n)));
const isValidSubtree = (start: number, end: number): boolean => start < end && start % bitCeil(end - start) === 0;

/**
 * SUBTREE_PROOF(start, end, D_n) of the Merkle Tree Certificates draft (§4.4.1 / Appendix B), written
 * independently of the library from the recursive definition, over naive MTH.
 */
function subtreeProof(start: number, end: number, leaves: readonly Hash[], known = true): Hash[] {
  const n = leaves.length;
  if (start === 0 && end === n) return known ? [] : [referenceRoot(leaves)];
  let k = 1;
  while (k * 2 < n) k *= 2;
  if (end <= k) return [...subtreeProof(start, end, leaves.slice(0, k), known), referenceRoot(leaves.slice(k))];
  if (k <= start) return [...subtreeProof(start - k, end - k, leaves.slice(k), known), referenceRoot(leaves.slice(0, k))];
  return [...subtreeProof(0, end - k, leaves.slice(k), false), referenceRoot(leaves.slice(0, k))];
}

describe('subtree proofs (Merkle Tree Certificates draft)', () => {
  const leaves = makeLeaves(40, 3);

  it('verifies every subtree consistency proof of every tree up to 40 leaves, and rejects one-bit changes', () => {
    let checked = 0;
    for (let n = 1; n <= 40; n++) {
      const tree = leaves.slice(0, n);
      const root = referenceRoot(tree);
      for (let end = 1; end <= n; end++) {
        for (let start = 0; start < end; start++) {
          if (!isValidSubtree(start, end)) {
            expectEvidentError(() => verifySubtreeConsistency(start, end, n, [], EMPTY_ROOT, root), 'INVALID_ARGUMENT');
            continue;
          }
          const node = referenceRoot(tree.slice(start, end));
          const proof = subtreeProof(start, end, tree);
          verifySubtreeConsistency(start, end, n, proof, node, root);
          checked++;
          expectEvidentError(() => verifySubtreeConsistency(start, end, n, proof, flipBit(node, 5), root), 'VERIFICATION_FAILED');
          expectEvidentError(() => verifySubtreeConsistency(start, end, n, proof, node, flipBit(root, 9)), 'VERIFICATION_FAILED');
          proof.forEach((_, i) => {
            const bad = proof.map((h, j) => (i === j ? flipBit(h, 200) : h));
            expectEvidentError(() => verifySubtreeConsistency(start, end, n, bad, node, root), 'VERIFICATION_FAILED');
          });
          expectEvidentError(() => verifySubtreeConsistency(start, end, n, [...proof, root], node, root), 'VERIFICATION_FAILED');
          if (start === 0) {
            // With start = 0, the draft's proof is RFC 9162's consistency proof.
            verifyConsistency(end, n, proof, node, root);
          }
        }
      }
    }
    expect(checked).toBeGreaterThan(500);
  });

  it('agrees with consistencyProof from stored hashes for start = 0', () => {
    const stored = new Map<number, Hash>();
    for (const s of appendLeaves(0, [], leaves).stored) stored.set(s.index, s.hash);
    for (let n = 1; n <= 40; n++) {
      for (let m = 1; m <= n; m++) {
        expect(consistencyProof(m, n, stored).map(toHex)).toEqual(subtreeProof(0, m, leaves.slice(0, n)).map(toHex));
      }
    }
  });

  it('verifies subtree inclusion proofs for every leaf of every valid subtree', () => {
    const stored = new Map<number, Hash>();
    for (const s of appendLeaves(0, [], leaves).stored) stored.set(s.index, s.hash);
    for (let end = 1; end <= 40; end++) {
      for (let start = 0; start < end; start++) {
        if (!isValidSubtree(start, end)) continue;
        const sub = leaves.slice(start, end);
        const subRoot = referenceRoot(sub);
        // The subtree's own tree of end - start leaves: proofs from a store built from those leaves.
        const subStore = new Map<number, Hash>();
        for (const s of appendLeaves(0, [], sub).stored) subStore.set(s.index, s.hash);
        for (let index = start; index < end; index++) {
          const proof = inclusionProof(index - start, end - start, subStore);
          verifySubtreeInclusion(index, start, end, leaves[index]!, proof, subRoot);
          expectEvidentError(() => verifySubtreeInclusion(index, start, end, leaves[index]!, proof, flipBit(subRoot, 1)), 'VERIFICATION_FAILED');
        }
        expectEvidentError(() => verifySubtreeInclusion(end, start, end, leaves[0]!, [], subRoot), 'INVALID_ARGUMENT');
      }
    }
  });

  it('treats the empty subtree as part of every tree', () => {
    verifySubtreeConsistency(3, 3, 8, [], EMPTY_ROOT, leaves[0]!);
    expectEvidentError(() => verifySubtreeConsistency(3, 3, 8, [EMPTY_ROOT], EMPTY_ROOT, leaves[0]!), 'VERIFICATION_FAILED');
    expectEvidentError(() => verifySubtreeConsistency(3, 3, 8, [], leaves[0]!, leaves[0]!), 'VERIFICATION_FAILED');
    expectEvidentError(() => verifySubtreeConsistency(3, 3, 2, [], EMPTY_ROOT, leaves[0]!), 'INVALID_ARGUMENT');
  });

  it('keeps every proof plan within 2*ceil(log2 n)+2 stored reads', () => {
    for (let n = 1; n <= 600; n++) {
      const bound = 2 * Math.ceil(Math.log2(Math.max(n, 2))) + 2;
      let worst = 0;
      for (let i = 0; i < n; i++) worst = Math.max(worst, inclusionProofPlan(i, n).length);
      for (let m = 1; m <= n; m++) worst = Math.max(worst, consistencyProofPlan(m, n).length);
      expect(worst).toBeLessThanOrEqual(bound);
    }
  });
});
