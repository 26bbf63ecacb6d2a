import type { OrgRecord, Store } from '../../store/index.js';
import type { SnapshotView } from './environments.js';
import { projectionCheck } from './projection-check.js';
import { checkedLatestReports } from './snapshot-check.js';

/** A running artifact with what the records know of it: the flow and commit of its latest report. */
export interface DescribedArtifact {
  name: string;
  fingerprint: string;
  /** Null when no flow ever reported this fingerprint: it cannot be matched with anything. */
  flow: string | null;
  git_commit: string | null;
  commit_url: string | null;
  instances: number;
  running_since: string;
}

export interface DescribedSnapshot {
  environment: string;
  index: number | null;
  timestamp: string | null;
  entry_index: number | null;
  artifacts: DescribedArtifact[];
}

/**
 * Each running artifact with what the records know of it (its latest report in the org), for several
 * snapshots at once: one bulk lookup over the union of their fingerprints (a few queries whatever the
 * count). Shared by `get snapshot`, `diff snapshots`, drift and release plans so they all say the same thing.
 */
export async function describeSnapshots(
  store: Store, org: OrgRecord, views: readonly SnapshotView[], reports?: Awaited<ReturnType<Store['records']['latestReports']>>,
): Promise<DescribedSnapshot[]> {
  // `reports`: the latest reports already read and checked against their entries by the caller; else read
  // and checked here (what is shown beside a running artifact is what its entry says).
  const known = reports ?? await checkedLatestReports(projectionCheck(store), store, org, views.flatMap((v) => v.artifacts.map((a) => a.fingerprint)));
  return views.map((v) => ({
    environment: v.environment.name, index: v.snapshot?.index ?? null, timestamp: v.snapshot?.createdAt ?? null, entry_index: v.snapshot?.entryIndex ?? null,
    artifacts: v.artifacts.map((a) => {
      const last = known.get(a.fingerprint);
      return {
        name: a.name, fingerprint: a.fingerprint, flow: last?.flow ?? null, git_commit: last?.artifact.gitCommit ?? null,
        commit_url: last?.artifact.commitUrl ?? null, instances: a.instances, running_since: a.runningSince,
      };
    }),
  }));
}

export async function describeSnapshot(store: Store, org: OrgRecord, v: SnapshotView): Promise<DescribedSnapshot> {
  return (await describeSnapshots(store, org, [v]))[0]!;
}
