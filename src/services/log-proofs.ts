import { EvidentError, bytesEqual } from '../core/index.js';
import {
  HASH_SIZE, TILE_HEIGHT, TILE_WIDTH, consistencyProof, consistencyProofPlan, inclusionProof, inclusionProofPlan, nodeHash,
  rootFromInclusionProof, splitStoredHashIndex, storedHashIndex, treeRoot, treeRootPlan, verifyConsistency, type Hash,
} from '../ledger/index.js';

// Inclusion proofs checked against the signed tree head before they are served, from full hash tiles kept in
// memory (issue #21, eighth round). On PostgreSQL a proof was two statements (the head, then ~20 stored
// hashes), each a round trip that wakes a backend on this 2-core machine: 658 random proofs/s at 1M against
// 1,195 appends/s. A full tile (256 hashes of one tree level, and the 255 nodes above them inside it) never
// changes, so once it has been checked it can answer every later proof through it without a statement.
//
// "Signed means verified": a tile is kept only after a proof through it led to the root of the head the
// server signs, *and* every kept tile's base hash on the path equals the root of the tile below (so the
// whole tile, not only the siblings the proof used, is bound to the signed root). Every proof is checked
// against that root again before it is served, whatever it was built from; a stored hash edited behind the
// server answers TAMPERED until it is kept, and a kept tile keeps the checked value after its rows are edited
// (a fresh process reads the rows again and answers TAMPERED).

/** Node offsets inside a tile: sub-level s (0 = the tile's base, 8 = its root) starts at OFFSETS[s]. */
export const OFFSETS = [0, 256, 384, 448, 480, 496, 504, 508, 510];
const TILE_NODES = 511;
/** Bytes one kept tile takes (its 511 hashes; Map and object overhead aside). */
export const TILE_BYTES = TILE_NODES * HASH_SIZE;

export function nodeOf(tile: Uint8Array, sub: number, pos: number): Hash {
  const at = (OFFSETS[sub]! + pos) * HASH_SIZE;
  return tile.subarray(at, at + HASH_SIZE);
}

/** A tile's 256 base hashes and every node above them inside it, hashed once. */
export function buildTile(base: readonly Hash[]): Uint8Array {
  const out = new Uint8Array(TILE_BYTES);
  base.forEach((h, i) => out.set(h, i * HASH_SIZE));
  for (let sub = 1; sub <= TILE_HEIGHT; sub++) {
    for (let pos = 0; pos < TILE_WIDTH >> sub; pos++) {
      out.set(nodeHash(nodeOf(out, sub - 1, 2 * pos), nodeOf(out, sub - 1, 2 * pos + 1)), (OFFSETS[sub]! + pos) * HASH_SIZE);
    }
  }
  return out;
}

/** Reads stored hashes by their tlog index, and whole inclusive ranges of them (one statement on either engine). */
export type ReadHashes = (indexes: readonly number[], ranges: readonly (readonly [number, number])[]) => Promise<ReadonlyMap<number, Hash>>;

interface PathTile {
  /** Tile level: its base is tree level 8·level. */
  level: number;
  /** Tile index within its level. */
  index: number;
  key: string;
  tile?: Uint8Array;
}

/**
 * Full hash tiles and single stored hashes of each org's tree that a proof has checked against a signed root.
 * Both are bounded (least recently used dropped): `maxTiles` × TILE_BYTES, and `maxNodes` single hashes (the
 * right edge's perfect subtrees, which no full tile holds).
 */
export class VerifiedProofs {
  private readonly tiles = new Map<string, Uint8Array>();
  private readonly nodes = new Map<string, Hash>();
  /** Tiles a proof is reading and checking now: a proof through one waits for that, not a read of its own. */
  private readonly loading = new Map<string, Promise<void>>();

  constructor(private readonly maxTiles = 4096, private readonly maxNodes = 4096) {}

  /** How many tiles and single hashes are kept (tests, and the bench's notes). */
  get kept(): { tiles: number; nodes: number } {
    return { tiles: this.tiles.size, nodes: this.nodes.size };
  }

  /**
   * RFC 9162 inclusion proof of leaf `index` in the tree of `size` leaves, checked before it is returned: against
   * `signed.root` when `size` is the signed size, else against the root of the tree of `size` leaves, itself
   * checked by a consistency proof to the signed head. Throws TAMPERED when the stored hashes do not lead there.
   */
  async inclusion(orgId: number, index: number, size: number, signed: { size: number; root: Hash }, read: ReadHashes): Promise<{ leaf: Hash; proof: Hash[] }> {
    let path = this.pathTiles(orgId, index, size);
    // Concurrent clients walking the same indexes (the bench's 32 connections do) would each read a tile.
    const pending = path.flatMap((p) => (p.tile ? [] : [this.loading.get(p.key)].filter((w) => w !== undefined)));
    if (pending.length > 0) {
      await Promise.all(pending);
      path = this.pathTiles(orgId, index, size);
    }
    const loading = path.filter((p) => !p.tile);
    if (loading.length === 0) return this.prove(orgId, index, size, signed, read, path);
    let done!: () => void;
    const loaded = new Promise<void>((resolve) => (done = resolve));
    for (const p of loading) this.loading.set(p.key, loaded);
    try {
      return await this.prove(orgId, index, size, signed, read, path);
    } finally {
      for (const p of loading) if (this.loading.get(p.key) === loaded) this.loading.delete(p.key);
      done();
    }
  }

  private async prove(orgId: number, index: number, size: number, signed: { size: number; root: Hash }, read: ReadHashes, path: PathTile[]): Promise<{ leaf: Hash; proof: Hash[] }> {
    const leafIndex = storedHashIndex(0, index);
    const plan = [leafIndex, ...inclusionProofPlan(index, size)];
    // Where each planned hash is: inside a tile on the path (kept, or read whole now), or alone.
    const placed = plan.map((stored) => ({ stored, at: locate(path, stored) }));
    const known = new Map<number, Hash>();
    const wanted = new Set<number>();
    for (const { stored, at } of placed) {
      const hash = at?.tile.tile ? nodeOf(at.tile.tile, at.sub, at.pos) : this.nodes.get(`${orgId}/${stored}`);
      if (hash) known.set(stored, hash);
      else if (!at) wanted.add(stored);
    }
    const loading = path.filter((p) => !p.tile);
    const ranges: [number, number][] = [];
    for (const p of loading) {
      const first = p.index * TILE_WIDTH;
      // A level-0 tile's leaves are one run of stored indexes (with the nodes they complete between them).
      if (p.level === 0) ranges.push([storedHashIndex(0, first), storedHashIndex(0, first + TILE_WIDTH - 1)]);
      else for (let i = 0; i < TILE_WIDTH; i++) wanted.add(storedHashIndex(TILE_HEIGHT * p.level, first + i));
    }
    // A proof for an older tree size: its root, and the consistency of that tree with the signed one, in the same read.
    const older = size === signed.size ? undefined : { rootPlan: treeRootPlan(size), consistency: consistencyProofPlan(size, signed.size) };
    if (older) [...older.rootPlan, ...older.consistency].forEach((i) => wanted.add(i));
    const stored = wanted.size > 0 || ranges.length > 0 ? await read([...wanted], ranges) : new Map<number, Hash>();
    for (const p of loading) {
      const base = Array.from({ length: TILE_WIDTH }, (_, i) => requireStored(stored, storedHashIndex(TILE_HEIGHT * p.level, p.index * TILE_WIDTH + i)));
      p.tile = buildTile(base);
    }
    // A hash inside a path tile always comes from the tile, hashed from its base: the range read above also
    // returns the stored nodes between the leaves, which nothing has checked.
    const hashes = new Map(stored);
    for (const { stored: ix, at } of placed) {
      hashes.set(ix, at ? nodeOf(at.tile.tile!, at.sub, at.pos) : (known.get(ix) ?? requireStored(stored, ix)));
    }
    const proof = inclusionProof(index, size, hashes);
    const leaf = hashes.get(leafIndex)!;
    let root = signed.root;
    if (older) {
      root = treeRoot(size, stored);
      try {
        verifyConsistency(size, signed.size, consistencyProof(size, signed.size, stored), root, signed.root);
      } catch (err) {
        throw tampered(`the stored hashes of the tree of size ${size} are not consistent with the signed tree of size ${signed.size}`, err);
      }
    }
    if (!bytesEqual(rootFromInclusionProof(index, size, leaf, proof), root)) {
      throw tampered(`the stored hashes of the inclusion proof of entry ${index} do not lead to the root of the tree of size ${size}`);
    }
    // Each tile's base hash on the path must be the root of the tile below: then the proof binds every hash of it.
    for (let t = 1; t < path.length; t++) {
      const pos = Math.floor(index / 2 ** (TILE_HEIGHT * t)) % TILE_WIDTH;
      if (!bytesEqual(nodeOf(path[t]!.tile!, 0, pos), nodeOf(path[t - 1]!.tile!, TILE_HEIGHT, 0))) {
        throw tampered(`the stored hash (${TILE_HEIGHT * t}, ${Math.floor(index / 2 ** (TILE_HEIGHT * t))}) is not the hash of the subtree below it`);
      }
    }
    for (const p of path) this.keepTile(p.key, p.tile!);
    for (const { stored: ix, at } of placed) if (!at && !known.has(ix)) this.keepNode(`${orgId}/${ix}`, hashes.get(ix)!);
    return { leaf, proof };
  }

  /** The full tiles on leaf `index`'s path up the tree of `size` leaves, lowest first, with those already kept. */
  private pathTiles(orgId: number, index: number, size: number): PathTile[] {
    const out: PathTile[] = [];
    for (let level = 0; ; level++) {
      const span = 2 ** (TILE_HEIGHT * (level + 1)); // leaves under one tile of this level
      const tileIndex = Math.floor(index / span);
      if ((tileIndex + 1) * span > size) return out; // not full: its hashes are still being added
      const key = `${orgId}/${level}/${tileIndex}`;
      const tile = this.tiles.get(key);
      out.push({ level, index: tileIndex, key, ...(tile ? { tile } : {}) });
    }
  }

  /** The kept full tile (its 511 nodes) of tile level `level`, index `index`, if kept (log-verified-tiles.ts). */
  keptTile(orgId: number, level: number, index: number): Uint8Array | undefined {
    return this.tiles.get(`${orgId}/${level}/${index}`);
  }

  /** Keeps a full tile checked against a signed root elsewhere (log-verified-tiles.ts), as a proof would. */
  keep(orgId: number, level: number, index: number, tile: Uint8Array): void {
    this.keepTile(`${orgId}/${level}/${index}`, tile);
  }

  private keepTile(key: string, tile: Uint8Array): void {
    this.tiles.delete(key); // re-inserted last: Map order is the recency order
    if (this.tiles.size >= this.maxTiles) this.tiles.delete(this.tiles.keys().next().value!);
    if (this.maxTiles > 0) this.tiles.set(key, tile);
  }

  private keepNode(key: string, hash: Hash): void {
    this.nodes.delete(key);
    if (this.nodes.size >= this.maxNodes) this.nodes.delete(this.nodes.keys().next().value!);
    if (this.maxNodes > 0) this.nodes.set(key, hash);
  }
}

/** Where stored hash `stored` is inside one of the path's tiles (sub-level and position in it), if it is. */
function locate(path: readonly PathTile[], stored: number): { tile: PathTile; sub: number; pos: number } | undefined {
  const { level, n } = splitStoredHashIndex(stored);
  const sub = level % TILE_HEIGHT;
  const tile = path[Math.floor(level / TILE_HEIGHT)];
  if (!tile || Math.floor(n / 2 ** (TILE_HEIGHT - sub)) !== tile.index) return undefined;
  return { tile, sub, pos: n % 2 ** (TILE_HEIGHT - sub) };
}

function requireStored(stored: ReadonlyMap<number, Hash>, index: number): Hash {
  const hash = stored.get(index);
  if (!hash || hash.length !== HASH_SIZE) throw tampered(`stored hash ${index} is ${hash ? 'malformed' : 'missing'}`);
  return hash;
}

function tampered(message: string, cause?: unknown): EvidentError {
  return new EvidentError('TAMPERED', message, cause === undefined ? {} : { cause });
}
