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
