import type { DescribedArtifact, DescribedSnapshot } from './snapshot-artifacts.js';

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

function kosliArtifact(a: DescribedArtifact): DiffArtifact {
  return { name: a.name, fingerprint: a.fingerprint, flow: a.flow, commit_url: a.commit_url, instance_count: a.instances, most_recent_timestamp: a.running_since };
}

const snapshotId = (s: DescribedSnapshot) => (s.index === null ? s.environment : `${s.environment}#${s.index}`);

/**
 * Only in A, only in B, in both with different instance counts, in both unchanged (issue #4 item 6).
 * One pass over each side with a hash map: linear in the number of running artifacts.
 */
export function diffSnapshots(a: DescribedSnapshot, b: DescribedSnapshot): SnapshotDiff {
  const inA = new Map(a.artifacts.map((x) => [x.fingerprint, x]));
  const inB = new Map(b.artifacts.map((x) => [x.fingerprint, x]));
  const onlyA: DiffArtifact[] = [];
  const changed: DiffArtifact[] = [];
  const same: DiffArtifact[] = [];
  for (const x of a.artifacts) {
    const y = inB.get(x.fingerprint);
    if (!y) onlyA.push(kosliArtifact(x));
    else if (x.instances !== y.instances) changed.push({ ...kosliArtifact(y), instance_count_1: x.instances, instance_count_2: y.instances });
    else same.push(kosliArtifact(y));
  }
  return {
    snappish1: { snapshot_id: snapshotId(a), artifacts: onlyA },
    snappish2: { snapshot_id: snapshotId(b), artifacts: b.artifacts.filter((y) => !inA.has(y.fingerprint)).map(kosliArtifact) },
    changed: { artifacts: changed },
    'not-changed': { artifacts: same },
  };
}
