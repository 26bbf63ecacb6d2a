import { EvidentError, bytesEqual } from '../core/index.js';
import {
  HASH_SIZE, TILE_HEIGHT, TILE_WIDTH, rootFromFrontier, nodeHash, tileHashIndexes, tileWidthAt, type Hash,
} from '../ledger/index.js';
import { OFFSETS, TILE_BYTES, buildTile, nodeOf, type ReadHashes, type VerifiedProofs } from './log-proofs.js';

// Hash tiles and stored hashes served to clients only after they were checked against the root of the head
// the server signs (issue #21, "signed means verified"). A tile route answer is cached forever by anything in
// front of the server (`immutable`), so an edited hash row must not reach it even though clients would
// reject it (C2SP tlog-tiles readers check every tile against the checkpoint).
//
// The chain of checks, top down (RFC 9162 §2.1.1; C2SP tlog-tiles): the right edge of the tree (the partial
// tile of every tile level, at most 255 hashes each) folds into the signed root: the perfect subtrees of the
// tree's frontier are exactly the complete nodes of the partial tiles, one per 1 bit of the tree size. A full
// tile's 256 hashes hash up to one node of the tile level above (tree level 8(L+1)), which is a base hash of
// a full tile checked before, or of the right edge. Full tiles, once checked, are kept in VerifiedProofs (the
// tiles inclusion proofs use, bounded) and never read again; the right edge is kept for the last head seen.

/** The partial tiles of every tile level of one signed head, checked to fold into its root. */
interface Edge {
  size: number;
  root: Hash;
  /** By tile level: its width and every complete node of it (OFFSETS layout), or absent when its width is 0. */
  levels: Map<number, { width: number; tile: Uint8Array }>;
}

/** The complete nodes of a tile of `width` < 256 base hashes (a node at sub-level s, position p is complete when (p+1)·2^s ≤ width). */
function buildPartial(base: readonly Hash[]): Uint8Array {
  const out = new Uint8Array(TILE_BYTES);
  base.forEach((h, i) => out.set(h, i * HASH_SIZE));
  for (let sub = 1; sub <= TILE_HEIGHT; sub++) {
    for (let pos = 0; (pos + 1) << sub <= base.length; pos++) {
      out.set(nodeHash(nodeOf(out, sub - 1, 2 * pos), nodeOf(out, sub - 1, 2 * pos + 1)), (OFFSETS[sub]! + pos) * HASH_SIZE);
    }
  }
  return out;
}

const key = (level: number, index: number) => `${level}/${index}`;

export class VerifiedTiles {
  /** The right edge of each org's last head read (least recently used dropped past `maxEdges`). */
  private readonly edges = new Map<number, Promise<Edge>>();
  /** Full tiles being read and checked now, by org and tile: a concurrent request for one waits for it. */
  private readonly loading = new Map<string, Promise<unknown>>();

  constructor(private readonly kept: VerifiedProofs, private readonly maxEdges = 256) {}

  /**
   * The `width` hashes of hash tile (`level`, `index`) of the tree whose signed head is `head`, as served in a
   * tile (W × 32 bytes), each checked to lead to `head.root`; TAMPERED when the stored hashes do not.
   */
  async tile(orgId: number, head: { size: number; root: Hash }, level: number, index: number, width: number, read: ReadHashes): Promise<Uint8Array> {
    const available = tileWidthAt(head.size, 'hashes', level, index);
    if (width < 1 || width > available) throw new EvidentError('INTERNAL', `tile ${level}/${index} has ${available} hashes, not ${width}`);
    if (available === TILE_WIDTH) {
      const tile = (await this.fullTiles(orgId, head, [[level, index]], read)).get(key(level, index))!;
      return tile.subarray(0, width * HASH_SIZE);
    }
    const edge = (await this.edge(orgId, head, read)).levels.get(level)!;
    return edge.tile.subarray(0, width * HASH_SIZE);
  }

  /** The right edge of `head`, read and checked once per head (a read of at most 255 hashes per tile level). */
  private async edge(orgId: number, head: { size: number; root: Hash }, read: ReadHashes): Promise<Edge> {
    const known = this.edges.get(orgId);
    if (known) {
      const edge = await known.catch(() => undefined);
      if (edge && edge.size === head.size && bytesEqual(edge.root, head.root)) return edge;
    }
    const loading = this.loadEdge(head, read);
    this.edges.delete(orgId);
    if (this.edges.size >= this.maxEdges) this.edges.delete(this.edges.keys().next().value!);
    this.edges.set(orgId, loading);
    loading.catch(() => {
      if (this.edges.get(orgId) === loading) this.edges.delete(orgId);
    });
    return loading;
  }

  private async loadEdge(head: { size: number; root: Hash }, read: ReadHashes): Promise<Edge> {
    const widths: { level: number; index: number; width: number }[] = [];
    for (let level = 0; 2 ** (TILE_HEIGHT * level) <= head.size; level++) {
      const index = Math.floor(head.size / 2 ** (TILE_HEIGHT * (level + 1)));
      const width = tileWidthAt(head.size, 'hashes', level, index);
      if (width > 0) widths.push({ level, index, width });
    }
    const indexes = widths.flatMap((w) => tileHashIndexes({ kind: 'hashes', ...w }));
    const stored = indexes.length > 0 ? await read(indexes, []) : new Map<number, Hash>();
    const levels = new Map<number, { width: number; tile: Uint8Array }>();
    for (const w of widths) {
      levels.set(w.level, { width: w.width, tile: buildPartial(tileHashIndexes({ kind: 'hashes', ...w }).map((ix) => requireStored(stored, ix))) });
    }
    // The frontier, largest subtree first: tile levels from the top, and in each, one node per 1 bit of its width.
    const frontier: Hash[] = [];
    for (const w of [...widths].reverse()) {
      let at = 0;
      for (let sub = TILE_HEIGHT - 1; sub >= 0; sub--) {
        if ((w.width & (1 << sub)) === 0) continue;
        frontier.push(nodeOf(levels.get(w.level)!.tile, sub, at >> sub));
        at += 1 << sub;
      }
    }
    if (!bytesEqual(rootFromFrontier(frontier), head.root)) {
      throw tampered(`the stored hashes of the right edge of the tree of size ${head.size} do not fold into its signed root`);
    }
    return { size: head.size, root: head.root, levels };
  }

  /**
   * Full tiles by [tile level, index], each checked against the node above it (a checked full tile's, or the
   * right edge's): the missing ones, and the missing full tiles above them, are read in one statement.
   */
  async fullTiles(orgId: number, head: { size: number; root: Hash }, wanted: readonly (readonly [number, number])[], read: ReadHashes): Promise<Map<string, Uint8Array>> {
    const keys = [...new Set(wanted.map(([l, i]) => key(l, i)))];
    const busy = keys.flatMap((k) => (this.loading.get(`${orgId}/${k}`) ? [this.loading.get(`${orgId}/${k}`)!.catch(() => undefined)] : []));
    if (busy.length > 0) await Promise.all(busy);
    const out = new Map<string, Uint8Array>();
    // The closure: each wanted tile not kept, and its parent tile while that is full and not kept either.
    const missing = new Map<string, [number, number]>();
    let edgeNeeded = false;
    for (const [level, index] of wanted) {
      let l = level;
      let i = index;
      for (;;) {
        const k = key(l, i);
        if (out.has(k) || missing.has(k)) break;
        const tile = this.kept.keptTile(orgId, l, i);
        if (tile) {
          out.set(k, tile);
          break;
        }
        missing.set(k, [l, i]);
        const parent = Math.floor(i / TILE_WIDTH);
        if (tileWidthAt(head.size, 'hashes', l + 1, parent) < TILE_WIDTH) {
          edgeNeeded = true;
          break;
        }
        l += 1;
        i = parent;
      }
    }
    if (missing.size === 0) return out;
    let done!: () => void;
    const loaded = new Promise<void>((resolve) => (done = resolve));
    for (const k of missing.keys()) this.loading.set(`${orgId}/${k}`, loaded);
    try {
      const [edge, stored] = await Promise.all([
        edgeNeeded ? this.edge(orgId, head, read) : undefined,
        read([...missing.values()].flatMap(([level, index]) => tileHashIndexes({ kind: 'hashes', level, index, width: TILE_WIDTH })), []),
      ]);
      // Top down: a tile's parent node is checked before the tile is.
      const order = [...missing.values()].sort((a, b) => b[0] - a[0]);
      const checked = new Map<string, Uint8Array>();
      for (const [level, index] of order) {
        const tile = buildTile(tileHashIndexes({ kind: 'hashes', level, index, width: TILE_WIDTH }).map((ix) => requireStored(stored, ix)));
        const parentKey = key(level + 1, Math.floor(index / TILE_WIDTH));
        const parentTile = checked.get(parentKey) ?? out.get(parentKey) ?? edge?.levels.get(level + 1)?.tile;
        if (!parentTile || !bytesEqual(nodeOf(tile, TILE_HEIGHT, 0), nodeOf(parentTile, 0, index % TILE_WIDTH))) {
          throw tampered(`the stored hashes of tile ${level}/${index} do not hash to the node (${TILE_HEIGHT * (level + 1)}, ${index}) of the signed tree of size ${head.size}`);
        }
        checked.set(key(level, index), tile);
      }
      for (const [k, tile] of checked) {
        const [level, index] = k.split('/').map(Number) as [number, number];
        this.kept.keep(orgId, level, index, tile);
        out.set(k, tile);
      }
      return out;
    } finally {
      for (const k of missing.keys()) if (this.loading.get(`${orgId}/${k}`) === loaded) this.loading.delete(`${orgId}/${k}`);
      done();
    }
  }
}

function requireStored(stored: ReadonlyMap<number, Hash>, index: number): Hash {
  const hash = stored.get(index);
  if (!hash || hash.length !== HASH_SIZE) throw tampered(`stored hash ${index} is ${hash ? 'malformed' : 'missing'}`);
  return hash;
}

function tampered(message: string): EvidentError {
  return new EvidentError('TAMPERED', message);
}
