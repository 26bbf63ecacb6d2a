import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MapForest, mapHashOf, mapKey, proveMap, updateMap, verifyMapProof, type MapNode,
} from '../../src/ledger/index.js';

// The flat tree (map-flat.ts) against the object tree (map-tree.ts), whose roots the map tests check against
// the definition: same roots, same proofs, for every version it says it holds, through forward updates,
// retries from the base, and restarts from empty.

const key = (n: number): Uint8Array => mapKey(`k${n}`);
const keysOf = (ups: { k: number }[]) => {
  const out = new Uint8Array(32 * ups.length);
  ups.forEach((u, i) => out.set(key(u.k), 32 * i));
  return out;
};

const batchArb = fc.array(fc.record({ k: fc.integer({ min: 0, max: 80 }), i: fc.integer({ min: 0, max: 2 ** 40 }) }), { maxLength: 14 });
/** An operation: a forward update, a retry of the latest update from its base, or a restart from empty. */
const opArb = fc.record({ kind: fc.constantFrom('forward', 'forward', 'forward', 'retry', 'restart'), batch: batchArb });

function countNodes(n: MapNode | null): number {
  if (n === null) return 0;
  return n.leaf ? 1 : 1 + countNodes(n.left) + countNodes(n.right);
}

interface Version { size: number; tree: MapNode | null }

describe('the flat subject map tree', () => {
  it('sorts a large batch by radix (keys sharing a 32-bit prefix, keys given twice) into the object tree\'s root', () => {
    fc.assert(fc.property(fc.integer({ min: 4096, max: 6000 }), fc.integer({ min: 0, max: 2 ** 31 }), (n, seed) => {
      const keys = new Uint8Array(32 * n);
      const indexes: number[] = [];
      for (let i = 0; i < n; i++) {
        // Every 7th key shares the first 4 bytes with the one before (ties go to the full comparison); every 11th
        // repeats an earlier key with a new index (the last one given counts).
        const k = i % 11 === 10 ? key(seed + i - 5) : key(seed + i);
        if (i % 7 === 6) k.set(keys.subarray(32 * (i - 1), 32 * (i - 1) + 4), 0);
        keys.set(k, 32 * i);
        indexes.push(i);
      }
      const ups = indexes.map((i) => ({ key: keys.slice(32 * i, 32 * i + 32), index: i }));
      const root = new MapForest().apply(0, n, keys, indexes);
      expect(root).toEqual(mapHashOf(updateMap(null, ups)));
    }), { numRuns: 4 });
  });

  it('holds the same trees as the object tree, through updates, retries and restarts', () => {
    fc.assert(fc.property(fc.array(opArb, { maxLength: 12 }), fc.array(fc.integer({ min: 0, max: 90 }), { minLength: 1, maxLength: 4 }), (ops, probes) => {
      const forest = new MapForest();
      let base: Version = { size: 0, tree: null };
      let cur: Version = { size: 0, tree: null };
      let size = 0;
      for (const op of ops) {
        const from = op.kind === 'retry' ? base : op.kind === 'restart' ? { size: 0, tree: null } : cur;
        const ups = op.batch.map((u) => ({ key: key(u.k), index: u.i }));
        const next: Version = { size: ++size, tree: updateMap(from.tree, ups) };
        const root = forest.apply(from.size, next.size, keysOf(op.batch), op.batch.map((u) => u.i));
        expect(root).toEqual(mapHashOf(next.tree));
        base = from;
        cur = next;
        for (const v of [base, cur]) {
          expect(forest.has(v.size)).toBe(true);
          expect(forest.root(v.size)).toEqual(mapHashOf(v.tree));
          for (const k of probes) {
            const proof = forest.prove(v.size, key(k));
            expect(proof).toEqual(proveMap(v.tree, key(k)));
            const want = verifyMapProof(mapHashOf(v.tree), proof);
            expect(forest.lookup(v.size, key(k)) ?? null).toBe(want);
          }
        }
      }
    }));
  });

  it('refuses sizes it does not hold, and a bad update changes nothing', () => {
    const forest = new MapForest();
    forest.apply(0, 3, keysOf([{ k: 1 }, { k: 2 }]), [0, 2]);
    const r5 = forest.apply(3, 5, keysOf([{ k: 3 }]), [4]);
    expect(() => forest.apply(4, 6, keysOf([{ k: 4 }]), [5])).toThrow(/size 4 is not in memory/);
    expect(() => forest.prove(4, key(1))).toThrow(/not in memory/);
    expect(() => forest.apply(5, 6, keysOf([{ k: 4 }, { k: 5 }]), [5, -1])).toThrow(/non-negative integer/);
    expect(() => forest.apply(5, 6, keysOf([{ k: 4 }]), [2 ** 53])).toThrow(/non-negative integer/);
    expect(() => forest.apply(5, 6, new Uint8Array(31), [5])).toThrow(/32-byte key/);
    // Both versions are still there, untouched.
    expect(forest.root(5)).toEqual(r5);
    expect(forest.lookup(3, key(2))).toBe(2);
    expect(forest.lookup(3, key(3))).toBeUndefined();
    expect(forest.lookup(5, key(3))).toBe(4);
  });

  it('frees what a version no longer shares: memory stays the live tree', () => {
    const forest = new MapForest();
    const n = 2000;
    const all = Array.from({ length: n }, (_, k) => ({ k }));
    forest.apply(0, n, keysOf(all), all.map((u) => u.k));
    const full = forest.stats;
    // Exactly the object tree's nodes (a subtree of two or more leaves is a node even with one side empty).
    const live = countNodes(updateMap(null, all.map((u) => ({ key: key(u.k), index: u.k }))));
    expect(full.nodes).toBe(live);
    expect(full.keys).toBe(n);
    let size = n;
    for (let round = 0; round < 300; round++) {
      const batch = Array.from({ length: 10 }, (_, j) => ({ k: (round * 37 + j * 101) % n }));
      const b = size;
      forest.apply(b, ++size, keysOf(batch), batch.map(() => size));
      // Retry every third batch from its base, as a rolled-back transaction does.
      if (round % 3 === 0) forest.apply(b, size, keysOf(batch), batch.map(() => size));
    }
    // Two versions of the same shape (no key was added), sharing all but one batch's paths (10 keys × ~12 levels).
    const after = forest.stats;
    expect(after.keys).toBe(n);
    expect(after.nodes).toBeGreaterThan(live);
    expect(after.nodes).toBeLessThan(live + 10 * 16);
  });
});
