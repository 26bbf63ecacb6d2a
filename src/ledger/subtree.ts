import { bytesEqual } from '../core/index.js';
import { EMPTY_ROOT, checkCount, failed, half, invalid, isHash, isOdd, nodeHash, pow2AtMost, type Hash } from './hash.js';
import { checkProofHashes, verifyInclusion } from './verify.js';

// Subtree proofs of the IETF "Merkle Tree Certificates" draft (draft-ietf-plants-merkle-tree-certs,
// formerly draft-davidben-tls-merkle-tree-certs: §4.1 subtrees, §4.3 subtree inclusion, §4.4.3 subtree
// consistency), with the edge cases of transparency-dev/merkle's subtreeinclusion / subtreeconsistency
// probes. A subtree [start, end) is valid when start is a multiple of BIT_CEIL(end - start); the empty
// range (start == end) is accepted as a degenerate subtree whose hash is MTH({}).

function bitCeil(n: number): number {
  return n <= 1 ? 1 : pow2AtMost(n - 1).k * 2;
}

function checkSubtree(start: number, end: number): void {
  checkCount(start, 'start');
  checkCount(end, 'end');
  if (start > end) throw invalid(`subtree start ${start} is after its end ${end}`);
  if (start === 0 || start === end) return;
  if (start % bitCeil(end - start) !== 0) {
    throw invalid(`[${start}, ${end}) is not a subtree: ${start} is not a multiple of BIT_CEIL(${end - start})`);
  }
}

/**
 * Throws unless `proof` shows leaf `index` (an index of the whole log) inside the subtree [start, end)
 * whose hash is `subtreeRoot`: an RFC 9162 §2.1.3.2 inclusion proof of index - start in a tree of
 * end - start leaves (MTC draft §4.3).
 */
export function verifySubtreeInclusion(
  index: number, start: number, end: number, leaf: Hash, proof: readonly Hash[], subtreeRoot: Hash,
): void {
  checkSubtree(start, end);
  checkCount(index, 'index');
  if (index < start || index >= end) throw invalid(`leaf index ${index} is outside the subtree [${start}, ${end})`);
  verifyInclusion(index - start, end - start, leaf, proof, subtreeRoot);
}

/**
 * Throws unless `proof` shows that the subtree [start, end) with hash `subtreeRoot` is part of the tree of
 * `size` leaves with root `root` (MTC draft §4.4.3 "Verifying a Subtree Consistency Proof"). With
 * start = 0 this is an RFC 9162 consistency proof from size `end`.
 */
export function verifySubtreeConsistency(
  start: number, end: number, size: number, proof: readonly Hash[], subtreeRoot: Hash, root: Hash,
): void {
  checkSubtree(start, end);
  checkCount(size, 'size');
  if (end > size) throw invalid(`subtree [${start}, ${end}) ends beyond tree size ${size}`);
  checkProofHashes(proof);
  if (start === end) {
    // The empty subtree is part of every tree; only its own hash can be wrong.
    if (proof.length !== 0) throw failed('a proof for an empty subtree must be empty');
    if (!bytesEqual(subtreeRoot, EMPTY_ROOT)) throw failed('the hash of an empty subtree must be MTH({})');
    return;
  }
  if (start === 0 && end === size) {
    if (proof.length !== 0) throw failed('a proof for the whole tree must be empty');
    if (!bytesEqual(subtreeRoot, root)) throw failed(`two different roots for tree size ${size}`);
    return;
  }
  if (proof.length === 0) throw failed(`empty proof for subtree [${start}, ${end}) of size ${size}`);
  if (!isHash(subtreeRoot)) throw failed('the subtree hash is not a 32-byte hash');

  // Step 2: fn, sn and tn are the subtree's first leaf, its last leaf and the tree's last leaf; shifting
  // them right climbs one level.
  let fn = start;
  let sn = end - 1;
  let tn = size - 1;
  const up = (): void => {
    fn = half(fn);
    sn = half(sn);
    tn = half(tn);
  };
  // Steps 3-4: skip the levels that need no proof hash.
  if (sn === tn) {
    while (fn !== sn) up();
  } else {
    while (fn !== sn && isOdd(sn)) up();
  }
  // Steps 5-6: fr rebuilds the subtree hash, sr the tree root, from a shared seed.
  let rest = proof;
  let fr: Hash;
  if (fn === sn) {
    fr = subtreeRoot;
  } else {
    fr = proof[0]!;
    rest = proof.slice(1);
  }
  let sr = fr;
  // Step 7.
  for (const c of rest) {
    if (tn === 0) throw failed(`proof for subtree [${start}, ${end}) of size ${size} is too long`);
    if (isOdd(sn) || sn === tn) {
      if (fn < sn) fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      while (!isOdd(sn)) up();
    } else {
      sr = nodeHash(sr, c);
    }
    up();
  }
  // Step 8.
  if (tn !== 0) throw failed(`proof for subtree [${start}, ${end}) of size ${size} is too short`);
  if (!bytesEqual(fr, subtreeRoot)) throw failed(`proof does not lead to the hash of subtree [${start}, ${end})`);
  if (!bytesEqual(sr, root)) throw failed(`proof does not lead to the root of the tree of size ${size}`);
}
