import { bytesEqual } from '../core/index.js';
import { checkCount, failed, half, invalid, isHash, isOdd, nodeHash, pow2AtMost, type Hash } from './hash.js';

// Proof verification exactly as RFC 9162 §2.1.3.2 and §2.1.4.2, on safe integers (bit shifts by division).
// Malformed numbers (negative, not safe integers, index >= size, size1 > size2) are INVALID_ARGUMENT;
// everything about the hashes (wrong length, wrong count, wrong value) is VERIFICATION_FAILED.

export function checkProofHashes(proof: readonly Hash[]): void {
  if (!Array.isArray(proof)) throw failed('the proof must be a list of hashes');
  proof.forEach((h, i) => {
    if (!isHash(h)) throw failed(`proof hash ${i} is not a 32-byte hash`);
  });
}

export function isPowerOfTwo(x: number): boolean {
  return x > 0 && pow2AtMost(x).k === x;
}

/**
 * The root that an inclusion proof implies for leaf `index` of a tree of `size` leaves (the running hash
 * `r` of RFC 9162 §2.1.3.2). Throws when the proof has the wrong shape for (index, size).
 */
export function rootFromInclusionProof(index: number, size: number, leaf: Hash, proof: readonly Hash[]): Hash {
  checkCount(index, 'index');
  checkCount(size, 'size');
  if (index >= size) throw invalid(`leaf index ${index} is not below tree size ${size}`);
  if (!isHash(leaf)) throw failed('the leaf hash is not a 32-byte hash');
  checkProofHashes(proof);
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) throw failed(`inclusion proof for leaf ${index} of ${size} is too long`);
    if (isOdd(fn) || fn === sn) {
      r = nodeHash(p, r);
      while (!isOdd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  if (sn !== 0) throw failed(`inclusion proof for leaf ${index} of ${size} is too short`);
  return r;
}

/** RFC 9162 §2.1.3.2: throws unless `proof` shows leaf `index` of the tree of `size` leaves with `root`. */
export function verifyInclusion(index: number, size: number, leaf: Hash, proof: readonly Hash[], root: Hash): void {
  const computed = rootFromInclusionProof(index, size, leaf, proof);
  if (!bytesEqual(computed, root)) {
    throw failed(`inclusion proof for leaf ${index} does not lead to the root of the tree of size ${size}`);
  }
}

/**
 * RFC 9162 §2.1.4.2: throws unless `proof` shows that the tree of `size1` leaves with `root1` is a prefix
 * of the tree of `size2` leaves with `root2`. Equal sizes need an empty proof and equal roots. A proof from
 * the empty tree proves nothing and is refused (size1 = 0; as transparency-dev/merkle's probes require):
 * callers treat size 0 specially.
 */
export function verifyConsistency(size1: number, size2: number, proof: readonly Hash[], root1: Hash, root2: Hash): void {
  checkCount(size1, 'size1');
  checkCount(size2, 'size2');
  if (size1 > size2) throw invalid(`consistency from size ${size1} to the smaller size ${size2}`);
  if (size1 === 0) throw invalid('a consistency proof from the empty tree proves nothing');
  checkProofHashes(proof);
  if (size1 === size2) {
    if (proof.length !== 0) throw failed('a consistency proof between equal sizes must be empty');
    if (!bytesEqual(root1, root2)) throw failed(`two different roots for tree size ${size1}`);
    return;
  }
  if (proof.length === 0) throw failed(`empty consistency proof from size ${size1} to ${size2}`);
  if (!isHash(root1)) throw failed('root1 is not a 32-byte hash');
  // Step 2: if size1 is an exact power of two, the proof omits its root; prepend it.
  const { fr, sr } = consistencyRoots(size1, size2, isPowerOfTwo(size1) ? [root1, ...proof] : [...proof]);
  // Step 7.
  if (!bytesEqual(fr, root1)) throw failed(`consistency proof does not lead to the root of size ${size1}`);
  if (!bytesEqual(sr, root2)) throw failed(`consistency proof does not lead to the root of size ${size2}`);
}

/** RFC 9162 §2.1.4.2 steps 3-7 over the full path: the two roots the proof leads to. */
function consistencyRoots(size1: number, size2: number, path: readonly Hash[]): { fr: Hash; sr: Hash } {
  // Steps 3-4.
  let fn = size1 - 1;
  let sn = size2 - 1;
  while (isOdd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  // Steps 5-6.
  let fr = path[0]!;
  let sr = path[0]!;
  for (const c of path.slice(1)) {
    if (sn === 0) throw failed(`consistency proof from ${size1} to ${size2} is too long`);
    if (isOdd(fn) || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      while (!isOdd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  if (sn !== 0) throw failed(`consistency proof from ${size1} to ${size2} is too short`);
  return { fr, sr };
}

/**
 * The root of the first `size1` leaves that a consistency proof commits to, given that the proof leads to
 * the trusted `root2` (RFC 9162 §2.1.4.2 with root1 unknown). Lets a verifier holding only a signed root
 * learn the genuine root of a prefix from an untrusted proof: if the proof leads to root2, the prefix root
 * it yields is the one root2 committed to (collision resistance). Undefined when size1 is a power of two
 * (such a proof omits the prefix root, so it cannot tell it) or size1 is 0 or size2; throws when the proof
 * does not lead to root2.
 */
export function prefixRootFromConsistencyProof(size1: number, size2: number, proof: readonly Hash[], root2: Hash): Hash | undefined {
  checkCount(size1, 'size1');
  checkCount(size2, 'size2');
  if (size1 > size2) throw invalid(`consistency from size ${size1} to the smaller size ${size2}`);
  if (size1 === 0 || size1 === size2 || isPowerOfTwo(size1)) return undefined;
  checkProofHashes(proof);
  if (proof.length === 0) throw failed(`empty consistency proof from size ${size1} to ${size2}`);
  const { fr, sr } = consistencyRoots(size1, size2, proof);
  if (!bytesEqual(sr, root2)) throw failed(`consistency proof does not lead to the root of size ${size2}`);
  return fr;
}
