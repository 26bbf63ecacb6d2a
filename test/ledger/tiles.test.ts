import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  TILE_WIDTH, decodeEntryBundle, encodeEntryBundle, encodeTileIndex, parseTilePath, storedHashIndex, tileHashIndexes, tilePath, tileWidthAt,
} from '../../src/ledger/index.js';

// C2SP tlog-tiles paths and entry bundles (src/ledger/tiles.ts).
describe('tile paths', () => {
  it('encodes indexes as the spec\'s examples do', () => {
    expect(encodeTileIndex(0)).toBe('000');
    expect(encodeTileIndex(67)).toBe('067');
    expect(encodeTileIndex(1234067)).toBe('x001/x234/067');
    expect(tilePath({ kind: 'hashes', level: 0, index: 1234067, width: 256 })).toBe('tile/0/x001/x234/067');
    expect(tilePath({ kind: 'entries', level: 0, index: 5, width: 17 })).toBe('tile/entries/005.p/17');
    expect(tilePath({ kind: 'hashes', level: 2, index: 1000, width: 3 })).toBe('tile/2/x001/000.p/3');
  });

  it('parses back every path it writes', () => {
    const tile = fc.record({
      kind: fc.constantFrom('hashes' as const, 'entries' as const),
      level: fc.integer({ min: 0, max: 63 }),
      index: fc.nat({ max: Number.MAX_SAFE_INTEGER }),
      width: fc.integer({ min: 1, max: TILE_WIDTH }),
    }).map((t) => (t.kind === 'entries' ? { ...t, level: 0 } : t));
    fc.assert(fc.property(tile, (t) => {
      expect(parseTilePath(tilePath(t).slice('tile/'.length))).toEqual(t);
    }));
  });

  it('refuses every other spelling of a tile', () => {
    for (const bad of ['', '0', '64/000', '00/000', '-1/000', 'x/000', '0/00', '0/0000', '0/x000/001', '0/001/002', '0/000.p/0',
      '0/000.p/256', '0/000.p/07', '0/000.p/', '0/000.p', 'entries/', 'entries/1', '0/x001/x002/x003/x004/x005/x006/007', '0/000/../001']) {
      expect(() => parseTilePath(bad), bad).toThrow(/tile path/);
    }
  });

  it('says how wide each tile is in a tree of a given size', () => {
    expect(tileWidthAt(0, 'hashes', 0, 0)).toBe(0);
    expect(tileWidthAt(600, 'hashes', 0, 0)).toBe(256);
    expect(tileWidthAt(600, 'hashes', 0, 2)).toBe(88);
    expect(tileWidthAt(600, 'hashes', 0, 3)).toBe(0);
    expect(tileWidthAt(600, 'hashes', 1, 0)).toBe(2);
    expect(tileWidthAt(600, 'entries', 0, 2)).toBe(88);
    expect(tileWidthAt(70_000, 'hashes', 2, 0)).toBe(1);
  });

  it('reads a tile\'s hashes at level 8L from the stored-hash layout', () => {
    expect(tileHashIndexes({ kind: 'hashes', level: 0, index: 1, width: 2 })).toEqual([storedHashIndex(0, 256), storedHashIndex(0, 257)]);
    expect(tileHashIndexes({ kind: 'hashes', level: 1, index: 0, width: 2 })).toEqual([storedHashIndex(8, 0), storedHashIndex(8, 1)]);
  });
});

describe('entry bundles', () => {
  it('frames entries with a big-endian uint16 length and splits them back', () => {
    fc.assert(fc.property(fc.array(fc.uint8Array({ maxLength: 700 }), { maxLength: 20 }), (entries) => {
      const bundle = encodeEntryBundle(entries.map((bytes, index) => ({ index, bytes })));
      expect(bundle.length).toBe(entries.reduce((n, e) => n + 2 + e.length, 0));
      expect(decodeEntryBundle(bundle).map((e) => [...e])).toEqual(entries.map((e) => [...e]));
    }));
    expect([...encodeEntryBundle([{ index: 0, bytes: new Uint8Array(0x0102) }]).subarray(0, 2)]).toEqual([1, 2]);
  });

  it('refuses an entry its frame cannot hold, naming it, and a cut bundle', () => {
    expect(() => encodeEntryBundle([{ index: 41, bytes: new Uint8Array(65_536) }])).toThrow(/entry 41 is 65536 bytes/);
    expect(encodeEntryBundle([{ index: 0, bytes: new Uint8Array(65_535) }]).length).toBe(65_537);
    expect(() => decodeEntryBundle(Uint8Array.of(0, 5, 1, 2))).toThrow(/cut/);
    expect(() => decodeEntryBundle(Uint8Array.of(0))).toThrow(/cut/);
  });
});
