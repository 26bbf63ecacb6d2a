import { EvidentError, bytesEqual } from '../core/index.js';
import { checkCount, isHash, nodeHash, pow2AtMost, pow2Below, type Hash } from './hash.js';
import { storedHashIndex } from './stored.js';

// Checks that many leaves at once are the leaves of a tree whose root is known (a multi-leaf inclusion
// check): the hash of every RFC 9162 §2.1.1 subtree [lo, hi) that holds a leaf being checked is computed from
// those leaves and the stored hashes of the subtrees beside them, up to the root, which must equal the signed
// one. k leaves of a tree of n read about k·log2(n/k) stored hashes, the ones a proof per leaf would share.
//
// `known` holds perfect subtree hashes already checked against a root (a perfect subtree of an append-only
// tree never changes): a leaf under a known subtree is checked against that subtree only, and a known
// subtree beside a path stands in for its stored hash. Two phases, as proof.ts: a plan (the stored hashes to
// read, one query) and the check from them.

/** A perfect subtree: `level` (2^level leaves), `n` its index within its level. */
export interface TreeNode {
  level: number;
  n: number;
}

/** Perfect subtree hashes checked against a root earlier, by level and index. */
export type KnownNodes = (level: number, n: number) => Hash | undefined;

export interface LeafCheckResult {
  /** Every perfect subtree hash this check bound to the root (or to a known subtree): safe to remember. */
  checked: (TreeNode & { hash: Hash })[];
}

interface Walk {
  /** The leaf indexes being checked, ascending. */
  leaves: readonly number[];
  leafHash: (index: number) => Hash;
  known: KnownNodes;
  /** The stored hash of a perfect subtree no checked leaf is under. */
  stored: (level: number, n: number) => Hash;
  hash: (left: Hash, right: Hash) => Hash;
  /** A perfect subtree's hash as this walk computed or read it. */
  seen?: (level: number, n: number, hash: Hash) => void;
  /** Called when a computed subtree differs from a known one (the plan's walk computes nothing: it ignores it). */
  mismatch: (level: number, n: number) => void;
}

/** The first position in `leaves[from..to)` whose value is >= x. */
function lowerBound(leaves: readonly number[], from: number, to: number, x: number): number {
  while (from < to) {
    const mid = (from + to) >>> 1;
    if (leaves[mid]! < x) from = mid + 1;
    else to = mid;
  }
  return from;
}

/** MTH(D[lo:hi]) where leaves[from..to) are the checked leaves in [lo, hi) (RFC 9162 §2.1.1 recursion). */
function walk(w: Walk, lo: number, hi: number, from: number, to: number): Hash {
  const { k, level } = pow2AtMost(hi - lo);
  const perfect = k === hi - lo;
  const n = perfect ? lo / k : -1;
  if (from === to && perfect) {
    const hash = w.known(level, n) ?? w.stored(level, n);
    w.seen?.(level, n, hash);
    return hash;
  }
  if (hi - lo === 1) return w.leafHash(lo);
  const split = lo + pow2Below(hi - lo);
  const mid = lowerBound(w.leaves, from, to, split);
  const hash = w.hash(walk(w, lo, split, from, mid), walk(w, split, hi, mid, to));
  if (perfect) {
    const known = w.known(level, n);
    if (known && !bytesEqual(known, hash)) w.mismatch(level, n);
    w.seen?.(level, n, hash);
  }
  return hash;
}

/** For each leaf, the highest known perfect subtree above it (level ≥ 1), or none: it is checked against the root. */
function anchorsOf(size: number, leaves: readonly number[], known: KnownNodes): { anchors: Map<string, TreeNode & { leaves: number[] }>; rest: number[] } {
  const anchors = new Map<string, TreeNode & { leaves: number[] }>();
  const rest: number[] = [];
  for (const leaf of leaves) {
    let found: TreeNode | undefined;
    for (let level = 1; 2 ** level <= size; level++) {
      const n = Math.floor(leaf / 2 ** level);
      if ((n + 1) * 2 ** level > size) break;
      if (known(level, n)) found = { level, n };
    }
    if (!found) {
      rest.push(leaf);
      continue;
    }
    const key = `${found.level}/${found.n}`;
    let anchor = anchors.get(key);
    if (!anchor) anchors.set(key, (anchor = { ...found, leaves: [] }));
    anchor.leaves.push(leaf);
  }
  return { anchors, rest };
}

function sortedLeaves(size: number, leaves: Iterable<number>): number[] {
  checkCount(size, 'size');
  const out = [...new Set(leaves)].sort((a, b) => a - b);
  for (const leaf of out) {
    checkCount(leaf, 'leaf index');
    if (leaf >= size) throw new EvidentError('INVALID_ARGUMENT', `leaf index ${leaf} is not below tree size ${size}`);
  }
  return out;
}

const PLACEHOLDER = new Uint8Array(32);

/** Runs `check` over each group: under a known subtree (checked against it), and the rest (against the root). */
function eachGroup(size: number, leaves: readonly number[], known: KnownNodes, check: (lo: number, hi: number, group: readonly number[], expected: Hash | undefined, top: TreeNode | undefined) => void): void {
  const { anchors, rest } = anchorsOf(size, leaves, known);
  for (const a of anchors.values()) check(a.n * 2 ** a.level, (a.n + 1) * 2 ** a.level, a.leaves, known(a.level, a.n)!, a);
  if (rest.length > 0) check(0, size, rest, undefined, undefined);
}

/** The stored hash indexes `checkLeaves` will read for these leaves of a tree of `size` (deduplicated, unordered). */
export function leafCheckPlan(size: number, leaves: Iterable<number>, known: KnownNodes = () => undefined): number[] {
  const sorted = sortedLeaves(size, leaves);
  const plan = new Set<number>();
  eachGroup(size, sorted, known, (lo, hi, group) => {
    walk({
      leaves: group, known, leafHash: () => PLACEHOLDER, hash: () => PLACEHOLDER, mismatch: () => undefined,
      stored: (level, n) => {
        plan.add(storedHashIndex(level, n));
        return PLACEHOLDER;
      },
    }, lo, hi, 0, group.length);
  });
  return [...plan];
}

/**
 * Checks that `leaves` (index → leaf hash) are leaves of the tree of `size` whose root is `root`, from the
 * stored hashes `leafCheckPlan` named; TAMPERED when they do not lead there, naming the leaves of the group
 * that failed. Returns the perfect subtree hashes of `minLevel` or above the check bound, for a caller's `known`.
 */
export function checkLeaves(
  size: number, root: Hash, leaves: ReadonlyMap<number, Hash>, stored: ReadonlyMap<number, Hash>, known: KnownNodes = () => undefined, minLevel = 0,
): LeafCheckResult {
  const sorted = sortedLeaves(size, leaves.keys());
  const checked: (TreeNode & { hash: Hash })[] = [];
  eachGroup(size, sorted, known, (lo, hi, group, expected, top) => {
    const fail = (what: string): never => {
      const shown = group.length > 5 ? `${group.slice(0, 5).join(', ')}… (${group.length} entries)` : group.join(', ');
      const [noun, verb] = group.length > 1 ? ['entries', 'do'] : ['entry', 'does'];
      throw new EvidentError('TAMPERED', `log ${noun} ${shown} ${what.replace('{do}', verb)}`, { details: { entry_index: group[0] } });
    };
    const seen: (TreeNode & { hash: Hash })[] = [];
    const hash = walk({
      leaves: group, known, hash: nodeHash,
      leafHash: (index) => leaves.get(index)!,
      stored: (level, n) => {
        const h = stored.get(storedHashIndex(level, n));
        if (!isHash(h)) fail(`cannot be checked: stored hash (${level}, ${n}) is ${h === undefined ? 'missing' : 'malformed'}`);
        return h!;
      },
      seen: (level, n, h) => {
        if (level >= minLevel) seen.push({ level, n, hash: h });
      },
      mismatch: (level, n) => fail(`{do} not hash to the subtree (${level}, ${n}) checked before against the signed root`),
    }, lo, hi, 0, group.length);
    if (expected && top ? !bytesEqual(hash, expected) : !bytesEqual(hash, root)) {
      fail(top ? `{do} not hash to the subtree (${top.level}, ${top.n}) checked before against the signed root` : `{do} not lead to the signed root of the tree of size ${size}`);
    }
    checked.push(...seen);
  });
  return { checked };
}
