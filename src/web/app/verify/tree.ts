// A whole log's Merkle tree re-derived in the browser from its leaves (RFC 9162 §2.1.1), for the artifact
// package: its root must be the signed checkpoint's, and each chosen entry's inclusion proof (§2.1.3.1) is
// then computed here, as `evident export artifact` computes it — the same proof, so the same bytes.
import { nodeHash } from './merkle.js';

/** The largest power of two below n (n > 1): where RFC 9162 splits a tree of n leaves. */
function split(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** The tree's levels: level 0 the leaves, level l+1 the hashes of level l's complete pairs. */
export class LeafTree {
  private readonly levels: Uint8Array[][];

  private constructor(levels: Uint8Array[][]) {
    this.levels = levels;
  }

  /** Builds every complete subtree's hash, a level at a time (WebCrypto in parallel within a level). */
  static async of(leaves: Uint8Array[]): Promise<LeafTree> {
    const levels: Uint8Array[][] = [leaves];
    for (let below = leaves; below.length > 1;) {
      const pairs: Promise<Uint8Array>[] = [];
      for (let i = 0; i + 1 < below.length; i += 2) pairs.push(nodeHash(below[i]!, below[i + 1]!));
      below = await Promise.all(pairs);
      levels.push(below);
    }
    return new LeafTree(levels);
  }

  get size(): number {
    return this.levels[0]!.length;
  }

  /** MTH(D[start:end]): a complete aligned subtree is read from its level; only the right edge is hashed. */
  async hash(start: number, end: number): Promise<Uint8Array> {
    const n = end - start;
    if (n === 1) return this.levels[0]![start]!;
    const k = split(n);
    // A complete subtree (n a power of two, aligned) was hashed when the levels were built.
    if (k * 2 === n && start % n === 0) {
      let level = 0;
      for (let w = 1; w < n; w *= 2) level++;
      return this.levels[level]![start / n]!;
    }
    return nodeHash(await this.hash(start, start + k), await this.hash(start + k, end));
  }

  root(): Promise<Uint8Array> {
    return this.hash(0, this.size);
  }

  /** PATH(m, D[0:size]) of RFC 9162 §2.1.3.1, leaf side first. */
  async inclusionProof(m: number): Promise<Uint8Array[]> {
    const path = async (m: number, start: number, end: number): Promise<Uint8Array[]> => {
      const n = end - start;
      if (n <= 1) return [];
      const k = split(n);
      return m < k
        ? [...(await path(m, start, start + k)), await this.hash(start + k, end)]
        : [...(await path(m - k, start + k, end)), await this.hash(start, start + k)];
    };
    return path(m, 0, this.size);
  }
}
