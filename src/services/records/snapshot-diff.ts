import type { OrgRecord, Store } from '../../store/index.js';
import type { SnapshotView } from './environments.js';

/** An artifact as Kosli's `diff snapshots` JSON writes it (the shape users' scripts already read). */
export interface DiffArtifact {
  name: string;
  fingerprint: string;
  flow: string | null;
  commit_url: string | null;
  instance_count: number;
  most_recent_timestamp: string;
  instance_count_1?: number;
  instance_count_2?: number;
}

export interface SnapshotDiff {
  snappish1: { snapshot_id: string; artifacts: DiffArtifact[] };
  snappish2: { snapshot_id: string; artifacts: DiffArtifact[] };
  changed: { artifacts: DiffArtifact[] };
  'not-changed': { artifacts: DiffArtifact[] };
}

type Running = SnapshotView['artifacts'][number];

const snapshotId = (v: SnapshotView) => (v.snapshot ? `${v.environment.name}#${v.snapshot.index}` : v.environment.name);

/**
 * Only in A, only in B, in both with different instance counts, and (with `showUnchanged`, as Kosli's
 * `--show-unchanged`) in both unchanged (issue #4 item 6). Classified on the raw running sets with one
 * hash map per side — linear — and only the artifacts that appear in the answer are looked up in the
 * records (their flow and commit), so a diff of two large, mostly equal snapshots stays cheap.
 */
export async function diffSnapshots(store: Store, org: OrgRecord, a: SnapshotView, b: SnapshotView, showUnchanged = false): Promise<SnapshotDiff> {
  const inA = new Map(a.artifacts.map((x) => [x.fingerprint, x]));
  const inB = new Map(b.artifacts.map((x) => [x.fingerprint, x]));
  const onlyA: Running[] = [];
  const changed: [Running, Running][] = [];
  const same: Running[] = [];
  for (const x of a.artifacts) {
    const y = inB.get(x.fingerprint);
    if (!y) onlyA.push(x);
    else if (x.instances !== y.instances) changed.push([x, y]);
    else if (showUnchanged) same.push(y);
  }
  const onlyB = b.artifacts.filter((y) => !inA.has(y.fingerprint));
  const shown = [...onlyA, ...onlyB, ...changed.map(([, y]) => y), ...same].map((x) => x.fingerprint);
  const known = await store.records.latestReports(org.id, shown);
  const kosli = (x: Running): DiffArtifact => {
    const last = known.get(x.fingerprint);
    return { name: x.name, fingerprint: x.fingerprint, flow: last?.flow ?? null, commit_url: last?.artifact.commitUrl ?? null, instance_count: x.instances, most_recent_timestamp: x.runningSince };
  };
  return {
    snappish1: { snapshot_id: snapshotId(a), artifacts: onlyA.map(kosli) },
    snappish2: { snapshot_id: snapshotId(b), artifacts: onlyB.map(kosli) },
    changed: { artifacts: changed.map(([x, y]) => ({ ...kosli(y), instance_count_1: x.instances, instance_count_2: y.instances })) },
    'not-changed': { artifacts: same.map(kosli) },
  };
}
