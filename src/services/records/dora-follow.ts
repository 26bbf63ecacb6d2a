import type { EnvironmentRecord, OrgRecord, Store } from '../../store/index.js';
import type { DoraService } from './dora.js';
import type { EnvironmentService } from './environments.js';

// DORA's ledgers kept current as the log grows (issue #21, docs/performance.md "Tenth round"). A ledger used to be
// extended only at a request, over every snapshot since the last one: in a process that was filling the log the
// first request paid for the whole log (2.3 s at 1M entries, 15.4 s at 5M). Here the server extends each
// environment's ledger shortly after its snapshots commit (LogService.onCommit), and at start, in the
// background, for logs already large; a request then waits only for what was appended since the last extension.
//
// Trust is unchanged: DoraService.follow makes the same extension a request makes (each start checked against
// its snapshot's entry by checkRunStarts, its verdict from checked rows) under the same per-ledger queue; nothing
// here reads a row. An extension that fails (an edited row: TAMPERED) leaves the ledger as it was, is reported to
// `warn`, and the environment is not followed for RETRY_AFTER_MS: its requests meanwhile extend it themselves and
// meet the error; a failure that passes (a busy database) costs a minute of following, not the process's life.

/** Commits within this long share one extension (bounds the extensions to ~20 a second while appends stream in). */
export const FOLLOW_DELAY_MS = 50;

/** How long an environment whose extension failed is left to its requests before it is followed again. */
export const RETRY_AFTER_MS = 60_000;

const SNAPSHOT_TYPE = '"type":"snapshot.created"';

/** The environment a snapshot entry is of, or null when the text is not a snapshot entry. */
export function snapshotEnvironment(entry: string): string | null {
  // A cheap test first: most entries are not snapshots; one that mentions the words in its data is parsed and dropped.
  if (!entry.includes(SNAPSHOT_TYPE)) return null;
  const parsed = JSON.parse(entry) as { type?: unknown; environment?: unknown };
  return parsed.type === 'snapshot.created' && typeof parsed.environment === 'string' ? parsed.environment : null;
}

export class DoraFollower {
  /** Per org: the environments with new snapshots since the last run (the ledgers held are followed anyway). */
  private readonly pending = new Map<number, { org: OrgRecord; envs: Set<string> }>();
  /** Environments whose extension failed, and when: left to their requests for RETRY_AFTER_MS. */
  private readonly failed = new Map<number, number>();
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private preloading: Promise<void> | null = null;
  private closed = false;
  /** Runs that extended at least one ledger (tests). */
  runs = 0;

  constructor(
    private readonly dora: DoraService, private readonly environments: EnvironmentService, private readonly store: Store,
    private readonly warn: (org: OrgRecord, env: string, err: unknown) => void, private readonly delayMs = FOLLOW_DELAY_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** The LogService.onCommit listener: notes the environments the commit added snapshots to; never throws. */
  committed(org: OrgRecord, entries: readonly { entry: string }[]): void {
    if (this.closed) return;
    let envs = this.pending.get(org.id)?.envs;
    for (const { entry } of entries) {
      let name: string | null = null;
      try {
        name = snapshotEnvironment(entry);
      } catch {
        continue; // not JSON: not an entry this process wrote; nothing to follow
      }
      if (name !== null) (envs ??= new Set()).add(name);
    }
    // Reports move attributions: an org whose ledgers are held is followed on every commit, as a request would read them.
    if (!envs && this.dora.held(org.id).length === 0) return;
    this.pending.set(org.id, { org, envs: envs ?? new Set() });
    this.schedule();
  }

  /**
   * At server start, in the background: builds the ledger of every physical environment of each org whose log
   * holds at least `minEntries` entries, one after another (each a step of snapshots at a time, so requests
   * are served in between). A DORA request meanwhile waits for its ledger's extension under way, no other.
   */
  preload(minEntries: number): Promise<void> {
    this.preloading ??= this.preloadEach(minEntries).finally(() => (this.preloading = null));
    return this.preloading;
  }

  /** Stops following: the run under way ends after its current step; resolves once nothing reads the database. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.dora.stop();
    while (this.running || this.preloading) await Promise.allSettled([this.running, this.preloading]);
  }

  /** Resolves when no run is scheduled or under way (tests, benchmarks). */
  async idle(): Promise<void> {
    while (this.timer || this.running || this.preloading) {
      if (this.timer) await new Promise((r) => setTimeout(r, this.delayMs));
      else await Promise.allSettled([this.running, this.preloading]);
    }
  }

  private async preloadEach(minEntries: number): Promise<void> {
    for (const org of await this.store.orgs.list()) {
      if (this.closed) return;
      if ((await this.store.log.head(org.id)).size < minEntries) continue;
      for (const env of await this.environments.list(org)) {
        if (this.closed) return;
        await this.followOne(org, env);
      }
    }
  }

  private schedule(): void {
    if (this.timer || this.running || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.running = this.drain().finally(() => {
        this.running = null;
        if (this.pending.size > 0) this.schedule();
      });
    }, this.delayMs);
    // A server closing does not wait for a follow that has not started.
    this.timer.unref();
  }

  private async drain(): Promise<void> {
    const work = [...this.pending.values()];
    this.pending.clear();
    for (const { org, envs } of work) {
      const targets = new Map(this.dora.held(org.id).map((e) => [e.name, e]));
      for (const name of envs) {
        if (targets.has(name)) continue;
        try {
          targets.set(name, await this.environments.get(org, name));
        } catch (err) {
          this.warn(org, name, err);
        }
      }
      let extended = false;
      for (const env of targets.values()) {
        if (this.closed) return;
        extended = (await this.followOne(org, env)) || extended;
      }
      if (extended) this.runs++;
    }
  }

  private async followOne(org: OrgRecord, env: EnvironmentRecord): Promise<boolean> {
    const failedAt = this.failed.get(env.id);
    if ((failedAt !== undefined && this.now() - failedAt < RETRY_AFTER_MS) || env.type === 'logical') return false;
    try {
      const followed = await this.dora.follow(org, env);
      this.failed.delete(env.id);
      return followed;
    } catch (err) {
      this.failed.set(env.id, this.now());
      if (!this.closed) this.warn(org, env.name, err);
      return false;
    }
  }
}
