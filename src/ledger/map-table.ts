import { randomBytes } from 'node:crypto';
import { EvidentError } from '../core/index.js';
import { HASH_SIZE, type Hash } from './hash.js';
import { MAP_EMPTY, binaryToHash, mapLeafHashBinary, mapNodeHashBinary } from './map-hash.js';

// The subject map's leaves (docs/log.md, "The subject map") in flat typed arrays: each subject's 32-byte map
// key and latest entry index, and an open-addressing table of their positions. A verifier that recomputes
// the map of a whole log (`verify log --full`) holds one leaf per subject the log has ever named: about
// 40–60 bytes each here, where a Map from subject text to index plus the tree's node objects took ~10 times
// that (issue #21: the verifier must stay within 256 MB at any size). The root is computed once, at the
// end, from the leaves sorted by key; no tree is kept.

const EMPTY = -1;
const MAX_LOAD = 0.6;

// Keys are SHA-256 outputs, but of subject names the log's writer chooses: slots are picked by a hash
// keyed with this process's random multipliers, so no one can aim many keys at one slot (hash flooding).
const seeds = randomBytes(8);
const MUL_A = (seeds.readUInt32BE(0) | 1) >>> 0;
const MUL_B = (seeds.readUInt32BE(4) | 1) >>> 0;

export class MapLeafTable {
  private keys = new Uint8Array(HASH_SIZE * 1024);
  private latest = new Float64Array(1024);
  private slots = new Int32Array(2048).fill(EMPTY);
  private bits = 11;
  private count = 0;

  /** The number of subjects (leaves). */
  get size(): number {
    return this.count;
  }

  /** Bytes held by the table's arrays (for reports and the memory test). */
  get bytes(): number {
    return this.keys.byteLength + this.latest.byteLength + this.slots.byteLength;
  }

  /** The latest index of the key at `buf[offset, offset + 32)`, or null if the table has no such key. */
  get(buf: Uint8Array, offset = 0): number | null {
    const at = this.find(buf, offset);
    return at === EMPTY ? null : this.latest[at]!;
  }

  /** Sets the latest index of the key at `buf[offset, offset + 32)`, adding it if new. */
  set(buf: Uint8Array, offset: number, index: number): void {
    if (!Number.isSafeInteger(index) || index < 0) throw new EvidentError('INVALID_ARGUMENT', `map index must be a non-negative integer, not ${index}`);
    let slot = this.slotOf(buf, offset);
    const mask = this.slots.length - 1;
    for (;;) {
      const at = this.slots[slot]!;
      if (at === EMPTY) break;
      if (this.keyAt(at, buf, offset)) {
        this.latest[at] = index;
        return;
      }
      slot = (slot + 1) & mask;
    }
    if (this.count === this.latest.length) this.growLeaves();
    const at = this.count++;
    this.keys.set(buf.subarray(offset, offset + HASH_SIZE), HASH_SIZE * at);
    this.latest[at] = index;
    this.slots[slot] = at;
    if (this.count > MAX_LOAD * this.slots.length) this.growSlots();
  }

  /**
   * The map root of the leaves (the hash rules of docs/log.md): leaves sorted by key, then each subtree
   * of two or more leaves hashed from its halves, split by key bit, depth first. O(n log n) time; memory:
   * the order (4 bytes a leaf) and the recursion (at most 256 deep).
   */
  root(): Hash {
    if (this.count === 0) return MAP_EMPTY;
    const n = this.count;
    const keys = this.keys;
    const prefix = new Uint32Array(n);
    for (let i = 0; i < n; i++) prefix[i] = ((keys[32 * i]! << 24) | (keys[32 * i + 1]! << 16) | (keys[32 * i + 2]! << 8) | keys[32 * i + 3]!) >>> 0;
    const order = new Uint32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    order.sort((a, b) => (prefix[a] !== prefix[b] ? (prefix[a]! < prefix[b]! ? -1 : 1) : compareKeys(keys, a, b)));
    const bit = (pos: number, depth: number) => (keys[HASH_SIZE * order[pos]! + (depth >> 3)]! >> (7 - (depth & 7))) & 1;
    const hash = (lo: number, hi: number, depth: number): string | null => {
      if (lo === hi) return null;
      if (hi - lo === 1) {
        const at = order[lo]!;
        return mapLeafHashBinary(keys.subarray(HASH_SIZE * at, HASH_SIZE * at + HASH_SIZE), this.latest[at]!);
      }
      // Sorted, so the leaves whose bit `depth` is 1 are a suffix: find where it starts.
      let a = lo;
      let b = hi;
      while (a < b) {
        const mid = (a + b) >>> 1;
        if (bit(mid, depth) === 0) a = mid + 1;
        else b = mid;
      }
      return mapNodeHashBinary(hash(lo, a, depth + 1), hash(a, hi, depth + 1));
    };
    return binaryToHash(hash(0, n, 0)!);
  }

  private slotOf(buf: Uint8Array, offset: number): number {
    const w0 = (buf[offset + 4]! << 24) | (buf[offset + 5]! << 16) | (buf[offset + 6]! << 8) | buf[offset + 7]!;
    const w1 = (buf[offset + 8]! << 24) | (buf[offset + 9]! << 16) | (buf[offset + 10]! << 8) | buf[offset + 11]!;
    return ((Math.imul(w0, MUL_A) ^ Math.imul(w1, MUL_B)) >>> 0) >>> (32 - this.bits);
  }

  private find(buf: Uint8Array, offset: number): number {
    const mask = this.slots.length - 1;
    for (let slot = this.slotOf(buf, offset); ; slot = (slot + 1) & mask) {
      const at = this.slots[slot]!;
      if (at === EMPTY || this.keyAt(at, buf, offset)) return at;
    }
  }

  private keyAt(at: number, buf: Uint8Array, offset: number): boolean {
    const base = HASH_SIZE * at;
    for (let i = 0; i < HASH_SIZE; i++) if (this.keys[base + i] !== buf[offset + i]) return false;
    return true;
  }

  private growLeaves(): void {
    // By half: the arrays are most of the verifier's memory, and doubling could leave half of them unused.
    const capacity = Math.ceil(this.latest.length * 1.5);
    const keys = new Uint8Array(HASH_SIZE * capacity);
    keys.set(this.keys);
    const latest = new Float64Array(capacity);
    latest.set(this.latest);
    this.keys = keys;
    this.latest = latest;
  }

  private growSlots(): void {
    this.bits++;
    this.slots = new Int32Array(1 << this.bits).fill(EMPTY);
    const mask = this.slots.length - 1;
    for (let at = 0; at < this.count; at++) {
      let slot = this.slotOf(this.keys, HASH_SIZE * at);
      while (this.slots[slot] !== EMPTY) slot = (slot + 1) & mask;
      this.slots[slot] = at;
    }
  }
}

function compareKeys(keys: Uint8Array, a: number, b: number): number {
  for (let i = 4; i < HASH_SIZE; i++) {
    const d = keys[HASH_SIZE * a + i]! - keys[HASH_SIZE * b + i]!;
    if (d !== 0) return d;
  }
  return 0;
}
