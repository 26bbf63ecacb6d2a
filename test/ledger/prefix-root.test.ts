import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { appendLeaves, consistencyProof, prefixRootFromConsistencyProof, rootOfLeaves, type Hash } from '../../src/ledger/index.js';
import { expectEvidentError, flipBit, makeLeaves } from './helpers.js';

const isPow2 = (x: number): boolean => (x & (x - 1)) === 0;

describe('prefixRootFromConsistencyProof: the prefix root a proof commits to, given the signed root', () => {
  it('yields MTH(D[0:m]) for every m that is not a power of two, and nothing for powers of two', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 300 }).chain((n) => fc.tuple(fc.constant(n), fc.integer({ min: 1, max: n - 1 }), fc.nat())), ([n, m, salt]) => {
        const leaves = makeLeaves(n, salt);
        const stored = new Map<number, Hash>(appendLeaves(0, [], leaves).stored.map((x) => [x.index, x.hash]));
        const proof = consistencyProof(m, n, stored);
        const root = rootOfLeaves(leaves);
        const got = prefixRootFromConsistencyProof(m, n, proof, root);
        if (isPow2(m)) expect(got).toBeUndefined();
        else expect(Buffer.from(got!).toString('hex')).toBe(Buffer.from(rootOfLeaves(leaves.slice(0, m))).toString('hex'));
      }),
      { numRuns: 300 },
    );
  });

  it('refuses a proof that does not lead to the signed root (a flipped bit anywhere)', () => {
    const leaves = makeLeaves(13, 1);
    const stored = new Map<number, Hash>(appendLeaves(0, [], leaves).stored.map((x) => [x.index, x.hash]));
    const proof = consistencyProof(5, 13, stored);
    for (let i = 0; i < proof.length; i++) {
      const bad = proof.map((h, j) => (j === i ? flipBit(h, 3) : h));
      expectEvidentError(() => prefixRootFromConsistencyProof(5, 13, bad, rootOfLeaves(leaves)), 'VERIFICATION_FAILED');
    }
    expect(prefixRootFromConsistencyProof(0, 13, [], rootOfLeaves(leaves))).toBeUndefined();
    expect(prefixRootFromConsistencyProof(13, 13, [], rootOfLeaves(leaves))).toBeUndefined();
  });
});
