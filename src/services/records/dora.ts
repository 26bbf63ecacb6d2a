import { EvidentError } from '../../core/index.js';
import type { EnvironmentRecord, OrgRecord, PolicyRecord, RunStart, Store } from '../../store/index.js';
import { systemClock, type Clock } from '../clock.js';
import type { ComplianceService } from './compliance.js';
import { aggregate, type DoraDeployment, type DoraReport } from './dora-stats.js';
import { doraWindow } from './dora-window.js';
import type { EnvironmentService } from './environments.js';
import { policiesAt, type PolicyService } from './policies.js';
import { projectionCheck } from './projection-check.js';
import { checkRunStarts } from './snapshot-check.js';
import * as v from './validate.js';

// DORA metrics of one environment (issue #5 item 7, docs/metrics.md): deployment frequency, lead time for
// changes and change failure rate, per flow and overall, from the snapshots alone. A deployment is a
// fingerprint that starts running: in a snapshot's running set and not in the one before (a re-deploy after
// it stopped counts again; a scale change does not). The store keeps exactly those rows apart (`since_idx =
// idx`), so a window costs one query for the deployments, one for their reports, and the compliance reads.

export interface DoraQuery {
  environment: string;
  since?: string;
  until?: string;
  flow?: string;
  bucket?: string;
}

export class DoraService {
  constructor(
    private readonly store: Store, private readonly environments: EnvironmentService, private readonly policies: PolicyService,
    private readonly compliance: ComplianceService, private readonly clock: Clock = systemClock,
  ) {}

  async metrics(org: OrgRecord, query: DoraQuery): Promise<DoraReport> {
    const window = doraWindow(query, this.clock.now());
    const flow = query.flow === undefined ? undefined : v.name('flow', query.flow);
    const env = await this.environments.get(org, query.environment);
    if (env.type === 'logical') throw new EvidentError('INVALID_ARGUMENT', `${env.name} is a logical environment: it has no snapshots of its own; ask about the environments it includes`);
    if (flow !== undefined && !(await this.store.records.flow(org.id, flow))) throw new EvidentError('NOT_FOUND', `flow ${JSON.stringify(flow)} does not exist in organisation ${org.name}`);
    const starts = await this.store.environments.runStarts(env.id, window.since.toISOString(), window.until.toISOString());
    await checkRunStarts(projectionCheck(this.store), org, env, starts);
    const reports = await this.store.records.latestReports(org.id, starts.map((s) => s.fingerprint));
    const chosen = flow === undefined ? starts : starts.filter((s) => reports.get(s.fingerprint)?.flow === flow);
    const compliant = await this.judge(org, env, chosen);
    const deployments = chosen.map((s, i): DoraDeployment => {
      const report = reports.get(s.fingerprint);
      const commitTime = report?.artifact.commitTime ?? null;
      return {
        flow: report?.flow ?? null, artifact: s.name, fingerprint: s.fingerprint, git_commit: report?.artifact.gitCommit ?? null, commit_time: commitTime,
        deployed_at: s.createdAt, snapshot: s.index,
        lead_time_seconds: commitTime === null ? null : Math.round((Date.parse(s.createdAt) - Date.parse(commitTime)) / 1000),
        compliant: compliant[i]!,
      };
    });
    return { environment: env.name, since: window.since.toISOString(), until: window.until.toISOString(), bucket: window.bucket, ...aggregate(deployments, window) };
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
