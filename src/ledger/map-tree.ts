import { EvidentError, bytesEqual } from '../core/index.js';
import type { Hash } from './hash.js';
import { MAP_DEPTH, MAP_EMPTY, keyBit, mapLeafHash, mapNodeHash, type MapProof } from './map-hash.js';

// The subject map's tree (docs/log.md, "The subject map"), kept compressed: an empty subtree is no node, a
// subtree with one leaf is that leaf (hashed as a leaf whatever its height), and only subtrees with two or
// more leaves are interior nodes. So a tree of n random keys is about log2(n) deep, and an update hashes
// that many nodes, not 256. Nodes are immutable: an update returns a new root sharing the untouched
// subtrees, so a batch that is rolled back leaves the previous tree intact.

export type MapNode =
  | { readonly leaf: true; readonly key: Hash; readonly index: number; readonly hash: Hash }
  | { readonly leaf: false; readonly left: MapNode | null; readonly right: MapNode | null; readonly hash: Hash };

export interface MapUpdate {
  key: Hash;
  index: number;
}

export const hashOf = (n: MapNode | null): Hash => (n === null ? MAP_EMPTY : n.hash);

function leafNode(key: Hash, index: number): MapNode {
  if (!Number.isSafeInteger(index) || index < 0) throw new EvidentError('INVALID_ARGUMENT', `map index must be a non-negative integer, not ${index}`);
  return { leaf: true, key, index, hash: mapLeafHash(key, index) };
}

/** Joins two subtrees: a single leaf moves up (its hash is the same at every height), empty stays empty. */
function join(left: MapNode | null, right: MapNode | null): MapNode | null {
  if (left === null && (right === null || right.leaf)) return right;
  if (right === null && left!.leaf) return left;
  return { leaf: false, left, right, hash: mapNodeHash(hashOf(left), hashOf(right)) };
}

const compareKeys = (a: MapUpdate, b: MapUpdate) => Buffer.compare(a.key, b.key);

/** Splits updates sorted by key at the first whose bit `depth` is 1. */
function split(ups: MapUpdate[], depth: number): [MapUpdate[], MapUpdate[]] {
  let i = 0;
  while (i < ups.length && keyBit(ups[i]!.key, depth) === 0) i++;
  return [ups.slice(0, i), ups.slice(i)];
}

function apply(node: MapNode | null, depth: number, ups: MapUpdate[]): MapNode | null {
  if (ups.length === 0) return node;
  if (node !== null && node.leaf) {
    const old = node;
    if (ups.length === 1 && bytesEqual(ups[0]!.key, old.key)) return leafNode(old.key, ups[0]!.index);
    // The leaf is pushed down with the new keys, unless one of them replaces it.
    if (!ups.some((u) => bytesEqual(u.key, old.key))) ups = [...ups, { key: old.key, index: old.index }].sort(compareKeys);
    node = null;
  }
  if (node === null && ups.length === 1) return leafNode(ups[0]!.key, ups[0]!.index);
  if (depth >= MAP_DEPTH) throw new EvidentError('INTERNAL', 'two map updates with the same key');
  const [l, r] = split(ups, depth);
  const inner = node as Extract<MapNode, { leaf: false }> | null;
  return join(apply(inner?.left ?? null, depth + 1, l), apply(inner?.right ?? null, depth + 1, r));
}

/**
 * The tree after setting each update's key to its index (a key given twice keeps its last index). One pass
 * per batch: a node on the paths of many updates is hashed once.
 */
export function updateMap(root: MapNode | null, updates: readonly MapUpdate[]): MapNode | null {
  const last = new Map<string, MapUpdate>();
  for (const u of updates) last.set(Buffer.from(u.key).toString('hex'), u);
  return apply(root, 0, [...last.values()].sort(compareKeys));
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
