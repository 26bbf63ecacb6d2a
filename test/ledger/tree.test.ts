import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  EMPTY_ROOT, TreeBuilder, appendLeaves, consistencyProof, consistencyProofPlan, frontierIndexes, inclusionProof,
  inclusionProofPlan, leafHash, nodeHash, rootFromFrontier, rootOfLeaves, splitStoredHashIndex, storedHashCount,
  storedHashIndex, treeRoot, treeRootPlan, type Hash,
} from '../../src/ledger/index.js';
import {
  MERKLE_VECTORS, REFERENCE_LEAVES, REFERENCE_ROOTS, expectEvidentError, makeLeaves, readProbe, referenceRoot, toB64,
} from './helpers.js';

const toHex = (h: Uint8Array): string => Buffer.from(h).toString('hex');

/** Appends `leaves` in batches of the given sizes (cycled); returns stored hashes and the roots seen. */
function build(leaves: readonly Hash[], batches: readonly number[]) {
  const stored = new Map<number, Hash>();
  const roots = new Map<number, Hash>();
  let size = 0;
  let frontier: Hash[] = [];
  for (let b = 0; size < leaves.length; b++) {
    const batch = leaves.slice(size, size + batches[b % batches.length]!);
    const result = appendLeaves(size, frontier, batch);
    // Ascending, consecutive from the first new leaf's index, and never overwriting.
    result.stored.forEach((s, i) => {
      expect(s.index).toBe(storedHashIndex(0, size) + i);
      expect(stored.has(s.index)).toBe(false);
      stored.set(s.index, s.hash);
    });
    size = result.size;
    frontier = result.frontier;
    roots.set(size, result.root);
    expect(frontier.map(toHex)).toEqual(frontierIndexes(size).map((i) => toHex(stored.get(i)!)));
  }
  return { stored, roots, frontier };
}

describe('golang.org/x/mod/sumdb/tlog stored-hash layout', () => {
  it('numbers hashes as tlog does', () => {
    // (level, n) -> index for the first records, from tlog's documentation of the layout.
    const expected: [number, number, number][] = [
      [0, 0, 0], [0, 1, 1], [1, 0, 2], [0, 2, 3], [0, 3, 4], [1, 1, 5], [2, 0, 6], [0, 4, 7], [0, 5, 8], [1, 2, 9],
    ];
    for (const [level, n, index] of expected) {
      expect(storedHashIndex(level, n)).toBe(index);
      expect(splitStoredHashIndex(index)).toEqual({ level, n });
    }
    expect([0, 1, 2, 3, 4, 5, 8].map(storedHashCount)).toEqual([0, 1, 3, 4, 7, 8, 15]);
  });

  it('splitStoredHashIndex inverts storedHashIndex', () => {
    for (let index = 0; index < 5000; index++) {
      const { level, n } = splitStoredHashIndex(index);
      expect(storedHashIndex(level, n)).toBe(index);
    }
    const big = 2 ** 45 + 12345;
    expect(storedHashIndex(0, splitStoredHashIndex(storedHashIndex(0, big)).n)).toBe(storedHashIndex(0, big));
  });

  it('stores exactly storedHashCount(n) hashes, each the MTH of its perfect subtree', () => {
    const leaves = makeLeaves(70);
    const { stored } = build(leaves, [1, 3, 7, 2, 16]);
    expect(stored.size).toBe(storedHashCount(70));
    for (const [index, hash] of stored) {
      const { level, n } = splitStoredHashIndex(index);
      const width = 2 ** level;
      expect(toHex(hash)).toBe(toHex(referenceRoot(leaves.slice(n * width, (n + 1) * width))));
    }
  });

  it('refuses bad arguments', () => {
    expectEvidentError(() => storedHashIndex(-1, 0), 'INVALID_ARGUMENT');
    expectEvidentError(() => storedHashIndex(0, 1.5), 'INVALID_ARGUMENT');
    expectEvidentError(() => storedHashIndex(0, 2 ** 53), 'INVALID_ARGUMENT');
    expectEvidentError(() => storedHashIndex(40, 2 ** 20), 'INVALID_ARGUMENT');
    expectEvidentError(() => appendLeaves(3, [EMPTY_ROOT], []), 'INVALID_ARGUMENT');
    expectEvidentError(() => appendLeaves(0, [], [new Uint8Array(31)]), 'INVALID_ARGUMENT');
    expectEvidentError(() => appendLeaves(Number.NaN, [], []), 'INVALID_ARGUMENT');
  });
});

describe('the 8-leaf reference tree', () => {
  it('has the README roots through TreeBuilder, rootOfLeaves and the recursive definition', () => {
    const builder = new TreeBuilder();
    expect(toHex(builder.root())).toBe(toHex(EMPTY_ROOT));
    REFERENCE_LEAVES.forEach((leaf, i) => {
      builder.append(leaf);
      expect(builder.size).toBe(i + 1);
      expect(toHex(builder.root())).toBe(REFERENCE_ROOTS[i]);
      expect(toHex(rootFromFrontier(builder.frontier()))).toBe(REFERENCE_ROOTS[i]);
      expect(toHex(rootOfLeaves(REFERENCE_LEAVES.slice(0, i + 1)))).toBe(REFERENCE_ROOTS[i]);
      expect(toHex(referenceRoot(REFERENCE_LEAVES.slice(0, i + 1)))).toBe(REFERENCE_ROOTS[i]);
    });
    expect(toHex(EMPTY_ROOT)).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(toHex(rootOfLeaves([]))).toBe(toHex(EMPTY_ROOT));
    expect(toHex(rootFromFrontier([]))).toBe(toHex(EMPTY_ROOT));
  });

  it.each([[[1]], [[2]], [[3]], [[1, 2, 3, 2]], [[3, 5]], [[8]], [[5, 1, 2]], [[7, 1]]])(
    'appendLeaves in batches %j gives the README roots',
    (batches) => {
      const { stored, roots } = build(REFERENCE_LEAVES, batches);
      for (const [size, root] of roots) expect(toHex(root)).toBe(REFERENCE_ROOTS[size - 1]);
      for (let size = 0; size <= 8; size++) {
        const root = treeRoot(size, stored);
        expect(toHex(root)).toBe(size === 0 ? toHex(EMPTY_ROOT) : REFERENCE_ROOTS[size - 1]);
        expect(treeRootPlan(size).length).toBeLessThanOrEqual(4);
      }
    },
  );

  const { stored } = build(REFERENCE_LEAVES, [3]);

  it.each([0, 1, 2, 3, 4])('inclusion proof %i matches the happy-path vector', (c) => {
    const probe = readProbe(path.join(MERKLE_VECTORS, `inclusion/${c}/happy-path.json`));
    const index = probe.leafIdx as number;
    const size = probe.treeSize as number;
    expect(toB64(REFERENCE_LEAVES[index]!)).toBe(probe.leafHash);
    const proof = inclusionProof(index, size, stored);
    expect(proof.map(toB64)).toEqual((probe.proof as string[] | null) ?? []);
    expect(inclusionProofPlan(index, size).every((i) => stored.has(i))).toBe(true);
  });

  it.each([0, 1, 2, 3, 4])('consistency proof %i matches the happy-path vector', (c) => {
    const probe = readProbe(path.join(MERKLE_VECTORS, `consistency/${c}/happy-path.json`));
    const from = probe.size1 as number;
    const to = probe.size2 as number;
    expect(consistencyProof(from, to, stored).map(toB64)).toEqual((probe.proof as string[] | null) ?? []);
  });

  it('refuses bad proof requests and reports missing stored hashes as TAMPERED', () => {
    expectEvidentError(() => inclusionProofPlan(8, 8), 'INVALID_ARGUMENT');
    expectEvidentError(() => inclusionProofPlan(0, 0), 'INVALID_ARGUMENT');
    expectEvidentError(() => inclusionProofPlan(-1, 3), 'INVALID_ARGUMENT');
    expectEvidentError(() => consistencyProofPlan(5, 4), 'INVALID_ARGUMENT');
    expectEvidentError(() => consistencyProofPlan(1, 2 ** 53), 'INVALID_ARGUMENT');
    expectEvidentError(() => treeRootPlan(0.5), 'INVALID_ARGUMENT');
    expect(consistencyProofPlan(0, 8)).toEqual([]);
    expect(consistencyProof(0, 8, stored)).toEqual([]);
    expect(consistencyProof(8, 8, stored)).toEqual([]);
    const partial = new Map(stored);
    partial.delete(inclusionProofPlan(5, 8)[1]!);
    expectEvidentError(() => inclusionProof(5, 8, partial), 'TAMPERED');
    expectEvidentError(() => treeRoot(8, new Map()), 'TAMPERED');
    const malformed = new Map(stored);
    malformed.set(treeRootPlan(7)[0]!, new Uint8Array(3));
    expectEvidentError(() => treeRoot(7, malformed), 'TAMPERED');
  });

  it('hashes leaves and nodes with RFC 9162 domain separation', () => {
    expect(toHex(leafHash(new Uint8Array()))).toBe(REFERENCE_ROOTS[0]);
    expect(toHex(nodeHash(REFERENCE_LEAVES[0]!, REFERENCE_LEAVES[1]!))).toBe(REFERENCE_ROOTS[1]);
  });
});
