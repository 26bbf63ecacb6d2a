import type { Attribution } from './dora-ledger.js';
import { MAX_VALUE, percentileOf, RankSeq, type Part } from './dora-wavelet.js';

// The DORA ledger's index (issue #21, docs/performance.md "Scale, seventh round"): what a request's figures need,
// kept so that a window costs O(log n) per figure instead of a pass over its deployments. Pure.
//
// Positions are the ledger's (snapshot order, which is time order while the ledger is monotonic), so a window is
// a range of positions. Per group — all deployments, and each flow (by the current attribution) — the positions
// of its deployments and prefix counts of the judged, non-compliant and invalid ones (counts are two binary
// searches), and its valid lead times in a RankSeq (medians and p90 are a k-th smallest over a range).
//
// Times to restore: a failure is restored by the first compliant deployment of its key (flow, or artifact name
// when unreported) in a later snapshot — a fixed deployment once it exists, so the time is fixed too. Per key, the
// failures in position order; the restored ones form a prefix (each is restored by the first compliant one after
// its snapshot, which never comes earlier for a later failure), so their restorers' positions are non-decreasing
// and their times are appended in that order. In a window [lo, hi) the restored failures of a key are those at or
// after lo whose restorer is before hi: a contiguous range of that prefix.

/** A growable array of int32 (positions, snapshot indexes, counts) or, with Float64Array, of times in ms. */
export class IntList {
  private data: Int32Array | Float64Array;
  length = 0;

  constructor(private readonly Kind: Int32ArrayConstructor | Float64ArrayConstructor = Int32Array) {
    this.data = new Kind(16);
  }

  push(v: number): void {
    if (this.length === this.data.length) {
      const next = new this.Kind(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }

  get(i: number): number {
    return this.data[i]!;
  }

  last(): number {
    return this.data[this.length - 1]!;
  }

  /** The first index whose value is at or above `v` (values ascending). */
  lowerBound(v: number): number {
    let lo = 0;
    let hi = this.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.data[mid]! < v) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  bytes(): number {
    return this.data.byteLength;
  }
}

/** The deployments of one group (all of them, or one flow's), by ledger position. */
export class Group {
  readonly pos = new IntList();
  /** Prefix counts: entry i counts the first i deployments of the group. */
  readonly judged = prefix();
  readonly nonCompliant = prefix();
  readonly invalid = prefix();
  readonly leadPos = new IntList();
  readonly lead = new RankSeq();

  constructor(bulk: boolean) {
    if (bulk) this.lead.startBulk();
  }

  /** False when the lead time cannot be indexed (past MAX_VALUE): the index is then unusable. */
  add(p: number, compliant: boolean | null, lead: number | null): boolean {
    this.pos.push(p);
    this.judged.push(this.judged.last() + (compliant === null ? 0 : 1));
    this.nonCompliant.push(this.nonCompliant.last() + (compliant === false ? 1 : 0));
    this.invalid.push(this.invalid.last() + (lead !== null && lead < 0 ? 1 : 0));
    // As dora-stats.ts: a lead time counts when not null and >= 0 (so -0 counts, as 0; NaN neither counts nor is invalid).
    if (lead !== null && lead >= 0) {
      if (lead > MAX_VALUE) return false;
      this.leadPos.push(p);
      this.lead.append(lead);
    }
    return true;
  }

  /** Indexes [a, b) of the group's deployments at positions [lo, hi). */
  range(lo: number, hi: number): [number, number] {
    return [this.pos.lowerBound(lo), this.pos.lowerBound(hi)];
  }

  leadParts(lo: number, hi: number, out: Part[] = []): { parts: Part[]; count: number } {
    const a = this.leadPos.lowerBound(lo);
    const b = this.leadPos.lowerBound(hi);
    return { parts: this.lead.parts(a, b, out), count: b - a };
  }

  bytes(): number {
    return this.pos.bytes() + this.judged.bytes() + this.nonCompliant.bytes() + this.invalid.bytes() + this.leadPos.bytes() + this.lead.bytes();
  }
}

function prefix(): IntList {
  const l = new IntList();
  l.push(0);
  return l;
}

/** The change failures of one key (a flow, or an unreported artifact's name) and their times to restore. */
export class Failures {
  readonly pos = new IntList();
  private readonly snapshot = new IntList();
  private readonly at = new IntList(Float64Array);
  /** The restorer's position of each restored failure (a prefix of `pos`). */
  readonly restorers = new IntList();
  readonly times = new RankSeq();

  constructor(bulk: boolean) {
    if (bulk) this.times.startBulk();
  }

  fail(p: number, snapshot: number, at: number): void {
    this.pos.push(p);
    this.snapshot.push(snapshot);
    this.at.push(at);
  }

  /** A compliant deployment: restores every pending failure of an earlier snapshot. False when a time cannot be indexed. */
  restore(p: number, snapshot: number, at: number): boolean {
    let ok = true;
    for (let i = this.restorers.length; i < this.pos.length && this.snapshot.get(i) < snapshot; i++) {
      const t = Math.max(0, Math.round((at - this.at.get(i)) / 1000));
      if (t > MAX_VALUE) ok = false;
      this.restorers.push(p);
      this.times.append(Math.min(t, MAX_VALUE));
    }
    return ok;
  }

  /** In the window [lo, hi): the failures, the restored ones (their times appended to `parts`). */
  window(lo: number, hi: number, parts: Part[]): { failures: number; restored: number } {
    const a = this.pos.lowerBound(lo);
    const b = this.pos.lowerBound(hi);
    const r = Math.max(a, this.restorers.lowerBound(hi));
    this.times.parts(a, r, parts);
    return { failures: b - a, restored: r - a };
  }

  bytes(): number {
    return this.pos.bytes() + this.snapshot.bytes() + this.at.bytes() + this.restorers.bytes() + this.times.bytes();
  }
}

/** What the index needs of a ledger deployment. */
export interface Indexed {
  snapshot: number;
  at: number;
  fingerprint: string;
  name: string;
  compliant: boolean | null;
}

const commitMs = new WeakMap<Attribution, number>();

/** Lead time in seconds as toDeployment computes it; null without a commit time. */
export function leadOf(d: Indexed, a: Attribution | null): number | null {
  if (a === null || a.commitTime === null) return null;
  let ms = commitMs.get(a);
  if (ms === undefined) commitMs.set(a, (ms = Date.parse(a.commitTime)));
  return Math.round((d.at - ms) / 1000);
}

/** A failure's key: its flow, or its artifact's name when unreported (dora-stats.ts restoreTimes). */
function keyOf(a: Attribution | null, name: string): string {
  const prefix = a === null ? 'artifact ' : 'flow ';
  const of = a === null ? name : a.flow;
  let key = keyCache.get(prefix)!.get(of);
  if (key === undefined) {
    key = prefix + of;
    // Bounded: flows and unreported artifacts' names; past that a key is made each time.
    if (keyCache.get(prefix)!.size < 10_000) keyCache.get(prefix)!.set(of, key);
  }
  return key;
}
const keyCache = new Map([['artifact ', new Map<string, string>()], ['flow ', new Map<string, string>()]]);

/** What a (re)build covers: every group, or only some flows, keys and perhaps the all-deployments group. */
interface Scope {
  all: boolean;
  flows: ReadonlySet<string> | null;
  keys: ReadonlySet<string> | null;
}

export class DoraIndex {
  all: Group;
  readonly flows = new Map<string, Group>();
  readonly keys = new Map<string, Failures>();
  /** False once a value past MAX_VALUE was met: requests then take the pass over the window. */
  usable = true;

  private constructor(private bulk: boolean) {
    this.all = new Group(bulk);
  }

  /** Built from scratch in one pass: every value of a sequence is built into a block once. */
  static build(list: readonly Indexed[], attribution: (fingerprint: string) => Attribution | null): DoraIndex {
    const index = new DoraIndex(true);
    list.forEach((d, p) => index.add(p, d, attribution(d.fingerprint)));
    index.seal();
    return index;
  }

  private seal(): void {
    this.bulk = false;
    this.all.lead.seal();
    for (const g of this.flows.values()) g.lead.seal();
    for (const k of this.keys.values()) k.times.seal();
  }

  /**
   * After re-attributions (`changed`: each fingerprint with every attribution it had since the last build or refresh): rebuilds
   * only what they touch — the flows they left and joined, the failure keys of their deployments before and
   * after, and the all-deployments group only when a commit time changed (its lead times) — in two passes over
   * the ledger, instead of building every group again.
   */
  refresh(list: readonly Indexed[], attribution: (fingerprint: string) => Attribution | null, changed: ReadonlyMap<string, readonly (Attribution | null)[]>): void {
    const flows = new Set<string>();
    const keys = new Set<string>();
    let all = false;
    for (const [f, had] of changed) {
      const now = attribution(f);
      for (const before of had) {
        if ((before?.commitTime ?? null) !== (now?.commitTime ?? null)) all = true;
        if (before) flows.add(before.flow);
      }
      if (now) flows.add(now.flow);
    }
    for (const d of list) {
      const had = changed.get(d.fingerprint);
      if (had === undefined || d.compliant === null) continue;
      for (const before of had) keys.add(keyOf(before, d.name));
      keys.add(keyOf(attribution(d.fingerprint), d.name));
    }
    this.bulk = true;
    if (all) this.all = new Group(true);
    for (const f of flows) this.flows.delete(f);
    for (const k of keys) this.keys.delete(k);
    const scope = { all, flows, keys };
    list.forEach((d, p) => this.add(p, d, attribution(d.fingerprint), scope));
    this.seal();
  }

  /** Appends the deployment at ledger position `p` (positions ascending), attributed as `a`, to the groups in `scope`. */
  add(p: number, d: Indexed, a: Attribution | null, scope: Scope = { all: true, flows: null, keys: null }): void {
    const lead = leadOf(d, a);
    if (scope.all && !this.all.add(p, d.compliant, lead)) this.usable = false;
    if (a !== null && (scope.flows === null || scope.flows.has(a.flow))) {
      let g = this.flows.get(a.flow);
      if (!g) this.flows.set(a.flow, (g = new Group(this.bulk)));
      if (!g.add(p, d.compliant, lead)) this.usable = false;
    }
    if (d.compliant === null) return;
    const key = keyOf(a, d.name);
    if (scope.keys !== null && !scope.keys.has(key)) return;
    let k = this.keys.get(key);
    if (d.compliant === false) {
      if (!k) this.keys.set(key, (k = new Failures(this.bulk)));
      k.fail(p, d.snapshot, d.at);
    } else if (k && !k.restore(p, d.snapshot, d.at)) this.usable = false;
  }

  bytes(): number {
    let n = this.all.bytes();
    for (const g of this.flows.values()) n += g.bytes();
    for (const k of this.keys.values()) n += k.bytes();
    return n;
  }
}

export { percentileOf };
