import { EvidentError } from '../../core/index.js';
import type { EnvironmentRecord, ExpectationRecord, OrgRecord, RunStart, RunningArtifact, SnapshotRecord, Store } from '../../store/index.js';

type LatestReports = Awaited<ReturnType<Store['records']['latestReports']>>;
import type { ProjectionCheck } from './projection-check.js';

// Environments and snapshots checked against their log entries when a decision uses them (projection-check.ts):
// an environment's name (and type, while its row still names its environment.created entry), and a snapshot's
// running set against the entry that made it. A snapshot made by a policy attach or detach holds the running
// set of the snapshot before it, so its set is compared with the nearest earlier snapshot.created entry.

/** Snapshots walked back at most to find the report a policy-change snapshot copied (bounds one check). */
const MAX_WALK = 1000;

export async function checkEnvironment(check: ProjectionCheck, org: OrgRecord, env: EnvironmentRecord): Promise<void> {
  const entries = await check.rows(org, [{ table: 'environments', entryIndex: env.entryIndex, types: ['environment.'], fields: { environment: env.name } }]);
  const body = entries.get(env.entryIndex)!.body;
  if (body.type === 'environment.created' && body.environment_type !== env.type) {
    throw new EvidentError('TAMPERED', `decision refused: the environments row of log entry ${env.entryIndex} was edited: its type is ${env.type}, the entry says ${String(body.environment_type)}`, {
      details: { table: 'environments', entry_index: env.entryIndex, field: 'type' },
    });
  }
}

export async function checkSnapshot(check: ProjectionCheck, store: Store, org: OrgRecord, env: EnvironmentRecord, snap: SnapshotRecord, running: readonly RunningArtifact[]): Promise<void> {
  const types = ['snapshot.created', 'policy.attached', 'policy.detached'];
  let at = snap;
  let body = (await check.rows(org, [{ table: 'snapshots', entryIndex: at.entryIndex, types, fields: { environment: env.name } }])).get(at.entryIndex)!.body;
  for (let walked = 0; body.type !== 'snapshot.created'; walked++) {
    const before = walked < MAX_WALK && at.index > 1 ? await store.environments.snapshotByIndex(env.id, at.index - 1) : undefined;
    if (!before) throw tampered(snap, `no report before snapshot ${env.name}#${snap.index} to derive its running set from`);
    at = before;
    body = (await check.rows(org, [{ table: 'snapshots', entryIndex: at.entryIndex, types, fields: { environment: env.name } }])).get(at.entryIndex)!.body;
  }
  if (!sameRunningSet(loggedArtifacts(body), running)) {
    throw tampered(snap, `the snapshot_artifacts rows of ${env.name}#${snap.index} are not the running set its log entry ${at.entryIndex} records`);
  }
}

/**
 * A run of consecutive snapshots (ascending index, as `evident log environment` pages them) checked in one
 * batched read of their entries: a report's running set against its entry, a policy change's against the
 * snapshot before it (checked just before, or walked back to by checkSnapshot for the first of the run).
 */
export async function checkSnapshots(
  check: ProjectionCheck, store: Store, org: OrgRecord, env: EnvironmentRecord, snaps: readonly SnapshotRecord[], running: ReadonlyMap<number, readonly RunningArtifact[]>,
): Promise<void> {
  const types = ['snapshot.created', 'policy.attached', 'policy.detached'];
  const entries = await check.rows(org, snaps.map((s) => ({ table: 'snapshots', entryIndex: s.entryIndex, types, fields: { environment: env.name } })));
  let before: SnapshotRecord | undefined;
  for (const snap of snaps) {
    const set = running.get(snap.id) ?? [];
    const body = entries.get(snap.entryIndex)!.body;
    if (body.type === 'snapshot.created') {
      if (!sameRunningSet(loggedArtifacts(body), set)) {
        throw tampered(snap, `the snapshot_artifacts rows of ${env.name}#${snap.index} are not the running set its log entry ${snap.entryIndex} records`);
      }
    } else if (before && before.index === snap.index - 1) {
      if (!sameRunningSet(running.get(before.id) ?? [], set)) {
        throw tampered(snap, `the snapshot_artifacts rows of ${env.name}#${snap.index} (a policy change, entry ${snap.entryIndex}) are not the running set of #${before.index}`);
      }
    } else {
      await checkSnapshot(check, store, org, env, snap, set);
    }
    before = snap;
  }
}

type ArtifactLike = { fingerprint: unknown; name: unknown; instances: unknown };

function loggedArtifacts(body: Record<string, unknown>): ArtifactLike[] {
  return Array.isArray(body.artifacts) ? (body.artifacts as ArtifactLike[]) : [];
}

function sameRunningSet(a: readonly ArtifactLike[], b: readonly ArtifactLike[]): boolean {
  const key = (x: ArtifactLike) => `${String(x.fingerprint)} ${String(x.instances)} ${String(x.name)}`;
  const want = a.map(key).sort();
  const have = b.map(key).sort();
  return want.length === have.length && want.every((k, i) => k === have[i]);
}

function tampered(snap: SnapshotRecord, message: string): EvidentError {
  return new EvidentError('TAMPERED', `decision refused: ${message}`, { details: { table: 'snapshot_artifacts', entry_index: snap.entryIndex } });
}

/**
 * DORA's deployments (runs that began in a snapshot) checked against the snapshots' entries: the fingerprint,
 * its name and the environment must be in the `snapshot.created` entry the start names (a run never begins
 * in a snapshot a policy change made: it holds the running set of the one before).
 */
export async function checkRunStarts(check: ProjectionCheck, org: OrgRecord, env: EnvironmentRecord, starts: readonly RunStart[]): Promise<void> {
  const entries = await check.entries(org, starts.map((s) => s.entryIndex));
  for (const s of starts) {
    const body = entries.get(s.entryIndex)!.body;
    const listed = body.type === 'snapshot.created' && body.environment === env.name && Array.isArray(body.artifacts)
      && (body.artifacts as { fingerprint?: unknown; name?: unknown }[]).some((a) => a.fingerprint === s.fingerprint && a.name === s.name);
    if (!listed) {
      throw new EvidentError('TAMPERED', `decision refused: the snapshot_artifacts row of ${env.name}#${s.index} (${s.fingerprint.slice(0, 12)}) is not in its log entry ${s.entryIndex}`, {
        details: { table: 'snapshot_artifacts', entry_index: s.entryIndex },
      });
    }
  }
}

/**
 * The latest report of each fingerprint (the flow, commit and commit URL shown beside a running artifact, and
 * what drift and release plans match by flow), each checked against its `artifact.reported` entry.
 */
export async function checkedLatestReports(check: ProjectionCheck, store: Store, org: OrgRecord, fingerprints: readonly string[]): Promise<LatestReports> {
  const reports = await store.records.latestReports(org.id, fingerprints);
  await check.rows(org, [...reports.values()].map(({ flow, artifact }) => ({
    table: 'artifacts', entryIndex: artifact.entryIndex, types: ['artifact.reported'],
    fields: { flow, fingerprint: artifact.fingerprint, git_commit: artifact.gitCommit, commit_url: artifact.commitUrl },
  })));
  return reports;
}

/**
 * An environment's deployment expectations (all of them, in the order they were made) against their
 * `deployment.expected` entries; their numbers must run 1, 2, 3… in entry order, so a row deleted or moved
 * behind the server shows as a gap (the numbers are given under the log lock, one per entry).
 */
export async function checkExpectations(check: ProjectionCheck, org: OrgRecord, env: EnvironmentRecord, expectations: readonly ExpectationRecord[]): Promise<void> {
  await check.rows(org, expectations.map((x) => ({
    table: 'expectations', entryIndex: x.entryIndex, types: ['deployment.expected'],
    fields: { environment: env.name, fingerprint: x.fingerprint, description: x.description, time: x.createdAt },
  })));
  expectations.forEach((x, i) => {
    const previous = expectations[i - 1];
    if (x.number !== i + 1 || (previous && previous.entryIndex >= x.entryIndex)) {
      throw new EvidentError('TAMPERED', `decision refused: the expectations rows of ${env.name} were edited: deployment #${x.number} (log entry ${x.entryIndex}) is the ${i + 1}${ordinal(i + 1)} of its expectations`, {
        details: { table: 'expectations', entry_index: x.entryIndex, field: 'number' },
      });
    }
  });
}

function ordinal(n: number): string {
  if (n % 100 >= 11 && n % 100 <= 13) return 'th';
  return ['th', 'st', 'nd', 'rd'][n % 10] ?? 'th';
}
