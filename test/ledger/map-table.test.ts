import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAP_EMPTY, MapLeafTable, mapHashOf, mapKey, updateMap, type MapNode } from '../../src/ledger/index.js';

// Keys that share long prefixes (each byte from a tiny alphabet) exercise deep splits and one-sided nodes;
// mapKey outputs exercise the usual random case.
const clusteredKey = fc.array(fc.constantFrom(0x00, 0x01, 0x80, 0xff), { minLength: 32, maxLength: 32 }).map((b) => Uint8Array.from(b));
const randomKey = fc.integer({ min: 0, max: 400 }).map((n) => mapKey(`k${n}`));
const move = fc.record({ key: fc.oneof(clusteredKey, randomKey), index: fc.integer({ min: 0, max: 2 ** 40 }) });

describe('MapLeafTable', () => {
  it('makes the same root as the tree (updateMap) for any sequence of moves, and reads back each latest index', () => {
    fc.assert(fc.property(fc.array(fc.array(move, { maxLength: 20 }), { maxLength: 8 }), (batches) => {
      const table = new MapLeafTable();
      let tree: MapNode | null = null;
      const latest = new Map<string, number>();
      for (const batch of batches) {
        // The tree takes a batch with each key once, at its last move (as the writer sends them).
        const last = new Map(batch.map((m) => [Buffer.from(m.key).toString('hex'), m]));
        tree = updateMap(tree, [...last.values()]);
        for (const m of batch) {
          table.set(m.key, 0, m.index);
          latest.set(Buffer.from(m.key).toString('hex'), m.index);
        }
      }
      expect(Buffer.from(table.root())).toEqual(Buffer.from(mapHashOf(tree)));
      expect(table.size).toBe(latest.size);
      for (const [hex, index] of latest) expect(table.get(Buffer.from(hex, 'hex'))).toBe(index);
    }), { numRuns: 300 });
  });

  it('reads keys at an offset, answers null for an absent key, and has the empty root when empty', () => {
    const table = new MapLeafTable();
    expect(Buffer.from(table.root())).toEqual(Buffer.from(MAP_EMPTY));
    const buf = new Uint8Array(96);
    buf.set(mapKey('a'), 32);
    table.set(buf, 32, 7);
    expect(table.get(mapKey('a'))).toBe(7);
    expect(table.get(buf, 32)).toBe(7);
    expect(table.get(mapKey('b'))).toBeNull();
    expect(() => table.set(mapKey('b'), 0, -1)).toThrow(/non-negative integer/);
  });

  it('grows past its first arrays and keeps about 40–60 bytes a subject', () => {
    const table = new MapLeafTable();
    let tree: MapNode | null = null;
    const n = 20_000;
    const ups = [];
    for (let i = 0; i < n; i++) {
      const key = mapKey(`s${i}`);
      table.set(key, 0, i);
      ups.push({ key, index: i });
    }
    tree = updateMap(tree, ups);
    expect(table.size).toBe(n);
    expect(Buffer.from(table.root())).toEqual(Buffer.from(mapHashOf(tree)));
    expect(table.get(mapKey('s12345'))).toBe(12345);
    expect(table.bytes / n).toBeLessThan(90);
  });
});
