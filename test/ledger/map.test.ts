import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MAP_EMPTY, mapExtension, mapHashOf, mapKey, mapLeafHash, mapLeaves, mapNodeHash, mapProofFromJson, mapProofToJson, mapRootOf,
  lookupMap, proveMap, updateMap, verifyMapProof, type MapNode, type MapProof,
} from '../../src/ledger/index.js';

const key = (n: number): Uint8Array => mapKey(`k${n}`);

/** The reference root: recomputed from scratch from the leaves by the definition (docs/log.md). */
function referenceRoot(leaves: Map<string, number>): Uint8Array {
  const items = [...leaves].map(([k, i]) => ({ key: Buffer.from(k, 'hex'), index: i }));
  const bit = (k: Uint8Array, d: number) => (k[d >> 3]! >> (7 - (d & 7))) & 1;
  const rec = (xs: typeof items, d: number): Uint8Array => {
    if (xs.length === 0) return MAP_EMPTY;
    if (xs.length === 1) return mapLeafHash(new Uint8Array(xs[0]!.key), xs[0]!.index);
    return mapNodeHash(rec(xs.filter((x) => bit(x.key, d) === 0), d + 1), rec(xs.filter((x) => bit(x.key, d) === 1), d + 1));
  };
  return rec(items, 0);
}

/** Batches of (key number, index) updates. */
const batchesArb = fc.array(fc.array(fc.record({ k: fc.integer({ min: 0, max: 60 }), i: fc.integer({ min: 0, max: 2 ** 40 }) }), { maxLength: 12 }), { maxLength: 6 });

function build(batches: { k: number; i: number }[][]): { root: MapNode | null; expected: Map<string, number> } {
  let root: MapNode | null = null;
  const expected = new Map<string, number>();
  for (const b of batches) {
    root = updateMap(root, b.map((u) => ({ key: key(u.k), index: u.i })));
    for (const u of b) expected.set(Buffer.from(key(u.k)).toString('hex'), u.i);
  }
  return { root, expected };
}

function tamper(p: MapProof, choice: number): MapProof | undefined {
  const flip = (h: Uint8Array) => {
    const c = new Uint8Array(h);
    c[choice % 32]! ^= 1 << (choice % 8);
    return c;
  };
  const options: (() => MapProof | undefined)[] = [
    () => (p.siblings.length ? { ...p, siblings: p.siblings.map((s, i) => (i === choice % p.siblings.length ? flip(s) : s)) } : undefined),
    () => (p.siblings.length ? { ...p, siblings: p.siblings.slice(1) } : undefined),
    () => ({ ...p, siblings: [...p.siblings, MAP_EMPTY] }),
    () => (p.leaf ? { ...p, leaf: { ...p.leaf, index: p.leaf.index + 1 } } : { ...p, leaf: { key: p.key, index: choice } }),
    () => (p.leaf ? { ...p, leaf: null } : undefined),
    () => (p.leaf ? { ...p, leaf: { ...p.leaf, key: flip(p.leaf.key) } } : undefined),
  ];
  return options[choice % options.length]!();
}

describe('subject map (compressed sparse Merkle tree)', () => {
  it('has the root of the definition, however the updates are batched', () => {
    fc.assert(fc.property(batchesArb, (batches) => {
      const { root, expected } = build(batches);
      expect(Buffer.from(mapHashOf(root)).toString('hex')).toBe(Buffer.from(referenceRoot(expected)).toString('hex'));
      const one = build([batches.flat()]);
      expect(mapHashOf(one.root)).toEqual(mapHashOf(root));
      expect([...mapLeaves(root)].length).toBe(expected.size);
    }));
  });

  it('proves presence with the latest index and absence of every other key', () => {
    fc.assert(fc.property(batchesArb, fc.integer({ min: 0, max: 80 }), (batches, k) => {
      const { root, expected } = build(batches);
      const proof = proveMap(root, key(k));
      const want = expected.get(Buffer.from(key(k)).toString('hex')) ?? null;
      expect(verifyMapProof(mapHashOf(root), proof)).toBe(want);
      expect(lookupMap(root, key(k)) ?? null).toBe(want);
      // The JSON form round-trips.
      expect(verifyMapProof(mapHashOf(root), mapProofFromJson(JSON.parse(JSON.stringify(mapProofToJson(proof)))))).toBe(want);
    }));
  });

  it('rejects every tampered proof', () => {
    fc.assert(fc.property(batchesArb, fc.integer({ min: 0, max: 80 }), fc.nat(), (batches, k, choice) => {
      const { root } = build(batches);
      const proof = proveMap(root, key(k));
      const bad = tamper(proof, choice);
      fc.pre(bad !== undefined);
      expect(() => verifyMapProof(mapHashOf(root), bad!)).toThrow(/map proof/);
    }));
  });

  it('rejects a proof against another root, and a proof for another key', () => {
    const { root } = build([[{ k: 1, i: 5 }, { k: 2, i: 7 }, { k: 3, i: 9 }]]);
    const proof = proveMap(root, key(1));
    expect(verifyMapProof(mapHashOf(root), proof)).toBe(5);
    expect(() => verifyMapProof(MAP_EMPTY, proof)).toThrow(/does not lead to the map root/);
    // The same siblings for another key: the walk goes elsewhere.
    const other = { ...proof, key: key(2) };
    expect(() => verifyMapProof(mapHashOf(root), other)).toThrow(/map proof/);
  });

  it('the empty map proves absence with an empty proof', () => {
    expect(verifyMapProof(MAP_EMPTY, proveMap(null, key(1)))).toBeNull();
    expect(proveMap(null, key(1)).siblings).toEqual([]);
  });

  it('rebuilt trees keep old roots intact (nodes are immutable)', () => {
    const a = updateMap(null, [{ key: key(1), index: 1 }]);
    const before = mapHashOf(a);
    updateMap(a, [{ key: key(2), index: 2 }, { key: key(1), index: 3 }]);
    expect(mapHashOf(a)).toEqual(before);
  });

  it('reads and writes the checkpoint extension line', () => {
    const root = mapHashOf(build([[{ k: 1, i: 5 }]]).root);
    expect(mapRootOf(['other', mapExtension(root)])).toEqual(root);
    expect(mapRootOf([])).toBeUndefined();
    expect(() => mapRootOf([mapExtension(root), mapExtension(root)])).toThrow(/two map lines/);
    expect(() => mapRootOf(['evident-map/v1 abc'])).toThrow(/base64/);
  });
});
