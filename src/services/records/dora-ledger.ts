import type { RunStart } from '../../store/index.js';
import { figures, positionOf } from './dora-figures.js';
import { DoraIndex } from './dora-index.js';
import { pageOf } from './dora-page.js';
import type { DoraDeployment, DoraReport } from './dora-stats.js';
import type { DoraWindow } from './dora-window.js';

// DORA's ledger of one environment (issue #21, docs/performance.md "Scale, sixth round"): every deployment
// (run start) judged once per process, in snapshot order, extended by snapshot index. The log is append-only
// and a deployment's verdict is taken as of its snapshot's entry, so once a start is verified against that
// entry and judged, neither can change. What can change later is its attribution — the flow of the
// fingerprint's latest report and that report's commit — so that is kept apart, per fingerprint, and
// re-resolved for the fingerprints reported since the log size the ledger last read.
//
// Trust model: a start enters the ledger only after its snapshot_artifacts row was checked against its log
// entry (checkRunStarts) and its verdict came from rows checked against theirs (the compliance reads). An
// edit of a row the ledger already holds changes nothing here: the process verified the row when it read it
// and keeps what it verified (a fresh process reads and checks the rows again, and refuses an edited one).
//
// A request's figures come from an index over the ledger (dora-index.ts, issue #21 seventh round), built at the
// first request, extended with each append, refreshed at the next request where an attribution that counts
// changed (a fingerprint's flow or commit time: only the groups it touches), built again after the oldest
// deployments are dropped. A ledger whose clock stepped back
// (times not in snapshot order) keeps no index: its windows are not ranges of positions, and take the pass.

/** One deployment as kept: the strings are shared (a snapshot's time by its starts, names and fingerprints interned). */
export class LedgerDeployment {
  constructor(
    readonly snapshot: number,
    /** deployed_at in ms, for the window's binary search. */
    readonly at: number,
    readonly deployedAt: string,
    readonly fingerprint: string,
    readonly name: string,
    readonly compliant: boolean | null,
  ) {}
}

/** What a fingerprint's latest report says: its flow and commit. Null: never reported into a flow. */
export interface Attribution {
  flow: string;
  gitCommit: string | null;
  commitTime: string | null;
}

export class DoraLedger {
  readonly deployments: LedgerDeployment[] = [];
  /** The last snapshot index read (its starts are in `deployments`). */
  through = 0;
  /** The log size the attributions are as of: reports of entries from here on are not applied yet. */
  reportsAsOf = 0;
  /** Oldest deployments dropped to bound memory: windows starting before `droppedUntil` are recomputed from the rows. */
  dropped = 0;
  private droppedUntil = -Infinity;
  /** deployed_at never decreases along `deployments` (a clock that stepped back clears it: windows are then scanned). */
  private monotonic = true;
  readonly attribution = new Map<string, Attribution | null>();
  private readonly names = new Map<string, string>();
  /** Null until a request needs it, after a change of attribution that counts, or after a drop. */
  private index: DoraIndex | null = null;
  /** Fingerprints re-attributed since the index was built or refreshed, with every attribution they had since. */
  private readonly changed = new Map<string, (Attribution | null)[]>();
  /** When a request last read this ledger (Date.now()); 0: only followed so far (dora-follow.ts), never asked. */
  askedAt = 0;
  /** Builds and refreshes of the index (tests: appends extend it, a re-attribution refreshes it). */
  builds = 0;
  refreshes = 0;
  /** Serialises extensions: one request extends, the others wait for it. */
  private queue: Promise<unknown> = Promise.resolve();

  /** Runs `fn` after every extension queued before it; a failure reaches its caller and leaves the ledger as it was. */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Appends verified, judged starts (ascending snapshot, then fingerprint), all at once. */
  append(starts: readonly RunStart[], verdicts: readonly (boolean | null)[], through: number): void {
    let last = this.deployments.at(-1)?.at ?? -Infinity;
    let time: [string, number] | undefined;
    starts.forEach((s, i) => {
      if (time?.[0] !== s.createdAt) time = [s.createdAt, Date.parse(s.createdAt)];
      if (time[1] < last) this.monotonic = false;
      last = time[1];
      const d = new LedgerDeployment(s.index, time[1], time[0], this.fingerprint(s.fingerprint), this.name(s.name), verdicts[i]!);
      this.deployments.push(d);
      this.index?.add(this.deployments.length - 1, d, this.attribution.get(d.fingerprint) ?? null);
    });
    if (!this.monotonic) this.index = null;
    this.through = through;
  }

  /** The fingerprints of `starts` whose attribution was never resolved. */
  unattributed(starts: readonly RunStart[]): string[] {
    return [...new Set(starts.map((s) => s.fingerprint).filter((f) => !this.attribution.has(f)))];
  }

  attribute(fingerprint: string, a: Attribution | null): void {
    const before = this.attribution.get(fingerprint);
    // What the index holds per deployment depends on the flow and the commit time only (git_commit is read at
    // paging). The index is refreshed at the next request, from what it was built with for this fingerprint.
    // Every attribution it had since then counts: deployments appended in between were indexed under it.
    if (this.index && before !== undefined && (before?.flow !== a?.flow || before?.commitTime !== a?.commitTime)) {
      const had = this.changed.get(fingerprint);
      if (had) had.push(before);
      else this.changed.set(fingerprint, [before]);
    }
    this.attribution.set(this.fingerprint(fingerprint), a);
  }

  /** Whether the ledger still holds every deployment of a window starting at `since`. */
  covers(since: number): boolean {
    return this.dropped === 0 || (this.monotonic && since > this.droppedUntil);
  }

  /** Drops the oldest `n` deployments (memory bound); their windows are recomputed from the rows. */
  dropOldest(n: number): void {
    const gone = this.deployments.splice(0, n);
    this.index = null;
    this.dropped += gone.length;
    this.droppedUntil = Math.max(this.droppedUntil, ...gone.slice(-1).map((d) => d.at));
  }

  /**
   * The deployments of [since, until), ascending, optionally of one flow, as the API shows them: a binary
   * search for the window, then one object per deployment (attribution looked up now, so it is current).
   */
  window(since: number, until: number, flow?: string): DoraDeployment[] {
    const list = this.deployments;
    const [lo, hi] = this.monotonic ? [positionOf(list, since), positionOf(list, until)] : [0, list.length];
    const out: DoraDeployment[] = [];
    for (let i = lo; i < hi; i++) {
      const d = list[i]!;
      if (d.at < since || d.at >= until) continue;
      const a = this.attribution.get(d.fingerprint) ?? null;
      if (flow !== undefined && a?.flow !== flow) continue;
      out.push(toDeployment(d, a));
    }
    return out;
  }

  /**
   * The report's figures and page from the index (built first if it is not there), or null when the ledger keeps
   * none (its clock stepped back, or a value past what the index holds): the caller then takes the pass.
   */
  report(window: DoraWindow, flow: string | undefined, cursor: string | undefined, limit: number | undefined): Pick<DoraReport, 'overall' | 'flows' | 'series' | 'deployments' | 'next_cursor'> | null {
    if (!this.prepare()) return null;
    const index = this.index!;
    const { group, lo, hi, ...rest } = figures(index, this.deployments, window, flow);
    const [a, b] = group.range(lo, hi);
    const at = (i: number) => this.deployments[group.pos.get(a + i)]!;
    const page = pageOf(b - a, at, (i) => {
      const d = at(i);
      return toDeployment(d, this.attribution.get(d.fingerprint) ?? null);
    }, cursor, limit);
    return { ...rest, deployments: page.deployments, next_cursor: page.next_cursor };
  }

  /**
   * Builds the index if it is not there, or refreshes it after re-attributions that count: what report() does
   * first, also done in the background after each extension that follows the log (dora-follow.ts), so that a
   * request finds it ready. False when the ledger keeps no usable index (the caller then takes the pass).
   */
  prepare(): boolean {
    if (!this.monotonic) return false;
    const attribution = (f: string) => this.attribution.get(f) ?? null;
    if (!this.index) {
      this.index = DoraIndex.build(this.deployments, attribution);
      this.builds++;
    } else if (this.changed.size > 0) {
      this.index.refresh(this.deployments, attribution, this.changed);
      this.refreshes++;
    }
    this.changed.clear();
    return this.index.usable;
  }

  /** Bytes the index holds (the memory figures of docs/performance.md). */
  indexBytes(): number {
    return this.index?.bytes() ?? 0;
  }

  private fingerprint(f: string): string {
    return intern(this.names, f);
  }

  private name(n: string): string {
    return intern(this.names, n);
  }
}

function intern(pool: Map<string, string>, s: string): string {
  const known = pool.get(s);
  if (known !== undefined) return known;
  pool.set(s, s);
  return s;
}

export function toDeployment(d: { snapshot: number; at: number; deployedAt: string; fingerprint: string; name: string; compliant: boolean | null }, a: Attribution | null): DoraDeployment {
  const commitTime = a?.commitTime ?? null;
  return {
    flow: a?.flow ?? null, artifact: d.name, fingerprint: d.fingerprint, git_commit: a?.gitCommit ?? null, commit_time: commitTime,
    deployed_at: d.deployedAt, snapshot: d.snapshot,
    lead_time_seconds: commitTime === null ? null : Math.round((d.at - Date.parse(commitTime)) / 1000),
    compliant: d.compliant,
  };
}
