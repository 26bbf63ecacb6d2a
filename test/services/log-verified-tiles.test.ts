import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { EvidentError } from '../../src/core/index.js';
import {
  HASH_SIZE, TILE_HEIGHT, appendLeaves, leafHash, splitStoredHashIndex, storedHashCount, storedHashIndex,
  tileHashIndexes, tileWidthAt, treeRoot, type Hash,
} from '../../src/ledger/index.js';
import { VerifiedProofs } from '../../src/services/log-proofs.js';
import { VerifiedTiles } from '../../src/services/log-verified-tiles.js';

// VerifiedTiles (src/services/log-verified-tiles.ts) over stored hashes kept in memory: every tile of an honest
// tree of any size is served as stored, and a tile is never served with a hash that does not lead to the signed
// root: with one stored hash edited, every tile is either the honest one or TAMPERED, and the tile holding the
// edited hash is TAMPERED.

const MAX = 70_000; // tile levels 0, 1 and 2; full level-1 tiles from 65,536
const stored = new Map<number, Hash>();
{
  const leaves = Array.from({ length: MAX }, (_, i) => leafHash(Buffer.from(`entry ${i}`)));
  for (const { index, hash } of appendLeaves(0, [], leaves).stored) stored.set(index, hash);
}
const rootOf = (size: number) => treeRoot(size, stored);

/** A reader over the stored hashes of the tree of `size` leaves, with some rows edited, counting statements. */
function reader(size: number, edits = new Map<number, Hash>()) {
  const count = storedHashCount(size);
  const calls = { statements: 0 };
  const read = async (indexes: readonly number[]) => {
    calls.statements++;
    const out = new Map<number, Hash>();
    for (const i of indexes) {
      const h = edits.get(i) ?? stored.get(i);
      if (h && i < count) out.set(i, h);
    }
    return out;
  };
  return { read, calls };
}

function honestTile(level: number, index: number, width: number): Uint8Array {
  return Buffer.concat(tileHashIndexes({ kind: 'hashes', level, index, width }).map((i) => stored.get(i)!));
}

/** A random tile of a tree of `size` leaves: [level, index, width], width 1..what the tree has. */
const tileIn = (size: number) => fc.integer({ min: 0, max: 2 })
  .filter((level) => Math.floor(size / 2 ** (TILE_HEIGHT * level)) > 0)
  .chain((level) => {
    const nodes = Math.floor(size / 2 ** (TILE_HEIGHT * level));
    return fc.integer({ min: 0, max: Math.ceil(nodes / 256) - 1 }).chain((index) => {
      const available = tileWidthAt(size, 'hashes', level, index);
      return fc.integer({ min: 1, max: available }).map((width) => [level, index, width] as const);
    });
  });

const sizes = fc.oneof(fc.integer({ min: 1, max: 1200 }), fc.integer({ min: 1, max: MAX }), fc.constantFrom(255, 256, 257, 65_535, 65_536, 65_537, MAX));

describe('VerifiedTiles', () => {
  it('serves every tile of an honest tree of any size exactly as stored', async () => {
    await fc.assert(fc.asyncProperty(sizes.chain((size) => fc.tuple(fc.constant(size), fc.array(tileIn(size), { minLength: 1, maxLength: 8 }))), async ([size, tiles]) => {
      const verified = new VerifiedTiles(new VerifiedProofs());
      const head = { size, root: rootOf(size) };
      for (const [level, index, width] of tiles) {
        expect(Buffer.from(await verified.tile(1, head, level, index, width, reader(size).read))).toEqual(honestTile(level, index, width));
      }
    }), { numRuns: 60 });
  });

  it('never serves a tile that does not lead to the signed root: one edited hash is TAMPERED where it is served', async () => {
    const edited = sizes.chain((size) => {
      // A stored hash that some tile serves: a node of tree level 8L (a tile's base), inside the tree of `size`.
      const level = fc.integer({ min: 0, max: 2 }).filter((l) => Math.floor(size / 2 ** (TILE_HEIGHT * l)) > 0);
      return fc.tuple(fc.constant(size), level.chain((l) => fc.tuple(fc.constant(l), fc.integer({ min: 0, max: Math.floor(size / 2 ** (TILE_HEIGHT * l)) - 1 }))), fc.array(tileIn(size), { maxLength: 6 }));
    });
    await fc.assert(fc.asyncProperty(edited, async ([size, [level, n], others]) => {
      const ix = storedHashIndex(TILE_HEIGHT * level, n);
      const bad = Buffer.from(stored.get(ix)!);
      bad[0] = bad[0]! ^ 1;
      const { read } = reader(size, new Map([[ix, bad]]));
      const head = { size, root: rootOf(size) };
      const index = Math.floor(n / 256);
      const width = tileWidthAt(size, 'hashes', level, index);
      await expect(new VerifiedTiles(new VerifiedProofs()).tile(1, head, level, index, width, read)).rejects.toMatchObject({ code: 'TAMPERED' });
      const verified = new VerifiedTiles(new VerifiedProofs());
      for (const [l, i, w] of others) {
        try {
          expect(Buffer.from(await verified.tile(1, head, l, i, w, read))).toEqual(honestTile(l, i, w));
        } catch (err) {
          expect(err).toBeInstanceOf(EvidentError);
          expect((err as EvidentError).code).toBe('TAMPERED');
        }
      }
    }), { numRuns: 60 });
  });

  it('an edited inner node of a tile is never read: tiles are hashed from their base hashes', async () => {
    const size = 1000;
    const ix = storedHashIndex(3, 5);
    expect(splitStoredHashIndex(ix).level).toBe(3);
    const { read } = reader(size, new Map([[ix, new Uint8Array(HASH_SIZE)]]));
    const verified = new VerifiedTiles(new VerifiedProofs());
    expect(Buffer.from(await verified.tile(1, { size, root: rootOf(size) }, 0, 0, 256, read))).toEqual(honestTile(0, 0, 256));
  });

  it('reading a whole log by tiles reads each tile once, and the right edge once per head', async () => {
    const size = 70_000;
    const { read, calls } = reader(size);
    const verified = new VerifiedTiles(new VerifiedProofs());
    const head = { size, root: rootOf(size) };
    let tiles = 0;
    for (let level = 0; level <= 2; level++) {
      const nodes = Math.floor(size / 2 ** (TILE_HEIGHT * level));
      for (let index = 0; index * 256 < nodes; index++, tiles++) await verified.tile(1, head, level, index, tileWidthAt(size, 'hashes', level, index), read);
    }
    // Level 0's first tile reads its two full ancestors with it; level 1's full tile is kept by then.
    expect(calls.statements).toBeLessThanOrEqual(tiles + 1);
    const before = calls.statements;
    await verified.tile(1, head, 0, 5, 256, read);
    expect(calls.statements).toBe(before);
  });
});
