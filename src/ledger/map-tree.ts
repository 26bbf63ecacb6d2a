import { EvidentError, bytesEqual } from '../core/index.js';
import type { Hash } from './hash.js';
import { MAP_DEPTH, MAP_EMPTY, binaryToHash, keyBit, mapLeafHashBinary, mapNodeHashBinary, type MapProof } from './map-hash.js';

// The subject map's tree (docs/log.md, "The subject map"), kept compressed: an empty subtree is no node, a
// subtree with one leaf is that leaf (hashed as a leaf whatever its height), and only subtrees with two or
// more leaves are interior nodes. So a tree of n random keys is about log2(n) deep, and an update hashes
// that many nodes, not 256. Nodes are immutable: an update returns a new root sharing the untouched
// subtrees, so a batch that is rolled back leaves the previous tree intact.

// A node's hash is kept as a 32-character binary string (map-hash.ts mapNodeHashBinary), not a Uint8Array:
// the tree holds one per node for the life of the process and a batch adds ~11 per entry, and a string is
// one small object for the garbage collector where a typed array is three (docs/performance.md, issue #17).
export type MapNode =
  | { readonly leaf: true; readonly key: Hash; readonly index: number; readonly hash: string }
  | { readonly leaf: false; readonly left: MapNode | null; readonly right: MapNode | null; readonly hash: string };

export interface MapUpdate {
  key: Hash;
  index: number;
}

export const hashOf = (n: MapNode | null): Hash => (n === null ? MAP_EMPTY : binaryToHash(n.hash));

function leafNode(key: Hash, index: number): MapNode {
  if (!Number.isSafeInteger(index) || index < 0) throw new EvidentError('INVALID_ARGUMENT', `map index must be a non-negative integer, not ${index}`);
  return { leaf: true, key, index, hash: mapLeafHashBinary(key, index) };
}

/** Joins two subtrees: a single leaf moves up (its hash is the same at every height), empty stays empty. */
function join(left: MapNode | null, right: MapNode | null): MapNode | null {
  if (left === null && (right === null || right.leaf)) return right;
  if (right === null && left!.leaf) return left;
  return { leaf: false, left, right, hash: mapNodeHashBinary(left?.hash ?? null, right?.hash ?? null) };
}

/** Key order, byte by byte (in JavaScript: a Buffer.compare call per comparison cost twice as much). */
function compareKeyBytes(a: Hash, b: Hash): number {
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

const compareKeys = (a: MapUpdate, b: MapUpdate) => compareKeyBytes(a.key, b.key);

/**
 * The updates sorted by key, each key once at its last update. Sorted through a 32-bit prefix of each key
 * (keys are SHA-256 outputs: the prefix decides almost every comparison), ties by position so that the
 * last update of a key is the last of its run: a table of 530,000 leaves loaded at start-up sorted in about a
 * quarter of the time a Buffer.compare sort took (performance.md, issue #21).
 */
function sortedDistinct(updates: readonly MapUpdate[]): MapUpdate[] {
  const n = updates.length;
  const prefix = new Uint32Array(n);
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const k = updates[i]!.key;
    prefix[i] = ((k[0]! << 24) | (k[1]! << 16) | (k[2]! << 8) | k[3]!) >>> 0;
    order[i] = i;
  }
  order.sort((a, b) => (prefix[a] !== prefix[b] ? (prefix[a]! < prefix[b]! ? -1 : 1) : compareKeyBytes(updates[a]!.key, updates[b]!.key) || a - b));
  const out: MapUpdate[] = [];
  for (let j = 0; j < n; j++) {
    const at = order[j]!;
    const next = j + 1 < n ? order[j + 1]! : -1;
    // A later update of the same key follows in the run: this one is overwritten.
    if (next >= 0 && prefix[at] === prefix[next] && compareKeyBytes(updates[at]!.key, updates[next]!.key) === 0) continue;
    out.push(updates[at]!);
  }
  return out;
}

/** The first position in [lo, hi) of updates sorted by key whose bit `depth` is 1 (they share the bits above it). */
function splitAt(ups: readonly MapUpdate[], lo: number, hi: number, depth: number): number {
  let a = lo;
  let b = hi;
  while (a < b) {
    const mid = (a + b) >>> 1;
    if (keyBit(ups[mid]!.key, depth) === 0) a = mid + 1;
    else b = mid;
  }
  return a;
}

/** Applies ups[lo, hi) (sorted by key, distinct, all below this node's path) to the subtree `node`. */
function apply(node: MapNode | null, depth: number, ups: readonly MapUpdate[], lo: number, hi: number): MapNode | null {
  if (lo === hi) return node;
  if (node !== null && node.leaf) {
    const old = node;
    if (hi - lo === 1 && bytesEqual(ups[lo]!.key, old.key)) return leafNode(old.key, ups[lo]!.index);
    // The leaf is pushed down with the new keys, unless one of them replaces it (rare: a fresh array).
    let mine = ups.slice(lo, hi);
    if (!mine.some((u) => bytesEqual(u.key, old.key))) mine = [...mine, { key: old.key, index: old.index }].sort(compareKeys);
    return apply(null, depth, mine, 0, mine.length);
  }
  if (node === null && hi - lo === 1) return leafNode(ups[lo]!.key, ups[lo]!.index);
  if (depth >= MAP_DEPTH) throw new EvidentError('INTERNAL', 'two map updates with the same key');
  const mid = splitAt(ups, lo, hi, depth);
  const inner = node as Extract<MapNode, { leaf: false }> | null;
  return join(apply(inner?.left ?? null, depth + 1, ups, lo, mid), apply(inner?.right ?? null, depth + 1, ups, mid, hi));
}

/**
 * The tree after setting each update's key to its index (a key given twice keeps its last index). One pass
 * per batch: a node on the paths of many updates is hashed once.
 */
export function updateMap(root: MapNode | null, updates: readonly MapUpdate[]): MapNode | null {
  const ups = sortedDistinct(updates);
  return apply(root, 0, ups, 0, ups.length);
}

/** The latest index stored for a key, or undefined. */
export function lookupMap(root: MapNode | null, key: Hash): number | undefined {
  let n = root;
  for (let d = 0; n !== null; d++) {
    if (n.leaf) return bytesEqual(n.key, key) ? n.index : undefined;
    n = keyBit(key, d) === 0 ? n.left : n.right;
  }
  return undefined;
}

/** The proof of presence or absence of a key (map-hash.ts verifyMapProof checks it). */
export function proveMap(root: MapNode | null, key: Hash): MapProof {
  const siblings: Hash[] = [];
  let n = root;
  for (let d = 0; n !== null && !n.leaf; d++) {
    const right = keyBit(key, d) === 1;
    siblings.push(hashOf(right ? n.left : n.right));
    n = right ? n.right : n.left;
  }
  return { key, siblings, leaf: n === null ? null : { key: n.key, index: n.index } };
}

/** Every leaf, in key order (for checks and rebuilds). */
export function* mapLeaves(root: MapNode | null): Generator<MapUpdate> {
  if (root === null) return;
  if (root.leaf) {
    yield { key: root.key, index: root.index };
    return;
  }
  yield* mapLeaves(root.left);
  yield* mapLeaves(root.right);
}
