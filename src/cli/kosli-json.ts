import type { environmentSchemas, recordSchemas } from '../client/index.js';
import type { Ctx } from './context.js';

// `--output json` prints Kosli's shapes for the commands Kosli has, so that a Kosli pipeline's `jq` keeps
// working (docs/kosli.md "JSON output"): Kosli's keys first, Evident's own fields kept beside them. Where
// both have a key of one name and the values differ in kind (Kosli: Unix seconds; Evident: ISO-8601), the key
// holds Kosli's value. `--output json-evident` prints Evident's shapes unchanged.

/** Kosli's shape under `--output json`, Evident's under `--output json-evident`. */
export function shaped<T>(ctx: Ctx, value: T, kosli: (v: T) => unknown): unknown {
  return ctx.globals.output === 'json' ? kosli(value) : value;
}

/** ISO-8601 → Unix seconds (Kosli's timestamps are floats); null stays null. */
export function unix(iso: string | null | undefined): number | null {
  if (!iso) return null;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? null : ms / 1000;
}

/** Kosli's environment types are upper-case for the cloud platforms (K8S, ECS, S3). */
export function kosliEnvType(type: string): string {
  return ['k8s', 'ecs', 's3'].includes(type) ? type.toUpperCase() : type;
}

type SnapshotArtifact = environmentSchemas.Snapshot['artifacts'][number];

/** An artifact of `get snapshot`: Kosli's flow_name, flows[], compliant, annotation and creationTimestamp. */
function snapshotArtifact(a: SnapshotArtifact, snapshotTime: string | null) {
  const compliant = a.compliance ? a.compliance.compliant || a.compliance.allowed : null;
  return {
    ...a,
    flow_name: a.flow ?? '',
    flows: a.flow ? [{ flow_name: a.flow, git_commit: a.git_commit, commit_url: a.commit_url, compliant }] : [],
    git_commit: a.git_commit,
    commit_url: a.commit_url,
    compliant,
    // Started in this snapshot, or running on from an earlier one (Kosli's annotation.type).
    annotation: { type: a.running_since === snapshotTime ? 'started' : 'unchanged', was: a.instances, now: a.instances },
    creationTimestamp: [unix(a.running_since)],
  };
}

export function kosliSnapshot(s: environmentSchemas.Snapshot) {
  return {
    ...s,
    timestamp: unix(s.timestamp),
    compliant: s.compliant ?? null,
    artifacts: s.artifacts.map((a) => snapshotArtifact(a, s.timestamp)),
  };
}

/** `list snapshots`: an array of {index, from, to, compliant, duration}, newest first, `to` the next snapshot's time. */
export function kosliSnapshotList(page: environmentSchemas.SnapshotPage, now = Date.now() / 1000) {
  return page.items.map((s, i) => {
    const from = unix(s.timestamp)!;
    const newer = i > 0 ? unix(page.items[i - 1]!.timestamp) : null;
    return { ...s, from, to: newer ?? 0, duration: (newer ?? now) - from };
  });
}

type EnvEvent = environmentSchemas.EnvironmentEvents['items'][number];

/** `log environment`: newest first, with Kosli's snapshot_index, artifact_name, sha256, reported_at, description. */
export function kosliEnvironmentLog(items: EnvEvent[]) {
  return [...items].reverse().map((e) => ({
    snapshot_index: e.snapshot, artifact_name: e.name, sha256: e.fingerprint, reported_at: unix(e.timestamp),
    description: e.type === 'scaled' ? `Scaled from ${e.previous_instances} to ${e.instances} instances` : `${e.instances} instance${e.instances === 1 ? '' : 's'} ${e.type}`,
    ...e,
  }));
}

/** `list flows`: an array. */
export function kosliFlowList<T extends { name: string }>(items: T[]) {
  return items;
}

/** `list trails`: Kosli pages as {data, pagination}. */
export function kosliTrailList(page: recordSchemas.TrailPage, pageNumber: number, pageLimit: number) {
  return { data: page.items, pagination: { page: pageNumber, page_limit: pageLimit, next_cursor: page.next_cursor } };
}

/** `list artifacts`: an array, each with Kosli's flow_name and filename. */
export function kosliArtifactList<T extends { flow: string; display_name: string }>(items: T[]) {
  return items.map((a) => ({ flow_name: a.flow, filename: a.display_name, ...a }));
}

/** `search`: {resolved_to: {type, value}, artifacts} as Kosli; a commit when any artifact matched by its commit. */
export function kosliSearch<T extends { matched: string; fingerprint: string; git_commit: string | null }>(query: string, items: T[]) {
  const byCommit = items.some((a) => a.matched === 'commit');
  return {
    resolved_to: { type: items.length === 0 ? 'unknown' : byCommit ? 'commit' : 'fingerprint', value: query, full_value: items.length === 1 ? (byCommit ? items[0]!.git_commit : items[0]!.fingerprint) : query },
    artifacts: items,
  };
}

/** `get environment` / `list environments`: Kosli's upper-case types, and its time keys in Unix seconds. */
export function kosliEnvironment<T extends { type: string; last_modified_at?: string; last_changed_at?: string | null }>(e: T) {
  return {
    ...e, type: kosliEnvType(e.type),
    ...('last_modified_at' in e ? { last_modified_at: unix(e.last_modified_at) } : {}), ...('last_changed_at' in e ? { last_changed_at: unix(e.last_changed_at) } : {}),
  };
}
