import {
  EMPTY_ROOT, checkCount, checkHash, half, invalid, isOdd, nodeHash, popCount, pow2AtMost, trailingZeros, type Hash,
} from './hash.js';

// The stored-hash layout of golang.org/x/mod/sumdb/tlog (tile.go / tlog.go): each leaf hash and each
// completed perfect subtree hash has one dense linear index. Appending leaf n writes the leaf hash at
// storedHashIndex(0, n), followed by the hashes of the subtrees it completes, (1, n>>1), (2, n>>2), ...

/** tlog.StoredHashIndex: the linear index of the hash at (level, n), n counted within its level. */
export function storedHashIndex(level: number, n: number): number {
  checkCount(level, 'level');
  checkCount(n, 'n');
  // i < 2 * (n+1) * 2^level: keep every intermediate value exact.
  if (level > 52 || (n + 1) * 2 ** (level + 1) > Number.MAX_SAFE_INTEGER) {
    throw invalid(`stored hash (${level}, ${n}) is out of range`);
  }
  // Level L's n'th hash is written right after level L+1's (2n+1)'th hash; go down to level 0.
  let m = n;
  for (let l = level; l > 0; l--) m = 2 * m + 1;
  // Level 0's m'th hash is written at m + m/2 + m/4 + ...
  let i = 0;
  for (; m > 0; m = half(m)) i += m;
  return i + level;
}

/** tlog.SplitStoredHashIndex: the inverse of storedHashIndex. */
export function splitStoredHashIndex(index: number): { level: number; n: number } {
  checkCount(index, 'index');
  // storedHashIndex(0, n) < 2n, so the leaf record that wrote `index` is in [index/2, index/2 + log2(index)].
  let n = half(index);
  let indexN = storedHashIndex(0, n);
  for (;;) {
    // Record n writes 1 + trailingZeros(n+1) hashes.
    const x = indexN + 1 + trailingZeros(n + 1);
    if (x > index) break;
    n++;
    indexN = x;
  }
  const level = index - indexN;
  return { level, n: Math.floor(n / 2 ** level) };
}

/** tlog.StoredHashCount: how many hashes a tree of n leaves stores. */
export function storedHashCount(n: number): number {
  checkCount(n, 'n');
  if (n === 0) return 0;
  let count = storedHashIndex(0, n - 1) + 1;
  for (let i = n - 1; isOdd(i); i = half(i)) count++;
  return count;
}

/**
 * Appends to `out` the stored indexes of the perfect subtrees that make up [lo, hi), largest first
 * (tlog subTreeIndex). lo must be a multiple of the first subtree's size, which holds for every range
 * that RFC 9162 §2.1 recursion produces.
 */
export function subTreeIndexes(lo: number, hi: number, out: number[]): number[] {
  while (lo < hi) {
    const { k, level } = pow2AtMost(hi - lo);
    out.push(storedHashIndex(level, lo / k));
    lo += k;
  }
  return out;
}

/** Number of stored hashes subTreeIndexes(lo, hi) reads. */
export function subTreeCount(lo: number, hi: number): number {
  let count = 0;
  while (lo < hi) {
    lo += pow2AtMost(hi - lo).k;
    count++;
  }
  return count;
}

/** Folds the perfect-subtree hashes of a range, largest first, into MTH of the range (tlog subTreeHash). */
export function foldSubtrees(hashes: readonly Hash[]): Hash {
  if (hashes.length === 0) return EMPTY_ROOT;
  let h = hashes[hashes.length - 1]!;
  for (let i = hashes.length - 2; i >= 0; i--) h = nodeHash(hashes[i]!, h);
  return h;
}

/** The stored indexes of the frontier of a tree of `size` leaves (its perfect subtrees, largest first). */
export function frontierIndexes(size: number): number[] {
  checkCount(size, 'size');
  return subTreeIndexes(0, size, []);
}

/** MTH of the tree whose frontier is given (RFC 9162 §2.1.1: the right-most subtrees fold first). */
export function rootFromFrontier(frontier: readonly Hash[]): Hash {
  frontier.forEach((h, i) => checkHash(h, `frontier[${i}]`));
  return foldSubtrees(frontier);
}

/**
 * Pushes leaf n onto a frontier stack, merging the subtrees it completes; reports every new stored hash.
 * Matches tlog.StoredHashes: the leaf at storedHashIndex(0, n), then one hash per trailing 1 bit of n.
 */
function pushLeaf(stack: Hash[], n: number, leaf: Hash, emit?: (index: number, hash: Hash) => void): void {
  const base = emit ? storedHashIndex(0, n) : 0;
  emit?.(base, leaf);
  stack.push(leaf);
  let h = leaf;
  let level = 0;
  for (let m = n; isOdd(m); m = half(m)) {
    const left = stack[stack.length - 2]!;
    h = nodeHash(left, h);
    stack.splice(stack.length - 2, 2, h);
    level++;
    emit?.(base + level, h);
  }
}

export interface AppendResult {
  stored: { index: number; hash: Hash }[];
  size: number;
  frontier: Hash[];
  root: Hash;
}

/**
 * Appends a batch of leaf hashes to a tree of `size` leaves given its frontier; returns every stored hash
 * to write (ascending index), the new size, frontier and root.
 */
export function appendLeaves(size: number, frontier: readonly Hash[], leaves: readonly Hash[]): AppendResult {
  checkCount(size, 'size');
  if (frontier.length !== popCount(size)) {
    throw invalid(`a tree of size ${size} has ${popCount(size)} frontier hashes, not ${frontier.length}`);
  }
  frontier.forEach((h, i) => checkHash(h, `frontier[${i}]`));
  leaves.forEach((h, i) => checkHash(h, `leaves[${i}]`));
  checkCount(size + leaves.length, 'new size');
  const stack = [...frontier];
  const stored: { index: number; hash: Hash }[] = [];
  const emit = (index: number, hash: Hash): void => {
    stored.push({ index, hash });
  };
  for (let i = 0; i < leaves.length; i++) pushLeaf(stack, size + i, leaves[i]!, emit);
  return { stored, size: size + leaves.length, frontier: stack, root: foldSubtrees(stack) };
}

/** Streaming Merkle Tree Hash (RFC 9162 §2.1.1) in O(log n) memory. */
export class TreeBuilder {
  private readonly stack: Hash[] = [];
  private count = 0;

  append(leaf: Hash): void {
    checkHash(leaf, 'leaf');
    checkCount(this.count + 1, 'size');
    pushLeaf(this.stack, this.count, leaf);
    this.count++;
  }

  get size(): number {
    return this.count;
  }

  root(): Hash {
    return foldSubtrees(this.stack);
  }

  frontier(): Hash[] {
    return [...this.stack];
  }
}

/** MTH of a list of leaf hashes. */
export function rootOfLeaves(leaves: readonly Hash[]): Hash {
  const builder = new TreeBuilder();
  for (const leaf of leaves) builder.append(leaf);
  return builder.root();
}
