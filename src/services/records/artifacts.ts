import { EvidentError } from '../../core/index.js';
import type { ComplianceState } from '../../formats/index.js';
import type { ArtifactPlaces, ArtifactRecord, OrgRecord, Page, Store, TrailRecord } from '../../store/index.js';
import type { LogService } from '../log-service.js';
import { ArtifactViewCache, type ArtifactRecords } from './artifact-views.js';
import { trailContentClaims } from './fact-claims.js';
import { projectionCheck } from './projection-check.js';
import { checkRunClaims, expectationClaims, type RunClaim } from './shown-runs.js';
import { complianceOfArtifact } from './trail-compliance.js';
import type { TrailService } from './trails.js';
import * as v from './validate.js';
import { prepareTemplates } from './templates.js';

export interface ReportArtifactInput {
  flow: string;
  trail: string;
  /** The artifact's name in the flow template. */
  name: string;
  displayName?: string | null;
  fingerprint: string;
  gitCommit?: string | null;
  commitUrl?: string | null;
  buildUrl?: string | null;
  annotations?: Record<string, string> | null;
  /** When the commit was made (RFC 3339): the start of DORA lead time. */
  commitTime?: string | null;
}

export type { ComplianceState };

/**
 * One event of an artifact's history: `event` is the server's wording for people (seed 002's, which the CLI
 * prints), the other fields say the same for programs (the web UI's journey reads these, not the wording).
 */
export interface HistoryEvent {
  event: string;
  timestamp: string;
  kind: 'created' | 'attestation' | 'expected' | 'started' | 'scaled' | 'exited';
  environment?: string;
  /** The snapshot it started, scaled or stopped running in (an exit: the first snapshot without it). */
  snapshot?: number;
  instances?: number;
  previous_instances?: number;
  /** The attestation's name; the expectation's number (`Deployment #N`). */
  attestation?: string;
  expectation?: number;
  entry_index?: number;
}

/**
 * One artifact row as `get artifact` shows it: its records (artifact-views.ts: `related` holds attestations of
 * other trails about it, such as a release's promotion with that trail's approval; `state` is
 * `compliance.state`, against its trail's template from the latest attestation of each name), and then:
 */
export interface ArtifactView extends ArtifactRecords {
  history: HistoryEvent[];
  /** `env#N`: the latest snapshot of each environment it runs in. */
  running: string[];
  /** `env#N`: the snapshot where it stopped, in environments it no longer runs in. */
  exited: string[];
}

export interface SearchHit {
  artifact: ArtifactRecord;
  flow: string;
  trail: string;
  matched: 'fingerprint' | 'commit';
  /** Where the artifact runs now (since which snapshot) and where it ran before. */
  places: ArtifactPlaces;
}

const PREFIX = /^[0-9a-f]{5,64}$/;

/** Artifacts, by fingerprint, reported into a trail (DESIGN.md §1). */
export class ArtifactService {
  /** `get artifact`'s views by fingerprint, kept while nothing new is logged about them (artifact-views.ts). */
  readonly views: ArtifactViewCache<ArtifactView>;

  constructor(private readonly store: Store, private readonly log: LogService, private readonly trails: TrailService) {
    this.views = new ArtifactViewCache(log, (org, fp) => this.recordsOf(org, fp), (org, r) => this.place(org, r));
  }

  async report(org: OrgRecord, input: ReportArtifactInput): Promise<ArtifactRecord> {
    const p = new v.Problems();
    const name = p.check('name', () => v.name('artifact', input.name));
    const displayName = p.check('display_name', () => v.optional(input.displayName, (x) => v.text(x, 256)));
    const fingerprint = p.check('fingerprint', () => v.fingerprint(input.fingerprint));
    const gitCommit = p.check('git_commit', () => v.optional(input.gitCommit, v.commit));
    const commitUrl = p.check('commit_url', () => v.optional(input.commitUrl, v.url));
    const buildUrl = p.check('build_url', () => v.optional(input.buildUrl, v.url));
    const annotations = p.check('annotations', () => v.annotations(input.annotations));
    const commitTime = p.check('commit_time', () => v.optional(input.commitTime, v.timestamp));
    p.throwIfAny('artifact');
    const { flow, trail } = await this.trails.get(org, input.flow, input.trail);
    const { value } = await this.log.append(
      org, 'artifact.reported',
      { flow: flow.name, trail: trail.name, artifact: name!, display_name: displayName ?? name!, fingerprint: fingerprint!,
        git_commit: gitCommit ?? null, commit_url: commitUrl ?? null, build_url: buildUrl ?? null, annotations: annotations ?? null,
        ...(commitTime ? { commit_time: commitTime } : {}) },
      (records, e) => records.insertArtifact({
        orgId: org.id, flowId: flow.id, trailId: trail.id, fingerprint: fingerprint!, name: name!, displayName: displayName ?? name!,
        gitCommit: gitCommit ?? null, commitUrl: commitUrl ?? null, buildUrl: buildUrl ?? null, annotations: annotations ?? null,
        commitTime: commitTime ?? null, createdAt: e.time, entryIndex: e.index,
      }),
    );
    return value;
  }

  /**
   * Finds artifacts by `FLOW@FINGERPRINT`, `FLOW:COMMIT` or a fingerprint prefix of at least 5 hex
   * characters; an ambiguous prefix is an error listing the candidates.
   */
  async find(org: OrgRecord, ref: string): Promise<ArtifactView[]> {
    let found: ArtifactView[];
    if (ref.includes('@')) {
      const [flowName, fp] = ref.split('@', 2) as [string, string];
      const flow = await this.trails.flow(org, flowName);
      found = (await this.byFingerprint(org, fp)).filter((x) => x.artifact.flowId === flow.id);
    } else if (ref.includes(':')) {
      const [flowName, commit] = ref.split(':', 2) as [string, string];
      const flow = await this.trails.flow(org, flowName);
      const rows = await this.store.records.artifactsByCommit(org.id, flow.id, v.commit(commit));
      found = await Promise.all(rows.map(async (a) => this.place(org, await this.records(org, a))));
    } else {
      found = await this.byFingerprint(org, ref);
    }
    if (found.length === 0) throw new EvidentError('NOT_FOUND', `no artifact matches ${JSON.stringify(ref)} in organisation ${org.name}`);
    return found;
  }

  private async byFingerprint(org: OrgRecord, prefix: string): Promise<ArtifactView[]> {
    if (!PREFIX.test(prefix)) {
      throw new EvidentError('INVALID_ARGUMENT', `a fingerprint or prefix is 5 to 64 lower-case hex characters, not ${JSON.stringify(prefix)}`);
    }
    const candidates = prefix.length === 64 ? [prefix] : await this.store.records.fingerprintsWithPrefix(org.id, prefix, 11);
    if (candidates.length > 1) {
      throw new EvidentError('CONFLICT', `fingerprint prefix ${prefix} is ambiguous: ${candidates.slice(0, 10).join(', ')}${candidates.length > 10 ? ', …' : ''}`, {
        details: { candidates: candidates.slice(0, 10) },
      });
    }
    return candidates.length === 0 ? [] : this.views.views(org, candidates[0]!);
  }

  /** Every artifact row of the fingerprint with what it rests on, each row checked against its entry. */
  private async recordsOf(org: OrgRecord, fingerprint: string): Promise<ArtifactRecords[]> {
    const rows = await this.store.records.artifactsByFingerprint(org.id, fingerprint);
    return Promise.all(rows.map((a) => this.records(org, a)));
  }

  /** `evident search`: a commit SHA or fingerprint prefix (>= 5 hex), across all flows. */
  async search(org: OrgRecord, prefix: string, limit = 100): Promise<SearchHit[]> {
    if (!PREFIX.test(prefix)) {
      throw new EvidentError('INVALID_ARGUMENT', `search for 5 to 64 lower-case hex characters of a commit or a fingerprint, not ${JSON.stringify(prefix)}`);
    }
    const found = await this.store.records.searchArtifacts(org.id, prefix, limit);
    const [places, names] = await Promise.all([
      this.store.records.placesOf(org.id, found.map((a) => a.fingerprint)), this.store.records.trailNames(found.map((a) => a.trailId)),
    ]);
    return found.map((artifact) => ({
      artifact, flow: names.get(artifact.trailId)!.flow, trail: names.get(artifact.trailId)!.trail,
      matched: artifact.fingerprint.startsWith(prefix) ? 'fingerprint' as const : 'commit' as const, places: places.get(artifact.fingerprint)!,
    }));
  }

  list(org: OrgRecord, filter: { flowId?: number; trailId?: number }, cursor: string | null, limit: number): Promise<Page<ArtifactRecord>> {
    return this.store.records.artifacts(org.id, filter, cursor, limit);
  }

  private async records(org: OrgRecord, artifact: ArtifactRecord): Promise<ArtifactRecords> {
    // Independent reads at once: on PostgreSQL each is a round trip (`related` checks its own rows).
    const [flow, trail, attestations, related] = await Promise.all([
      this.store.records.flowById(artifact.flowId),
      this.store.records.trailById(artifact.trailId),
      this.store.records.attestationsOfArtifact(artifact),
      this.related(org, artifact),
    ]);
    // The state shown is a decision too: every row it rests on is checked against its entry.
    await projectionCheck(this.store).rows(org, trailContentClaims(flow!.name, trail!, [artifact], attestations, true));
    await prepareTemplates(this.trails.parser, [trail!.template]);
    const compliance = complianceOfArtifact(trail!, artifact, attestations);
    return { artifact, flow: flow!, trail: trail!, attestations, related, state: compliance.state, compliance };
  }

  /** The records with where the artifact runs and its history. */
  private async place(org: OrgRecord, r: ArtifactRecords): Promise<ArtifactView> {
    const { artifact, attestations } = r;
    const life = await this.lifeInEnvironments(org, artifact);
    // Seed 002's wording: "Artifact created", "<attestation name> evidence received", "Started running in…".
    const history: HistoryEvent[] = [
      { event: 'Artifact created', timestamp: artifact.createdAt, kind: 'created' as const, entry_index: artifact.entryIndex },
      ...attestations.map((a) => ({ event: `${a.name} evidence received`, timestamp: a.createdAt, kind: 'attestation' as const, attestation: a.name, entry_index: a.entryIndex })),
      ...life.events,
    ].sort((x, y) => x.timestamp.localeCompare(y.timestamp));
    return { ...r, history, running: life.running, exited: life.exited };
  }

  /** Other trails' attestations about the artifact, each row checked against its entry like the artifact's own (shown fields too). */
  private async related(org: OrgRecord, artifact: ArtifactRecord): Promise<ArtifactView['related']> {
    const rows = await this.store.records.attestationsAboutFingerprint(org.id, artifact.fingerprint, artifact.trailId, 20);
    const trailIds = [...new Set(rows.map((r) => r.trailId))];
    const trails = new Map<number, TrailRecord>();
    const flows = new Map<number, string>();
    for (const id of trailIds) {
      const t = await this.store.records.trailById(id);
      if (!t) continue;
      trails.set(id, t);
      if (!flows.has(t.flowId)) flows.set(t.flowId, (await this.store.records.flowById(t.flowId))?.name ?? '');
    }
    const claims = trailIds.flatMap((id) => {
      const t = trails.get(id);
      return t ? trailContentClaims(flows.get(t.flowId) ?? '', t, [], rows.filter((r) => r.trailId === id), true) : [];
    });
    await projectionCheck(this.store).rows(org, claims);
    return rows.flatMap((r) => {
      const t = trails.get(r.trailId);
      return t ? [{ flow: flows.get(t.flowId) ?? '', trail: t.name, attestation: r }] : [];
    });
  }

  /**
   * Where the fingerprint ran, from the snapshots (seed 002): a run starts, scales, and ends in the first
   * snapshot without it. `running` names the latest snapshot of each environment it runs in now; `exited`
   * the snapshot where it stopped in environments it no longer runs in. Every snapshot and expectation shown
   * is checked against its entry first, in one batched check (shown-runs.ts).
   */
  private async lifeInEnvironments(org: OrgRecord, artifact: ArtifactRecord) {
    const envs = this.store.environments;
    const [seen, expected] = await Promise.all([
      envs.appearances(artifact.orgId, artifact.fingerprint), envs.expectations(artifact.orgId, { fingerprint: artifact.fingerprint }),
    ]);
    const events: HistoryEvent[] = expected.map((x) => ({
      event: `Deployment #${x.number} to ${x.envName} environment`, timestamp: x.createdAt, kind: 'expected', environment: x.envName, expectation: x.number, entry_index: x.entryIndex,
    }));
    const running: string[] = [];
    const exited: string[] = [];
    const byEnv = new Map<number, typeof seen>();
    for (const a of seen) byEnv.set(a.envId, [...(byEnv.get(a.envId) ?? []), a]);
    // What each shown event says of a snapshot, checked below against the snapshot's entry.
    const claims: RunClaim[] = [];
    const fingerprint = artifact.fingerprint;
    for (const [envId, list] of byEnv) {
      const env = list[0]!.envName;
      const claim = (index: number, entryIndex: number, runs: boolean, more: Partial<RunClaim> = {}) => {
        claims.push({ table: 'snapshot_artifacts', envId, envName: env, index, entryIndex, fingerprint, runs, ...more });
      };
      for (let i = 0; i < list.length; i++) {
        const a = list[i]!;
        const prev = list[i - 1];
        const at = { environment: env, snapshot: a.index, timestamp: a.createdAt, instances: a.instances };
        if (!prev || prev.index !== a.index - 1) {
          events.push({ ...at, event: `Started running in ${env}#${a.index} environment`, kind: 'started' });
          claim(a.index, a.entryIndex, true, { time: a.createdAt, instances: a.instances });
          // A run starts where the snapshot before did not hold it.
          const before = a.index > 1 ? await envs.snapshotByIndex(envId, a.index - 1) : undefined;
          if (before) claim(before.index, before.entryIndex, false);
          else if (a.index > 1) throw new EvidentError('TAMPERED', `decision refused: the snapshots row of ${env}#${a.index - 1} is missing`, { details: { table: 'snapshots', entry_index: null } });
        } else if (prev.instances !== a.instances) {
          const dir = a.instances < prev.instances ? 'down' : 'up';
          events.push({ ...at, event: `Scaled ${dir} from ${prev.instances} to ${a.instances} in ${env}#${a.index} environment`, kind: 'scaled', previous_instances: prev.instances });
          claim(a.index, a.entryIndex, true, { time: a.createdAt, instances: a.instances });
          claim(prev.index, prev.entryIndex, true, { instances: prev.instances });
        }
        const next = list[i + 1];
        if (!next || next.index !== a.index + 1) {
          const after = await envs.snapshotByIndex(envId, a.index + 1);
          claim(a.index, a.entryIndex, true, { instances: a.instances });
          if (after) {
            claim(after.index, after.entryIndex, false, { time: after.createdAt });
            events.push({
              event: `No longer running in ${env}#${after.index} environment`, timestamp: after.createdAt, kind: 'exited', environment: env, snapshot: after.index,
              instances: 0, previous_instances: a.instances,
            });
            if (!next) exited.push(`${env}#${after.index}`);
          } else {
            running.push(`${env}#${a.index}`);
          }
        }
      }
    }
    const check = projectionCheck(this.store);
    const entries = await check.entries(org, [...claims.map((c) => c.entryIndex), ...expected.map((x) => x.entryIndex)]);
    await check.rows(org, expectationClaims(expected));
    await checkRunClaims(check, this.store, org, claims, entries);
    return { events, running, exited };
  }
}
