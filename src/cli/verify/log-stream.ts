import { EvidentError, bytesEqual, toHex } from '../../core/index.js';
import { EMPTY_ROOT, TILE_WIDTH, nodeHash, tilePath, type Checkpoint, type Hash } from '../../ledger/index.js';
import { Hashers } from './log-hashers.js';
import { runHashJob, subtreeRoot, type HashJob, type HashResult } from './log-hash-job.js';
import type { DirectTiles } from './log-hash-fetch.js';
import { MapRecompute } from './log-map-check.js';
import { changedEntry, locateChange, type Check, type DerivedTree, type FullCheck, type LogSource } from './log-verifier.js';

// `verify log --full` in constant memory (issue #21): the log is read as C2SP tlog-tiles entry bundles, in
// order, a few in flight; worker threads hash them (log-hashers.ts) while the next ones download; and the
// tree is rebuilt along its right edge only (RFC 9162 §2.1.1: O(log n) hashes). Nothing the server sends is
// trusted: the root rebuilt from the entries must be the signed checkpoint's, and the prefix the client
// remembered must be a prefix of that same rebuilt tree (a stronger check than the server's consistency
// proof: it is computed from the entries, not from the server's stored hashes).
//
// Besides the right edge, the subtree hash of every full bundle (one per 256 entries, 0.125 bytes per entry:
// 625 KB at 5M) is kept, so the root of any prefix can be computed afterwards from one more bundle: that is
// what the remembered checkpoint and, when the root does not match, locateChange need.

/** What the streaming check reads: entry bundles, with log/entries for a bundle whose entries are too long. */
export interface TileSource extends Pick<LogSource, 'consistencyProof' | 'inclusionProof' | 'logEntries'> {
  /** The bytes of `tile/<rest>` under the log's prefix (C2SP tlog-tiles). */
  logTile(rest: string): Promise<Uint8Array>;
  /**
   * Optional: how a hashing thread GETs tiles itself (log-hash-fetch.ts), so the bundles are received where
   * they are hashed; undefined when every request must go through `logTile` (e.g. --debug prints them).
   */
  directTiles?(): Promise<DirectTiles | undefined>;
}

export interface StreamOptions {
  org: string;
  /** The checkpoint remembered from before, verified: its tree must be a prefix of the rebuilt one. */
  previous?: Checkpoint | null;
  /** Called as entries are verified (at most every `progressEvery` entries). */
  progress?: (done: number, total: number) => void;
  /** Hashing threads (default 2; 0 hashes in this thread). */
  threads?: number;
  /** Bundles downloading at once (default 8). */
  fetchWindow?: number;
}

export interface StreamCheck extends FullCheck {
  /** The remembered checkpoint against the rebuilt tree; absent without one. */
  previousCheck?: Check;
  /** The subject map recomputed from the entries against the checkpoint's map line; absent when the root differs. */
  mapCheck?: Check;
}

/** Bundles per hashing job: 8 × 256 entries, ~2 MB of ~1 KB entries. */
const JOB_BUNDLES = 8;

export async function streamCheckLog(source: TileSource, cp: Checkpoint, options: StreamOptions): Promise<StreamCheck> {
  const tree = new StreamedTree(source, options.org, cp.size);
  const hashers = new Hashers(options.threads ?? (Number(process.env.EVIDENT_HASH_THREADS ?? 2)));
  try {
    const problem = await tree.build(hashers, options);
    if (problem) return { ok: false, firstBad: problem.index, firstBadRange: [problem.index, problem.index], message: problem.message };
  } finally {
    await hashers.close();
  }
  // Same size: the remembered root was already compared with the signed one (remembered.ts).
  const previous = options.previous;
  const previousCheck = previous && previous.size > 0 && previous.size < cp.size ? await tree.checkPrefix(previous) : undefined;
  if (bytesEqual(tree.root(), cp.root)) {
    const mapCheck = tree.map.check(cp);
    return { ok: true, firstBad: null, firstBadRange: null, message: `All ${cp.size} entries re-derived from the log's entry bundles: the root matches the checkpoint`, previousCheck, mapCheck };
  }
  return { ...changedEntry(await locateChange(source, tree, cp)), previousCheck };
}

/** The tree rebuilt from the streamed entries: its right edge, and the subtree hash of every full bundle. */
class StreamedTree implements DerivedTree {
  private readonly edge: { level: number; hash: Hash }[] = [];
  /** Subtree hashes of the full bundles, 32 bytes each, in order. */
  private bundles = new Uint8Array(32 * 1024);
  private fullBundles = 0;
  /** The leaf hashes of the last bundle when it is partial. */
  private tail = new Uint8Array(0);
  private cached: { bundle: number; leaves: Uint8Array } | undefined;
  /** The subject map of the entries streamed so far. */
  readonly map = new MapRecompute();

  constructor(private readonly source: TileSource, private readonly org: string, readonly size: number) {}

  /** Streams every bundle through the hashers; returns the first malformed entry, if any. */
  async build(hashers: Hashers, options: StreamOptions): Promise<{ index: number; message: string } | null> {
    const count = Math.ceil(this.size / TILE_WIDTH);
    const window = Math.max(1, options.fetchWindow ?? 8);
    const fetches: Promise<Uint8Array | Uint8Array[]>[] = [];
    const jobs: Promise<{ result: HashResult; job: { start: number; widths: number[] } }>[] = [];
    const maxJobs = Math.max(2, 2 * hashers.threads);
    // The threads download their own bundles when the source says how (--debug or a test source does not).
    const direct = await this.source.directTiles?.();
    let next = 0;
    let done = 0;
    const refill = () => {
      while (fetches.length < window && next < count) {
        const p = this.fetchBundle(next++);
        p.catch(() => undefined); // awaited in order below; this only keeps an early failure from going unhandled
        fetches.push(p);
      }
    };
    for (let b = 0; b < count; ) {
      const job: HashJob = { start: b * TILE_WIDTH, org: this.org, bundles: [], widths: [] };
      let run: Promise<HashResult>;
      if (direct) {
        const first = b;
        const paths: string[] = [];
        for (; b < count && job.widths.length < JOB_BUNDLES; b++) {
          job.widths.push(this.widthOf(b));
          paths.push(this.bundlePath(b));
        }
        run = hashers.run(job, { paths, direct }).then((result) => result ?? this.hashFetched(hashers, job, first));
      } else {
        for (; b < count && job.bundles.length < JOB_BUNDLES; b++) {
          refill();
          job.bundles.push(await fetches.shift()!);
          job.widths.push(this.widthOf(b));
        }
        refill();
        run = hashers.run(job);
      }
      const widths = job.widths;
      const settled = run.then((result) => ({ result, job: { start: job.start, widths } }));
      settled.catch(() => undefined); // awaited in order below; this only keeps a failure after an early return from going unhandled
      jobs.push(settled);
      while (jobs.length >= maxJobs || (b >= count && jobs.length > 0)) {
        const { result, job: j } = await jobs.shift()!;
        if (result.problem) return result.problem;
        const wrongLink = this.map.absorb(result.moves);
        if (wrongLink) return wrongLink;
        this.absorb(result.hashes, j.widths);
        done += result.count;
        options.progress?.(done, this.size);
      }
    }
    return null;
  }

  /** A job whose thread could not download its bundles: read through the source (retries, 413, its errors), then hashed. */
  private async hashFetched(hashers: Hashers, job: HashJob, first: number): Promise<HashResult> {
    const bundles = await Promise.all(job.widths.map((_, i) => this.fetchBundle(first + i)));
    return hashers.run({ ...job, bundles });
  }

  private bundlePath(bundle: number): string {
    return tilePath({ kind: 'entries', level: 0, index: bundle, width: this.widthOf(bundle) }).slice('tile/'.length);
  }

  private widthOf(bundle: number): number {
    return Math.min(TILE_WIDTH, this.size - bundle * TILE_WIDTH);
  }

  private absorb(hashes: Uint8Array, widths: number[]): void {
    let at = 0;
    for (const width of widths) {
      if (width === TILE_WIDTH) {
        const h = hashes.slice(at, at + 32);
        this.keepBundle(h);
        push(this.edge, 8, h);
        at += 32;
      } else {
        this.tail = hashes.slice(at, at + 32 * width);
        for (let i = 0; i < width; i++) push(this.edge, 0, this.tail.subarray(32 * i, 32 * i + 32));
        at += 32 * width;
      }
    }
  }

  private keepBundle(h: Hash): void {
    if (32 * (this.fullBundles + 1) > this.bundles.length) {
      const grown = new Uint8Array(this.bundles.length * 2);
      grown.set(this.bundles);
      this.bundles = grown;
    }
    this.bundles.set(h, 32 * this.fullBundles++);
  }

  root(): Hash {
    return fold(this.edge);
  }

  /** The remembered checkpoint's tree must be the rebuilt tree's prefix of its size. */
  async checkPrefix(previous: Checkpoint): Promise<Check> {
    if (previous.size > this.size) return { ok: false, message: `the checkpoint seen before (size ${previous.size}) is larger than the tree checked (${this.size})` };
    const mine = await this.prefixRoot(previous.size);
    return bytesEqual(mine, previous.root)
      ? { ok: true, message: `The checkpoint seen before (size ${previous.size}) is the prefix of the re-derived tree` }
      : { ok: false, message: `the re-derived tree's first ${previous.size} entries have root ${toHex(mine)}, not the ${toHex(previous.root)} signed before: the log was rewritten` };
  }

  async prefixRoot(m: number): Promise<Hash> {
    if (m === 0) return EMPTY_ROOT;
    const edge: { level: number; hash: Hash }[] = [];
    const whole = Math.floor(m / TILE_WIDTH);
    for (let i = 0; i < whole; i++) push(edge, 8, this.bundles.subarray(32 * i, 32 * i + 32));
    const rest = m % TILE_WIDTH;
    if (rest > 0) {
      const leaves = await this.leavesOf(whole);
      for (let i = 0; i < rest; i++) push(edge, 0, leaves.subarray(32 * i, 32 * i + 32));
    }
    return fold(edge);
  }

  async leaf(j: number): Promise<Hash> {
    const leaves = await this.leavesOf(Math.floor(j / TILE_WIDTH));
    return leaves.slice(32 * (j % TILE_WIDTH), 32 * (j % TILE_WIDTH) + 32);
  }

  /**
   * The leaf hashes of one bundle, read again: a full bundle must hash to the subtree hash it had when
   * streamed (a server that serves other bytes the second time is caught, not believed).
   */
  private async leavesOf(bundle: number): Promise<Uint8Array> {
    const width = this.widthOf(bundle);
    if (width < TILE_WIDTH) return this.tail;
    if (this.cached?.bundle === bundle) return this.cached.leaves;
    const leaves = new Uint8Array(32 * width);
    const bytes = await this.fetchBundle(bundle);
    // One bundle at a time, so the leaves of each are asked for one by one.
    const single = (entries: Uint8Array | Uint8Array[], i: number) => runHashJob({ start: bundle * TILE_WIDTH + i, org: this.org, bundles: [entries], widths: [1] });
    const list = Array.isArray(bytes) ? bytes : splitBundle(bytes);
    for (let i = 0; i < width; i++) {
      const r = single([list[i] ?? new Uint8Array(0)], i);
      if (r.problem || r.hashes.length !== 32) throw new EvidentError('VERIFICATION_FAILED', `the server served entry bundle ${bundle} with other contents than before`);
      leaves.set(r.hashes, 32 * i);
    }
    if (!bytesEqual(subtreeRoot(leaves, TILE_WIDTH), this.bundles.subarray(32 * bundle, 32 * bundle + 32))) {
      throw new EvidentError('VERIFICATION_FAILED', `the server served entry bundle ${bundle} with other contents than before`);
    }
    this.cached = { bundle, leaves };
    return leaves;
  }

  /** One entry bundle; when its entries are too long to bundle (413), the same entries from log/entries. */
  private async fetchBundle(bundle: number): Promise<Uint8Array | Uint8Array[]> {
    const width = this.widthOf(bundle);
    try {
      return await this.source.logTile(this.bundlePath(bundle));
    } catch (err) {
      if (!(err instanceof EvidentError && err.code === 'PAYLOAD_TOO_LARGE')) throw err;
    }
    const start = bundle * TILE_WIDTH;
    const out: Uint8Array[] = [];
    const encoder = new TextEncoder();
    while (out.length < width) {
      const page = await this.source.logEntries(start + out.length, start + width);
      if (page.items.length === 0) break;
      for (const item of page.items) {
        if (item.index !== start + out.length) throw new EvidentError('VERIFICATION_FAILED', `the server skipped or repeated entries at index ${start + out.length}`);
        if (out.length < width) out.push(encoder.encode(item.entry));
      }
    }
    return out;
  }
}

/** Splits an entry bundle into its entries, each a copy (runHashJob writes into what it is given). */
function splitBundle(bundle: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let p = 0; p + 2 <= bundle.length; ) {
    const length = (bundle[p]! << 8) | bundle[p + 1]!;
    out.push(bundle.slice(p + 2, Math.min(bundle.length, p + 2 + length)));
    p += 2 + length;
  }
  return out;
}

/** Appends a complete subtree of height `level` to a right edge, merging equal heights (a compact range). */
function push(edge: { level: number; hash: Hash }[], level: number, hash: Hash): void {
  let node = { level, hash };
  while (edge.length > 0 && edge[edge.length - 1]!.level === node.level) {
    const left = edge.pop()!;
    node = { level: node.level + 1, hash: nodeHash(left.hash, node.hash) };
  }
  edge.push(node);
}

/** The root of a tree from its right edge (RFC 9162 §2.1.1: the smaller subtrees hang from the right). */
function fold(edge: { level: number; hash: Hash }[]): Hash {
  if (edge.length === 0) return EMPTY_ROOT;
  let acc = edge[edge.length - 1]!.hash;
  for (let i = edge.length - 2; i >= 0; i--) acc = nodeHash(edge[i]!.hash, acc);
  return acc;
}
