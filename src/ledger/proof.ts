import { EvidentError } from '../core/index.js';
import { checkCount, invalid, isHash, pow2Below, type Hash } from './hash.js';
import { foldSubtrees, subTreeCount, subTreeIndexes } from './stored.js';

// Proof generation from stored hashes, after golang.org/x/mod/sumdb/tlog (ProveRecord, ProveTree, TreeHash).
// Each operation has two phases: a plan (the stored indexes it needs, so that storage answers in one
// query) and an assembly from a map of those hashes. A non-perfect subtree [lo, hi) is folded from the
// perfect aligned subtrees that compose it, so a proof reads O(log n) stored hashes.

/** Hands out the planned hashes in plan order; a missing or malformed stored hash means tampering. */
class PlannedHashes {
  private pos = 0;
  private readonly list: Hash[];

  constructor(plan: readonly number[], hashes: ReadonlyMap<number, Hash>) {
    this.list = plan.map((index) => {
      const hash = hashes.get(index);
      if (!isHash(hash)) {
        throw new EvidentError('TAMPERED', `stored hash ${index} is ${hash === undefined ? 'missing' : 'malformed'}`);
      }
      return hash;
    });
  }

  /** MTH(D[lo:hi]) from the next subTreeCount(lo, hi) planned hashes. */
  subtree(lo: number, hi: number): Hash {
    const count = subTreeCount(lo, hi);
    const parts = this.list.slice(this.pos, this.pos + count);
    this.pos += count;
    return foldSubtrees(parts);
  }
}

/** The stored indexes needed for MTH of the first `size` leaves. */
export function treeRootPlan(size: number): number[] {
  checkCount(size, 'size');
  return subTreeIndexes(0, size, []);
}

/** MTH(D[0:size]) (RFC 9162 §2.1.1); EMPTY_ROOT for size 0. */
export function treeRoot(size: number, hashes: ReadonlyMap<number, Hash>): Hash {
  return new PlannedHashes(treeRootPlan(size), hashes).subtree(0, size);
}

function checkInclusionArgs(index: number, size: number): void {
  checkCount(index, 'index');
  checkCount(size, 'size');
  if (index >= size) throw invalid(`leaf index ${index} is not below tree size ${size}`);
}

// RFC 9162 §2.1.3.1 PATH(m, D[lo:hi]), as tlog leafProofIndex / leafProof.
function inclusionIndexes(lo: number, hi: number, m: number, out: number[]): number[] {
  if (lo + 1 === hi) return out;
  const k = pow2Below(hi - lo);
  if (m < lo + k) {
    inclusionIndexes(lo, lo + k, m, out);
    subTreeIndexes(lo + k, hi, out);
  } else {
    subTreeIndexes(lo, lo + k, out);
    inclusionIndexes(lo + k, hi, m, out);
  }
  return out;
}

function inclusionPath(lo: number, hi: number, m: number, r: PlannedHashes): Hash[] {
  if (lo + 1 === hi) return [];
  const k = pow2Below(hi - lo);
  let path: Hash[];
  let sibling: Hash;
  if (m < lo + k) {
    path = inclusionPath(lo, lo + k, m, r);
    sibling = r.subtree(lo + k, hi);
  } else {
    sibling = r.subtree(lo, lo + k);
    path = inclusionPath(lo + k, hi, m, r);
  }
  path.push(sibling);
  return path;
}

/** The stored indexes needed for the inclusion proof of leaf `index` in the tree of `size` leaves. */
export function inclusionProofPlan(index: number, size: number): number[] {
  checkInclusionArgs(index, size);
  return inclusionIndexes(0, size, index, []);
}

/** The inclusion proof PATH(index, D[0:size]) of RFC 9162 §2.1.3.1, deepest sibling first. */
export function inclusionProof(index: number, size: number, hashes: ReadonlyMap<number, Hash>): Hash[] {
  const plan = inclusionProofPlan(index, size);
  return inclusionPath(0, size, index, new PlannedHashes(plan, hashes));
}

function checkConsistencyArgs(from: number, to: number): void {
  checkCount(from, 'from');
  checkCount(to, 'to');
  if (from > to) throw invalid(`consistency proof from size ${from} to the smaller size ${to}`);
}

// RFC 9162 §2.1.4.1 SUBPROOF(m, D[lo:hi], b), as tlog treeProofIndex / treeProof; b is (lo == 0).
function consistencyIndexes(lo: number, hi: number, m: number, out: number[]): number[] {
  if (m === hi) return lo === 0 ? out : subTreeIndexes(lo, hi, out);
  const k = pow2Below(hi - lo);
  if (m <= lo + k) {
    consistencyIndexes(lo, lo + k, m, out);
    subTreeIndexes(lo + k, hi, out);
  } else {
    subTreeIndexes(lo, lo + k, out);
    consistencyIndexes(lo + k, hi, m, out);
  }
  return out;
}

function consistencyPath(lo: number, hi: number, m: number, r: PlannedHashes): Hash[] {
  if (m === hi) return lo === 0 ? [] : [r.subtree(lo, hi)];
  const k = pow2Below(hi - lo);
  let path: Hash[];
  let sibling: Hash;
  if (m <= lo + k) {
    path = consistencyPath(lo, lo + k, m, r);
    sibling = r.subtree(lo + k, hi);
  } else {
    sibling = r.subtree(lo, lo + k);
    path = consistencyPath(lo + k, hi, m, r);
  }
  path.push(sibling);
  return path;
}

/**
 * The stored indexes needed for the consistency proof from size `from` to size `to`. The proof is empty
 * when from == to and, since RFC 9162 defines no proof from the empty tree, also when from == 0.
 */
export function consistencyProofPlan(from: number, to: number): number[] {
  checkConsistencyArgs(from, to);
  if (from === 0 || from === to) return [];
  return consistencyIndexes(0, to, from, []);
}

/** The consistency proof PROOF(from, D[0:to]) of RFC 9162 §2.1.4.1. */
export function consistencyProof(from: number, to: number, hashes: ReadonlyMap<number, Hash>): Hash[] {
  const plan = consistencyProofPlan(from, to);
  if (from === 0 || from === to) return [];
  return consistencyPath(0, to, from, new PlannedHashes(plan, hashes));
}
