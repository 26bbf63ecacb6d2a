// RFC 9162 Merkle tree hashing and inclusion proof verification, with WebCrypto's SHA-256, so a browser
// can check the server's answer without trusting it.
import { concat, equalBytes, sha256 } from './bytes.js';

export const HASH_SIZE = 32;

/** RFC 9162 §2.1.1: a leaf's hash is SHA-256(0x00 || entry). */
export function leafHash(entry: Uint8Array): Promise<Uint8Array> {
  return sha256(concat(new Uint8Array([0x00]), entry));
}

/** RFC 9162 §2.1.1: an interior node's hash is SHA-256(0x01 || left || right). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Promise<Uint8Array> {
  return sha256(concat(new Uint8Array([0x01]), left, right));
}

export class ProofError extends Error {
  override name = 'ProofError';
}

/**
 * The root an inclusion proof leads to (RFC 9162 §2.1.3.2, steps 1-6), or a ProofError for a proof that
 * cannot be one (index out of range, wrong length, a hash of the wrong size). Sizes stay below 2^53, so
 * halving is done with division, not 32-bit shifts.
 */
export async function rootFromInclusionProof(index: number, treeSize: number, leaf: Uint8Array, proof: readonly Uint8Array[]): Promise<Uint8Array> {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(treeSize) || index < 0 || index >= treeSize) {
    throw new ProofError(`leaf index ${index} is not below tree size ${treeSize}`);
  }
  if (leaf.length !== HASH_SIZE) throw new ProofError('the leaf hash is not 32 bytes');
  let fn = index;
  let sn = treeSize - 1;
  let r = leaf;
  for (const p of proof) {
    if (p.length !== HASH_SIZE) throw new ProofError('a proof hash is not 32 bytes');
    if (sn === 0) throw new ProofError('the proof is longer than the tree is deep');
    if (fn % 2 === 1 || fn === sn) {
      r = await nodeHash(p, r);
      // Skip the levels where this node is a right-most node without a sibling.
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = await nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  if (sn !== 0) throw new ProofError('the proof is shorter than the tree is deep');
  return r;
}

/** True iff the proof shows the leaf at `index` in the tree of `treeSize` leaves with this root. */
export async function verifyInclusion(index: number, treeSize: number, leaf: Uint8Array, proof: readonly Uint8Array[], root: Uint8Array): Promise<boolean> {
  try {
    return equalBytes(await rootFromInclusionProof(index, treeSize, leaf, proof), root);
  } catch (err) {
    if (err instanceof ProofError) return false;
    throw err;
  }
}

const isOdd = (x: number): boolean => x % 2 === 1;
const half = (x: number): number => Math.floor(x / 2);
const isPowerOfTwo = (x: number): boolean => x > 0 && 2 ** Math.round(Math.log2(x)) === x;

/**
 * RFC 9162 §2.1.4.2 in the browser: true iff `proof` shows that the tree of `size1` leaves with `root1` is a
 * prefix of the tree of `size2` leaves with `root2`. A proof that cannot be one is false, never an exception.
 */
export async function verifyConsistency(size1: number, size2: number, proof: readonly Uint8Array[], root1: Uint8Array, root2: Uint8Array): Promise<boolean> {
  if (!Number.isSafeInteger(size1) || !Number.isSafeInteger(size2) || size1 < 1 || size1 > size2) return false;
  if (proof.some((p) => p.length !== HASH_SIZE) || root1.length !== HASH_SIZE || root2.length !== HASH_SIZE) return false;
  if (size1 === size2) return proof.length === 0 && equalBytes(root1, root2);
  if (proof.length === 0) return false;
  // Step 2: when size1 is an exact power of two the proof omits its root; it starts the path.
  const path = isPowerOfTwo(size1) ? [root1, ...proof] : [...proof];
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
    if (sn === 0) return false;
    if (isOdd(fn) || fn === sn) {
      fr = await nodeHash(c, fr);
      sr = await nodeHash(c, sr);
      while (!isOdd(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      sr = await nodeHash(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  // Step 7.
  return sn === 0 && equalBytes(fr, root1) && equalBytes(sr, root2);
}
