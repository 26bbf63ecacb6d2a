import { EvidentError } from '../../core/index.js';
import type { EnvironmentRecord, OrgRecord, PolicyRecord, RunStart, Store } from '../../store/index.js';
import { systemClock, type Clock } from '../clock.js';
import type { ComplianceService } from './compliance.js';
import { DoraLedger, toDeployment } from './dora-ledger.js';
import { compareDeployments, pageDeployments } from './dora-page.js';
import { aggregate, type DoraDeployment, type DoraReport } from './dora-stats.js';
import { doraWindow, type DoraWindow } from './dora-window.js';
import type { EnvironmentService } from './environments.js';
import { policiesAt, type PolicyService } from './policies.js';
import { projectionCheck } from './projection-check.js';
import { checkRunStarts } from './snapshot-check.js';
import * as v from './validate.js';

// DORA metrics of one environment (issue #5 item 7, docs/metrics.md): deployment frequency, lead time for
// changes and change failure rate, per flow and overall, from the snapshots alone. A deployment is a
// fingerprint that starts running: in a snapshot's running set and not in the one before (a re-deploy after
// it stopped counts again; a scale change does not). The store keeps exactly those rows apart (`since_idx =
// idx`). Each start is verified against its snapshot's entry and judged once per process, into the
// environment's ledger (dora-ledger.ts, issue #21); a request extends it from the last snapshot it read, then
// reads the window's figures from the ledger's index in O(log n) each (dora-index.ts, seventh round) and returns
// a page of its deployments.

export interface DoraQuery {
  environment: string;
  since?: string;
  until?: string;
  flow?: string;
  bucket?: string;
  cursor?: string;
  limit?: number;
}

/** Snapshots read, verified and judged per step of an extension (bounds one step's queries and memory). */
const STEP_SNAPSHOTS = 500;
/**
 * Deployments kept over all ledgers of the process (~85 bytes each and ~250 per distinct fingerprint, docs/performance.md): past this, the
 * largest ledger drops its oldest quarter, and windows reaching back there are computed from the rows.
 */
const MAX_DEPLOYMENTS = 1_000_000;

/** Starts in the list's order (dora-page.ts): the database orders names by its collation, which may not be JavaScript's. */
const sorted = (starts: RunStart[]) => starts.sort((a, b) => compareDeployments({ snapshot: a.index, fingerprint: a.fingerprint, artifact: a.name }, { snapshot: b.index, fingerprint: b.fingerprint, artifact: b.name }));

export class DoraService {
  private readonly ledgers = new Map<number, { ledger: DoraLedger; org: OrgRecord; env: EnvironmentRecord }>();
  /** Environments whose ledger was dropped for memory before anyone asked: not followed again until asked. */
  private readonly unfollowed = new Set<number>();
  /** Set when the server closes: an extension under way stops after its step, before the database closes. */
  private stopping = false;

  constructor(
    private readonly store: Store, private readonly environments: EnvironmentService, private readonly policies: PolicyService,
    private readonly compliance: ComplianceService, private readonly clock: Clock = systemClock,
  ) {}

  async metrics(org: OrgRecord, query: DoraQuery): Promise<DoraReport> {
    const { window, flow, env } = await this.resolve(org, query);
    this.unfollowed.delete(env.id);
    const ledger = await this.extended(org, env, true);
    if (!ledger.covers(window.since.getTime())) return this.report(env, window, await this.fromRows(org, env, window, flow), query);
    // O(log n) a figure from the ledger's index (issue #21, seventh round); the pass over the window when it keeps none.
    const indexed = ledger.report(window, flow, query.cursor, query.limit);
    if (indexed) return { environment: env.name, since: window.since.toISOString(), until: window.until.toISOString(), bucket: window.bucket, ...indexed };
    return this.report(env, window, ledger.window(window.since.getTime(), window.until.getTime(), flow), query);
  }

  /**
   * The same report computed from the rows alone, without the ledger (as before issue #21): what windows the
   * ledger has dropped are computed by, and the reference the ledger is tested against.
   */
  async recomputed(org: OrgRecord, query: DoraQuery): Promise<DoraReport> {
    const { window, flow, env } = await this.resolve(org, query);
    return this.report(env, window, await this.fromRows(org, env, window, flow), query);
  }

  private async resolve(org: OrgRecord, query: DoraQuery): Promise<{ window: DoraWindow; flow: string | undefined; env: EnvironmentRecord }> {
    const window = doraWindow(query, this.clock.now());
    const flow = query.flow === undefined ? undefined : v.name('flow', query.flow);
    const env = await this.environments.get(org, query.environment);
    if (env.type === 'logical') throw new EvidentError('INVALID_ARGUMENT', `${env.name} is a logical environment: it has no snapshots of its own; ask about the environments it includes`);
    if (flow !== undefined && !(await this.store.records.flow(org.id, flow))) throw new EvidentError('NOT_FOUND', `flow ${JSON.stringify(flow)} does not exist in organisation ${org.name}`);
    return { window, flow, env };
  }

  private report(env: EnvironmentRecord, window: DoraWindow, deployments: DoraDeployment[], query: DoraQuery): DoraReport {
    const page = pageDeployments(deployments, query.cursor, query.limit);
    return { environment: env.name, since: window.since.toISOString(), until: window.until.toISOString(), bucket: window.bucket, ...aggregate(deployments, window), ...page };
  }

  private async fromRows(org: OrgRecord, env: EnvironmentRecord, window: DoraWindow, flow: string | undefined): Promise<DoraDeployment[]> {
    const starts = sorted(await this.store.environments.runStarts(env.id, window.since.toISOString(), window.until.toISOString()));
    await checkRunStarts(projectionCheck(this.store), org, env, starts);
    const reports = await this.store.records.latestReports(org.id, starts.map((s) => s.fingerprint));
    const chosen = flow === undefined ? starts : starts.filter((s) => reports.get(s.fingerprint)?.flow === flow);
    const compliant = await this.judge(org, env, chosen);
    return chosen.map((s, i) => {
      const r = reports.get(s.fingerprint);
      const a = r ? { flow: r.flow, gitCommit: r.artifact.gitCommit, commitTime: r.artifact.commitTime ?? null } : null;
      return toDeployment({ snapshot: s.index, at: Date.parse(s.createdAt), deployedAt: s.createdAt, fingerprint: s.fingerprint, name: s.name, compliant: compliant[i]! }, a);
    });
  }

  /**
   * The environment's ledger brought up to the log as it is now: first the attributions of every fingerprint
   * reported since it last looked (an artifact reported again, into another flow, moves its deployments), then
   * the snapshots after the last one it read, a step at a time, each step's starts verified against their
   * entries and judged before any of them is kept.
   */
  private async extended(org: OrgRecord, env: EnvironmentRecord, asked: boolean): Promise<DoraLedger> {
    let held = this.ledgers.get(env.id);
    if (!held) this.ledgers.set(env.id, (held = { ledger: new DoraLedger(), org, env }));
    const l = held.ledger;
    if (asked) l.askedAt = Date.now();
    await l.exclusive(async () => {
      // A committed size: every report of an entry below it is visible, written with its entry.
      const size = (await this.store.log.head(org.id)).size;
      if (l.reportsAsOf > 0 && size > l.reportsAsOf) {
        for (const r of await this.store.records.reportsBetween(org.id, l.reportsAsOf, size)) {
          if (l.attribution.has(r.fingerprint)) l.attribute(r.fingerprint, { flow: r.flow, gitCommit: r.gitCommit, commitTime: r.commitTime });
        }
      }
      l.reportsAsOf = size;
      while (!this.stopping) {
        const read = await this.store.environments.runStartsAfter(env.id, l.through, STEP_SNAPSHOTS);
        if (read.through === l.through) break;
        const { through } = read;
        const starts = sorted(read.starts);
        await checkRunStarts(projectionCheck(this.store), org, env, starts);
        const verdicts = await this.judge(org, env, starts);
        // Read after `size`: at least as new as anything reportsBetween would bring next time (applied again then).
        const reports = await this.store.records.latestReports(org.id, l.unattributed(starts));
        for (const f of l.unattributed(starts)) {
          const r = reports.get(f);
          l.attribute(f, r ? { flow: r.flow, gitCommit: r.artifact.gitCommit, commitTime: r.artifact.commitTime ?? null } : null);
        }
        l.append(starts, verdicts, through);
      }
    });
    this.bound();
    return l;
  }

  /**
   * Extends the environment's ledger to the log as it is now and builds or refreshes its index, without a
   * request (dora-follow.ts: at server start, and as entries commit), so that a request finds both ready and
   * waits only for what was appended since. The same checked extension a request makes. False when the
   * environment is not followed (its ledger was dropped for memory before anyone asked) or the server is closing.
   */
  async follow(org: OrgRecord, env: EnvironmentRecord): Promise<boolean> {
    if (this.stopping || this.unfollowed.has(env.id) || env.type === 'logical') return false;
    const ledger = await this.extended(org, env, false);
    if (this.ledgers.get(env.id)?.ledger !== ledger) return false;
    ledger.prepare();
    return true;
  }

  /** The environments of the org whose ledgers this process holds (followed as the org's log grows). */
  held(orgId: number): EnvironmentRecord[] {
    return [...this.ledgers.values()].filter((h) => h.org.id === orgId).map((h) => h.env);
  }

  /** Stops extensions after their current step (the server is closing its database). */
  stop(): void {
    this.stopping = true;
  }

  /** Ledger figures for tests and benchmarks: builds of the index and deployments held, per environment id. */
  ledgerOf(envId: number): DoraLedger | undefined {
    return this.ledgers.get(envId)?.ledger;
  }

  /**
   * Keeps the process's ledgers within MAX_DEPLOYMENTS. A ledger no request has read yet (only followed) goes
   * first, whole, and its environment is not followed again until asked; then the largest asked one drops its
   * oldest quarter (windows reaching back there are computed from the rows).
   */
  private bound(): void {
    let total = 0;
    for (const h of this.ledgers.values()) total += h.ledger.deployments.length;
    while (total > MAX_DEPLOYMENTS) {
      const all = [...this.ledgers.entries()];
      const unasked = all.filter(([, h]) => h.ledger.askedAt === 0 && h.ledger.deployments.length > 0);
      if (unasked.length > 0) {
        const [id, h] = unasked.reduce((a, b) => (b[1].ledger.deployments.length > a[1].ledger.deployments.length ? b : a));
        this.ledgers.delete(id);
        this.unfollowed.add(id);
        total -= h.ledger.deployments.length;
        continue;
      }
      const largest = all.reduce((a, b) => (b[1].ledger.deployments.length > a[1].ledger.deployments.length ? b : a))[1].ledger;
      const n = Math.ceil(largest.deployments.length / 4);
      largest.dropOldest(n);
      total -= n;
    }
  }

  /**
   * Whether each deployment started compliant: the artifact as it stood at its snapshot's log entry — the
   * attestations recorded by then, the exemptions recorded before — against the policies attached at that
   * snapshot, through ComplianceService.evaluateAsOf (the same decisions and reasons as `get snapshot E#N`).
   * One read of the facts' rows for every deployment, then one evaluation per distinct (policy set, snapshot).
   * Null where no policy was attached.
   */
  private async judge(org: OrgRecord, env: EnvironmentRecord, starts: readonly RunStart[]): Promise<(boolean | null)[]> {
    if (starts.length === 0) return [];
    const [attachments, allowances] = await Promise.all([this.policies.attachments(org, env), this.policies.allowances(org, env)]);
    const versions = new Map<string, Promise<PolicyRecord>>();
    const policy = (name: string, version: number) => {
      const ref = `${name}@${version}`;
      let p = versions.get(ref);
      if (!p) versions.set(ref, (p = this.policies.get(org, ref)));
      return p;
    };
    const groups = new Map<string, { refs: [string, number][]; asOf: number; members: number[] }>();
    starts.forEach((s, i) => {
      const refs = [...policiesAt(attachments, s.index)].sort(([a], [b]) => (a < b ? -1 : 1));
      if (refs.length === 0) return;
      const key = `${refs.map(([n, ver]) => `${n}@${ver}`).join(',')} ${s.entryIndex}`;
      const group = groups.get(key) ?? { refs, asOf: s.entryIndex, members: [] };
      group.members.push(i);
      groups.set(key, group);
    });
    const out: (boolean | null)[] = starts.map(() => null);
    if (groups.size === 0) return out;
    const sources = await this.compliance.facts.sources(org, [...new Set([...groups.values()].flatMap((g) => g.members.map((i) => starts[i]!.fingerprint)))]);
    for (const group of groups.values()) {
      const set = await Promise.all(group.refs.map(([n, ver]) => policy(n, ver)));
      const artifacts = [...new Map(group.members.map((i) => [`${starts[i]!.fingerprint} ${starts[i]!.name}`, starts[i]!])).values()];
      const results = await this.compliance.evaluateAsOf(org, artifacts.map((a) => ({ name: a.name, fingerprint: a.fingerprint })), set, allowances, group.asOf, sources);
      const byKey = new Map(results.map((r) => [`${r.fingerprint} ${r.name}`, r.compliant]));
      for (const i of group.members) out[i] = byKey.get(`${starts[i]!.fingerprint} ${starts[i]!.name}`)!;
    }
    return out;
  }
}
