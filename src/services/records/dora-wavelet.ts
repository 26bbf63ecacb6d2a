// Exact order statistics over index ranges of append-only sequences of unsigned integers (issue #21, DORA in
// O(log n) per request; docs/performance.md "Scale, seventh round"). Pure.
//
// A sequence is kept by the logarithmic method: a short buffer, then sealed blocks whose sizes are LEAF × 2^k,
// strictly decreasing from the oldest; appending merges equal neighbours (a binary counter), so each value is
// rebuilt O(log n) times. Each block is a wavelet matrix over the values' bits (one bit vector a level, most
// significant first, with a rank directory a word): the count of values below any bound in any index range of
// the block is O(bits), without keeping the block sorted by position. The k-th smallest over any number of
// ranges of any number of blocks (and buffers) descends all of them at once, one bit a level: O(ranges × bits).

const LEAF = 64;
/** Values must be integers in [0, MAX_VALUE]: one bit vector per bit, 32 at most (JavaScript's bit operations). */
export const MAX_VALUE = 0xffffffff;

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
}

const bitLength = (v: number) => (v === 0 ? 0 : 32 - Math.clz32(v));

/** A static wavelet matrix over `values` (each in [0, MAX_VALUE]), `width` levels: the bit length of the largest. */
export class WaveletMatrix {
  readonly width: number;
  /** Words per level; every level's bits in one array, and its rank directory in another (few objects a block). */
  private readonly stride: number;
  private readonly words: Uint32Array;
  /** Ones before each word of each level. */
  private readonly ones: Uint32Array;
  private readonly zeros: Uint32Array;

  constructor(readonly raw: Uint32Array) {
    const n = raw.length;
    let max = 0;
    for (let i = 0; i < n; i++) if (raw[i]! > max) max = raw[i]!;
    this.width = bitLength(max);
    this.stride = (n >>> 5) + 1;
    this.words = new Uint32Array(this.width * this.stride);
    this.ones = new Uint32Array(this.width * (this.stride + 1));
    this.zeros = new Uint32Array(this.width);
    let cur: Uint32Array = raw;
    let next: Uint32Array = new Uint32Array(n);
    for (let level = 0; level < this.width; level++) {
      const bit = this.width - 1 - level;
      const base = level * this.stride;
      let z = 0;
      for (let i = 0; i < n; i++) if (((cur[i]! >>> bit) & 1) === 0) next[z++] = cur[i]!;
      let o = z;
      for (let i = 0; i < n; i++) {
        if (((cur[i]! >>> bit) & 1) === 1) {
          this.words[base + (i >>> 5)]! |= 1 << (i & 31);
          next[o++] = cur[i]!;
        }
      }
      const ranks = level * (this.stride + 1);
      for (let w = 0; w < this.stride; w++) this.ones[ranks + w + 1] = this.ones[ranks + w]! + popcount(this.words[base + w]!);
      this.zeros[level] = z;
      if (cur === raw) {
        cur = next;
        next = new Uint32Array(n);
      } else [cur, next] = [next, cur];
    }
  }

  get length(): number {
    return this.raw.length;
  }

  /** Zeros among the first `i` positions of `level`. */
  rank0(level: number, i: number): number {
    const w = i >>> 5;
    const r = i & 31;
    const ones = this.ones[level * (this.stride + 1) + w]! + (r === 0 ? 0 : popcount(this.words[level * this.stride + w]! & (((1 << r) - 1) >>> 0)));
    return i - ones;
  }

  zerosAt(level: number): number {
    return this.zeros[level]!;
  }

  /** Bytes held (for the memory figures). */
  bytes(): number {
    return this.raw.byteLength + this.words.byteLength + this.ones.byteLength;
  }
}

/** A range of a block ([start, end) of its positions), or loose values of a buffer. */
export type Part = { wm: WaveletMatrix; start: number; end: number } | { values: number[] };

/** An append-only sequence of values in [0, MAX_VALUE] answering ranges of positions as parts. */
export class RankSeq {
  private readonly blocks: { start: number; wm: WaveletMatrix }[] = [];
  private buffer: number[] = [];
  private sealed = 0;
  /** While building in bulk, the buffer grows without merging; seal() cuts it into blocks once. */
  private bulk = false;

  get length(): number {
    return this.sealed + this.buffer.length;
  }

  startBulk(): void {
    this.bulk = true;
  }

  append(v: number): void {
    this.buffer.push(v);
    if (!this.bulk && this.buffer.length === LEAF) this.flush();
  }

  /** Ends a bulk build: the buffer becomes blocks of decreasing power-of-two sizes, each value built once. */
  seal(): void {
    this.bulk = false;
    const all = this.buffer;
    this.buffer = [];
    let from = 0;
    // Greedy sizes LEAF × 2^k, strictly decreasing: the state the binary counter of flush() would reach. Only
    // onto an empty sequence (a rebuild); otherwise the values go through flush() one leaf at a time.
    while (this.blocks.length === 0 || this.blocks.at(-1)!.wm.length > LEAF) {
      const left = all.length - from;
      if (left < LEAF) break;
      let size = LEAF;
      while (size * 2 <= left) size *= 2;
      if (this.blocks.length > 0 && size >= this.blocks.at(-1)!.wm.length) break;
      this.blocks.push({ start: this.sealed, wm: new WaveletMatrix(Uint32Array.from(all.slice(from, from + size))) });
      this.sealed += size;
      from += size;
    }
    for (let i = from; i < all.length; i++) this.append(all[i]!);
  }

  private flush(): void {
    this.blocks.push({ start: this.sealed, wm: new WaveletMatrix(Uint32Array.from(this.buffer)) });
    this.sealed += this.buffer.length;
    this.buffer = [];
    for (;;) {
      const n = this.blocks.length;
      if (n < 2 || this.blocks[n - 2]!.wm.length !== this.blocks[n - 1]!.wm.length) break;
      const [a, b] = this.blocks.splice(n - 2, 2) as [{ start: number; wm: WaveletMatrix }, { start: number; wm: WaveletMatrix }];
      const raw = new Uint32Array(a.wm.length + b.wm.length);
      raw.set(a.wm.raw, 0);
      raw.set(b.wm.raw, a.wm.length);
      this.blocks.push({ start: a.start, wm: new WaveletMatrix(raw) });
    }
  }

  /** The parts holding positions [from, to). */
  parts(from: number, to: number, out: Part[] = []): Part[] {
    if (from >= to) return out;
    for (const b of this.blocks) {
      const s = Math.max(from, b.start);
      const e = Math.min(to, b.start + b.wm.length);
      if (s < e) out.push({ wm: b.wm, start: s - b.start, end: e - b.start });
    }
    const s = Math.max(from, this.sealed);
    if (s < to) out.push({ values: this.buffer.slice(s - this.sealed, to - this.sealed) });
    return out;
  }

  bytes(): number {
    return this.blocks.reduce((n, b) => n + b.wm.bytes(), 0) + this.buffer.length * 8;
  }
}

/**
 * The k-th smallest (0-based) value over all the parts' positions together: one bit at a time from the top, all
 * the parts descended at once (a block narrower than the current bit has only zeros there). The caller ensures
 * 0 ≤ k < the parts' total size.
 */
export function kth(parts: readonly Part[], k: number): number {
  const ranges: { wm: WaveletMatrix; s: number; e: number; s0: number; e0: number }[] = [];
  let loose: number[] = [];
  let width = 0;
  for (const p of parts) {
    if ('wm' in p) {
      if (p.start < p.end) ranges.push({ wm: p.wm, s: p.start, e: p.end, s0: 0, e0: 0 });
      width = Math.max(width, p.wm.width);
    } else {
      for (const v of p.values) {
        loose.push(v);
        width = Math.max(width, bitLength(v));
      }
    }
  }
  let value = 0;
  for (let bit = width - 1; bit >= 0; bit--) {
    let zeros = 0;
    for (const r of ranges) {
      if (r.wm.width <= bit) {
        zeros += r.e - r.s;
        continue;
      }
      const level = r.wm.width - 1 - bit;
      r.s0 = r.wm.rank0(level, r.s);
      r.e0 = r.wm.rank0(level, r.e);
      zeros += r.e0 - r.s0;
    }
    for (const v of loose) if (((v >>> bit) & 1) === 0) zeros++;
    const one = k >= zeros;
    if (one) {
      k -= zeros;
      value += 2 ** bit;
    }
    for (const r of ranges) {
      if (r.wm.width <= bit) continue;
      const level = r.wm.width - 1 - bit;
      if (one) {
        const z = r.wm.zerosAt(level);
        r.s = z + (r.s - r.s0);
        r.e = z + (r.e - r.e0);
      } else {
        r.s = r.s0;
        r.e = r.e0;
      }
    }
    if (loose.length > 0) loose = loose.filter((v) => ((v >>> bit) & 1) === (one ? 1 : 0));
  }
  return value;
}

/** The nearest-rank percentile (dora-stats.ts `nearestRank`, the same rank) over `count` values held by `parts`. */
export function percentileOf(parts: readonly Part[], count: number, p: number): number | null {
  if (count === 0) return null;
  return kth(parts, Math.max(1, Math.ceil((p / 100) * count)) - 1);
}
