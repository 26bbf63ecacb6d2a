import { EvidentError } from '../core/index.js';
import { HASH_SIZE, type Hash } from './hash.js';
import { MAP_DEPTH, MAP_EMPTY, keyBit, mapLeafHashInto, mapNodeHashInto, type MapProof } from './map-hash.js';
import { RADIX_FROM, radixByPrefix } from './prefix-sort.js';

// The subject map's tree as the map thread keeps it (docs/log.md, "The subject map"): the same compressed
// sparse Merkle tree as map-tree.ts (an empty subtree is no node, a subtree of one leaf is that leaf, only
// subtrees of two or more leaves are interior nodes), with the same roots and proofs, but its nodes live in
// typed arrays instead of one object per node. The object tree cost the map thread ~9 µs of garbage
// collection per entry (every node and hash an object the collector marks, millions of them at a million
// subjects) and ~8 µs of allocation-heavy recursion (docs/performance.md, issue #17).
//
// Two versions are kept, as the writer needs (services/map-trees.ts): the base, and the result of the latest
// update from it, because a batch whose transaction is rolled back is tried again from the same base, and
// proofs may be asked of either. An update copies the paths it changes (the base stays whole) and lists the
// base's nodes it replaced and the nodes it made; the next update frees one list or the other: the replaced
// ones when it moves forward (the old base is no longer needed), the made ones when it retries from the base.
// So memory is the live tree plus one batch's paths, with no compaction pass.

const NIL = -1;
/** `left[x] === LEAF` marks a leaf; its `right[x]` is then the slot of its key in `keys`. */
const LEAF = -2;

/** A growable stack of node or key slots. */
class Slots {
  private a = new Int32Array(256);
  length = 0;
  push(v: number): void {
    if (this.length === this.a.length) {
      const b = new Int32Array(this.a.length * 2);
      b.set(this.a);
      this.a = b;
    }
    this.a[this.length++] = v;
  }
  pop(): number {
    return this.a[--this.length]!;
  }
  /** Moves every slot of this stack onto `to`. */
  drainInto(to: Slots): void {
    for (let i = 0; i < this.length; i++) to.push(this.a[i]!);
    this.length = 0;
  }
}

export class MapForest {
  // Per node: children (or LEAF and the key slot), the leaf's index, and the node's hash (32 bytes).
  private left = new Int32Array(1024);
  private right = new Int32Array(1024);
  private index = new Float64Array(1024);
  private hashes = new Uint8Array(HASH_SIZE * 1024);
  private nodes = 0;
  private readonly freeNodes = new Slots();
  // Per key slot: a leaf's 32-byte key, shared by every version of that leaf.
  private keys = new Uint8Array(HASH_SIZE * 1024);
  private keyCount = 0;
  private readonly freeKeys = new Slots();

  private baseSize = 0;
  private baseRoot = NIL;
  private curSize = -1;
  private curRoot = NIL;
  /** Nodes of the base that the current version replaced (freed when the base is dropped). */
  private readonly replaced = new Slots();
  /** Nodes and key slots the current version made (freed when it is dropped for a retry). */
  private readonly made = new Slots();
  private readonly madeKeys = new Slots();

  // The batch being applied: its keys sorted and distinct, their indexes, and the key slot of each one
  // that replaces an existing leaf (-1: a new key).
  private sk = new Uint8Array(0);
  private si = new Float64Array(0);
  private reuse = new Int32Array(0);

  /** Whether the tree of this size is held (0, the empty map, always is). */
  has(size: number): boolean {
    return size === 0 || size === this.baseSize || size === this.curSize;
  }

  /** Live nodes and key slots, and the bytes the arrays hold (for tests and reports). */
  get stats(): { nodes: number; keys: number; bytes: number } {
    return {
      nodes: this.nodes - this.freeNodes.length,
      keys: this.keyCount - this.freeKeys.length,
      bytes: this.left.byteLength + this.right.byteLength + this.index.byteLength + this.hashes.byteLength + this.keys.byteLength,
    };
  }

  /**
   * The tree of size `next`: the tree of size `base` with the key at `keys[32i, 32i + 32)` set to `indexes[i]`
   * (a key given twice keeps its last index). Returns the new root. After it, `base` and `next` are held.
   */
  apply(base: number, next: number, keys: Uint8Array, indexes: ArrayLike<number>): Hash {
    const n = indexes.length;
    if (keys.length !== HASH_SIZE * n) throw new EvidentError('INVALID_ARGUMENT', 'map update: one 32-byte key per index');
    for (let i = 0; i < n; i++) {
      const v = indexes[i]!;
      if (!Number.isSafeInteger(v) || v < 0) throw new EvidentError('INVALID_ARGUMENT', `map index must be a non-negative integer, not ${v}`);
    }
    // Checked before anything changes, so a refused update leaves both versions as they were.
    let from: number;
    if (base === this.curSize) {
      this.replaced.drainInto(this.freeNodes);
      this.made.length = 0;
      this.madeKeys.length = 0;
      from = this.curRoot;
    } else if (base === this.baseSize && base !== 0) {
      this.made.drainInto(this.freeNodes);
      this.madeKeys.drainInto(this.freeKeys);
      this.replaced.length = 0;
      from = this.baseRoot;
    } else if (base === 0) {
      this.reset();
      // A whole map loaded at once (a process that starts): room for every leaf and interior node up front,
      // instead of growing the arrays by half some thirty times over (each a copy of everything so far).
      this.reserve(2 * n, n);
      from = NIL;
    } else {
      throw new EvidentError('CONFLICT', `the subject map of size ${base} is not in memory`);
    }
    this.baseSize = base;
    this.baseRoot = from;
    this.curSize = -1;
    this.sortBatch(keys, indexes);
    this.curRoot = this.build(from, 0, 0, this.si.length, NIL);
    this.curSize = next;
    return this.hashOf(this.curRoot);
  }

  /** The root hash of a held size. */
  root(size: number): Hash {
    return this.hashOf(this.rootOf(size));
  }

  /** The latest index of a key in the tree of `size`, or undefined. */
  lookup(size: number, key: Hash): number | undefined {
    let n = this.rootOf(size);
    for (let d = 0; n !== NIL; d++) {
      if (this.left[n] === LEAF) return this.keyEquals(this.right[n]!, key, 0) ? this.index[n]! : undefined;
      n = keyBit(key, d) === 0 ? this.left[n]! : this.right[n]!;
    }
    return undefined;
  }

  /** The proof of presence or absence of a key in the tree of `size` (map-hash.ts verifyMapProof checks it). */
  prove(size: number, key: Hash): MapProof {
    const siblings: Hash[] = [];
    let n = this.rootOf(size);
    for (let d = 0; n !== NIL && this.left[n] !== LEAF; d++) {
      const right = keyBit(key, d) === 1;
      siblings.push(this.hashOf(right ? this.left[n]! : this.right[n]!));
      n = right ? this.right[n]! : this.left[n]!;
    }
    if (n === NIL) return { key, siblings, leaf: null };
    const slot = this.right[n]!;
    return { key, siblings, leaf: { key: this.keys.slice(HASH_SIZE * slot, HASH_SIZE * slot + HASH_SIZE), index: this.index[n]! } };
  }

  private rootOf(size: number): number {
    if (size === 0) return NIL;
    if (size === this.curSize) return this.curRoot;
    if (size === this.baseSize) return this.baseRoot;
    throw new EvidentError('CONFLICT', `the subject map of size ${size} is not in memory`);
  }

  private hashOf(n: number): Hash {
    return n === NIL ? MAP_EMPTY : this.hashes.slice(HASH_SIZE * n, HASH_SIZE * n + HASH_SIZE);
  }

  private reset(): void {
    this.nodes = 0;
    this.keyCount = 0;
    this.freeNodes.length = 0;
    this.freeKeys.length = 0;
    this.replaced.length = 0;
    this.made.length = 0;
    this.madeKeys.length = 0;
  }

  /** The batch sorted by key through a 32-bit prefix (keys are SHA-256 outputs), each key once at its last index. */
  private sortBatch(keys: Uint8Array, indexes: ArrayLike<number>): void {
    const n = indexes.length;
    const prefix = new Uint32Array(n);
    const order = new Uint32Array(n);
    for (let i = 0; i < n; i++) {
      const o = HASH_SIZE * i;
      prefix[i] = ((keys[o]! << 24) | (keys[o + 1]! << 16) | (keys[o + 2]! << 8) | keys[o + 3]!) >>> 0;
      order[i] = i;
    }
    const cmp = (a: number, b: number) => {
      for (let i = 4; i < HASH_SIZE; i++) {
        const d = keys[HASH_SIZE * a + i]! - keys[HASH_SIZE * b + i]!;
        if (d !== 0) return d;
      }
      return 0;
    };
    // Ties by position, so that the last update of a key is the last of its run.
    if (n < RADIX_FROM) order.sort((a, b) => (prefix[a] !== prefix[b] ? (prefix[a]! < prefix[b]! ? -1 : 1) : cmp(a, b) || a - b));
    else radixByPrefix(prefix, order, (a, b) => cmp(a, b) || a - b);
    let m = 0;
    for (let j = 0; j < n; j++) {
      const at = order[j]!;
      const next = j + 1 < n ? order[j + 1]! : -1;
      if (next >= 0 && prefix[at] === prefix[next] && cmp(at, next) === 0) continue;
      order[m++] = at;
    }
    const sk = (this.sk = new Uint8Array(HASH_SIZE * m));
    this.si = new Float64Array(m);
    this.reuse = new Int32Array(m).fill(-1);
    for (let j = 0; j < m; j++) {
      const at = order[j]!;
      // Byte by byte: a subarray per key was an object per key (hundreds of thousands at start-up).
      for (let b = 0, from = HASH_SIZE * at, to = HASH_SIZE * j; b < HASH_SIZE; b++) sk[to + b] = keys[from + b]!;
      this.si[j] = indexes[at]!;
    }
  }

  /**
   * The subtree for the batch's keys [lo, hi) (they share the bits above `depth`) applied to `node`, plus the
   * existing leaf `carry` pushed down into it (NIL: none; never with a non-NIL `node`).
   */
  private build(node: number, depth: number, lo: number, hi: number, carry: number): number {
    if (lo === hi) return carry !== NIL ? carry : node;
    if (node !== NIL && this.left[node] === LEAF) {
      // A leaf on the path: replaced if the batch has its key (its key slot goes on), else pushed down.
      const p = this.findKey(this.right[node]!, lo, hi);
      if (p >= 0) {
        this.reuse[p] = this.right[node]!;
        this.replaced.push(node);
      } else {
        carry = node;
      }
      node = NIL;
    }
    if (node === NIL && carry === NIL && hi - lo === 1) return this.newLeaf(lo);
    if (depth >= MAP_DEPTH) throw new EvidentError('INTERNAL', 'two map updates with the same key');
    const mid = this.splitAt(lo, hi, depth);
    let carryLeft = NIL;
    let carryRight = NIL;
    if (carry !== NIL) {
      if (this.slotBit(this.right[carry]!, depth) === 0) carryLeft = carry;
      else carryRight = carry;
    }
    // Children are read through `this`: building the left side may grow (reallocate) the arrays.
    const l = this.build(node === NIL ? NIL : this.left[node]!, depth + 1, lo, mid, carryLeft);
    const r = this.build(node === NIL ? NIL : this.right[node]!, depth + 1, mid, hi, carryRight);
    if (node !== NIL) this.replaced.push(node);
    return this.join(l, r);
  }

  /** Two subtrees joined: a single leaf moves up (its hash is the same at every height), empty stays empty. */
  private join(l: number, r: number): number {
    if (l === NIL && (r === NIL || this.left[r] === LEAF)) return r;
    if (r === NIL && this.left[l] === LEAF) return l;
    const x = this.allocNode();
    this.left[x] = l;
    this.right[x] = r;
    mapNodeHashInto(this.hashes, l === NIL ? -1 : HASH_SIZE * l, r === NIL ? -1 : HASH_SIZE * r, HASH_SIZE * x);
    return x;
  }

  private newLeaf(p: number): number {
    let slot = this.reuse[p]!;
    if (slot < 0) {
      slot = this.allocKey();
      this.keys.set(this.sk.subarray(HASH_SIZE * p, HASH_SIZE * p + HASH_SIZE), HASH_SIZE * slot);
    }
    const x = this.allocNode();
    this.left[x] = LEAF;
    this.right[x] = slot;
    this.index[x] = this.si[p]!;
    mapLeafHashInto(this.keys, HASH_SIZE * slot, this.si[p]!, this.hashes, HASH_SIZE * x);
    return x;
  }

  /** The position in [lo, hi) of the batch key equal to key slot `slot`, or -1 (binary search: sorted). */
  private findKey(slot: number, lo: number, hi: number): number {
    const k = this.keys;
    const s = this.sk;
    let a = lo;
    let b = hi;
    while (a < b) {
      const mid = (a + b) >>> 1;
      let d = 0;
      for (let i = 0; i < HASH_SIZE && d === 0; i++) d = s[HASH_SIZE * mid + i]! - k[HASH_SIZE * slot + i]!;
      if (d === 0) return mid;
      if (d < 0) a = mid + 1;
      else b = mid;
    }
    return -1;
  }

  /** The first position in [lo, hi) whose key has bit `depth` set (the batch is sorted; all share the bits above). */
  private splitAt(lo: number, hi: number, depth: number): number {
    const byte = depth >> 3;
    const mask = 0x80 >> (depth & 7);
    let a = lo;
    let b = hi;
    while (a < b) {
      const mid = (a + b) >>> 1;
      if ((this.sk[HASH_SIZE * mid + byte]! & mask) === 0) a = mid + 1;
      else b = mid;
    }
    return a;
  }

  private slotBit(slot: number, depth: number): number {
    return (this.keys[HASH_SIZE * slot + (depth >> 3)]! >> (7 - (depth & 7))) & 1;
  }

  private keyEquals(slot: number, key: Uint8Array, at: number): boolean {
    for (let i = 0; i < HASH_SIZE; i++) if (this.keys[HASH_SIZE * slot + i] !== key[at + i]) return false;
    return true;
  }

  private allocNode(): number {
    let x: number;
    if (this.freeNodes.length > 0) x = this.freeNodes.pop();
    else {
      if (this.nodes === this.left.length) this.growNodes();
      x = this.nodes++;
    }
    this.made.push(x);
    return x;
  }

  private allocKey(): number {
    let s: number;
    if (this.freeKeys.length > 0) s = this.freeKeys.pop();
    else {
      if (HASH_SIZE * (this.keyCount + 1) > this.keys.length) this.keys = grown(this.keys, HASH_SIZE * Math.ceil(this.keyCount * 1.5 + 1));
      s = this.keyCount++;
    }
    this.madeKeys.push(s);
    return s;
  }

  private reserve(nodes: number, keys: number): void {
    if (this.left.length < nodes) {
      this.left = grown(this.left, nodes);
      this.right = grown(this.right, nodes);
      this.index = grown(this.index, nodes);
      this.hashes = grown(this.hashes, HASH_SIZE * nodes);
    }
    if (this.keys.length < HASH_SIZE * keys) this.keys = grown(this.keys, HASH_SIZE * keys);
  }

  private growNodes(): void {
    // By half: at a million subjects the arrays are ~100 MB, and doubling could leave half of that unused.
    const cap = Math.ceil(this.left.length * 1.5);
    this.left = grown(this.left, cap);
    this.right = grown(this.right, cap);
    this.index = grown(this.index, cap);
    this.hashes = grown(this.hashes, HASH_SIZE * cap);
  }
}

function grown<T extends Int32Array | Float64Array | Uint8Array>(a: T, length: number): T {
  const b = new (a.constructor as new (n: number) => T)(length);
  b.set(a);
  return b;
}
