import type { ColumnType, Generated } from 'kysely';

/** Row types of every table, as Kysely sees them. Timestamps are ISO-8601 UTC text on both engines. */
export interface OrgsTable {
  id: Generated<number>;
  name: string;
  created_at: string;
}

export interface TokensTable {
  id: string;
  org_id: number;
  name: string;
  role: string;
  secret_hash: string;
  created_at: string;
  created_by: string | null;
  expires_at: string | null;
  revoked_at: string | null;
}

export interface LogEntriesTable {
  org_id: number;
  idx: number;
  leaf_hash: Uint8Array;
  entry: string;
}

/** Every stored hash of the tree, indexed as golang.org/x/mod/sumdb/tlog's StoredHashIndex does. */
export interface LogHashesTable {
  org_id: number;
  hidx: number;
  hash: Uint8Array;
}

export interface LogHeadsTable {
  org_id: number;
  size: number;
  root: Uint8Array;
  updated_at: ColumnType<string, string, string>;
  /** The subject map's root after this head's entries (migration 0019); NULL until the map is built. */
  map_root: ColumnType<Uint8Array | null, Uint8Array | null | undefined, Uint8Array | null>;
}

/** The subject map's leaves: the latest log entry about each subject (migration 0019, store/log-map.ts). */
export interface LogMapMovesTable {
  org_id: number;
  entry_index: number;
  subject: string;
}

/** Projections of log entries: each row names the entry it came from (entry_index). */
export interface FlowsTable {
  id: Generated<number>;
  org_id: number;
  name: string;
  description: string;
  template: string | null;
  created_at: string;
  archived_at: string | null;
  entry_index: number;
  /** Canonical JSON object of the flow's tags, null for none (added by migration 0008). */
  tags: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface TrailsTable {
  id: Generated<number>;
  org_id: number;
  flow_id: number;
  name: string;
  description: string;
  git_commit: string | null;
  commit_url: string | null;
  origin_url: string | null;
  user_data: string | null;
  template: string | null;
  created_at: string;
  entry_index: number;
}

export interface ArtifactsTable {
  id: Generated<number>;
  org_id: number;
  flow_id: number;
  trail_id: number;
  fingerprint: string;
  name: string;
  display_name: string;
  git_commit: string | null;
  commit_url: string | null;
  build_url: string | null;
  annotations: string | null;
  /** When the commit was made (ISO 8601), for DORA lead time; migration 0011. */
  commit_time: string | null;
  created_at: string;
  entry_index: number;
}

export interface AttestationsTable {
  id: Generated<number>;
  org_id: number;
  flow_id: number;
  trail_id: number;
  name: string;
  type: string;
  /** Set when the attestation is about an artifact (bound now, or later for a pending artifact name). */
  artifact_fingerprint: string | null;
  /** `ARTIFACT-NAME` of `ARTIFACT-NAME.ATTESTATION-NAME` when reported before the artifact exists. */
  artifact_name: string | null;
  git_commit: string | null;
  compliant: number;
  summary: string | null;
  description: string;
  user_data: string | null;
  annotations: string | null;
  /** JSON list of EvidenceRef (added by migration 0005). */
  evidence: string | null;
  created_at: string;
  entry_index: number;
}

/** Custom attestation types: immutable versions of a JSON Schema plus jq rules. */
export interface AttestationTypesTable {
  id: Generated<number>;
  org_id: number;
  name: string;
  version: number;
  description: string;
  schema: string;
  rules: string;
  created_at: string;
  entry_index: number;
}

export interface EnvironmentsTable {
  id: Generated<number>;
  org_id: number;
  name: string;
  type: string;
  description: string;
  /** JSON list of environment names (logical environments only). */
  included: string | null;
  include_scaling: number;
  created_at: string;
  archived_at: string | null;
  entry_index: number;
}

export interface SnapshotsTable {
  id: Generated<number>;
  org_id: number;
  env_id: number;
  idx: number;
  created_at: string;
  entry_index: number;
}

/** One running artifact of one snapshot; `since_idx` is the snapshot where its current run began. */
export interface SnapshotArtifactsTable {
  snapshot_id: number;
  org_id: number;
  env_id: number;
  idx: number;
  fingerprint: string;
  name: string;
  instances: number;
  since_idx: number;
}

/**
 * Each flow's latest deployment per environment: the last snapshot where a run of one of the flow's
 * fingerprints began. An aggregate kept as snapshots and artifacts arrive (flow-deployments.ts), so `list
 * flows` reads a page's rows instead of joining every deployment of the org.
 */
export interface FlowDeploymentsTable {
  org_id: number;
  flow_id: number;
  env_id: number;
  idx: number;
  created_at: string;
}

/** "Artifact X is being deployed to environment E", numbered per environment. */
export interface ExpectationsTable {
  id: Generated<number>;
  org_id: number;
  env_id: number;
  number: number;
  fingerprint: string;
  description: string;
  created_at: string;
  entry_index: number;
}

/** Environment policies: immutable versions (migration 0009). */
export interface PoliciesTable {
  id: Generated<number>;
  org_id: number;
  name: string;
  version: number;
  description: string;
  /** JSON of the policy with its defaults filled in (PolicyDefinition). */
  definition: string;
  /** The YAML as given: what the digest covers. */
  source: string;
  digest: string;
  created_at: string;
  entry_index: number;
}

/** Attach and detach events, in order: the policies in force at snapshot N are replayed from them. */
export interface PolicyAttachmentsTable {
  id: Generated<number>;
  org_id: number;
  env_id: number;
  policy_name: string;
  policy_version: number | null;
  action: string;
  snapshot_idx: number;
  created_at: string;
  entry_index: number;
}

/** `allow artifact`: exemptions of a fingerprint in an environment. */
export interface AllowancesTable {
  id: Generated<number>;
  org_id: number;
  env_id: number;
  fingerprint: string;
  reason: string;
  created_by: string;
  created_at: string;
  entry_index: number;
}

/** Migration 0014: the flow.tagged entries of each flow (flow-tag-entries.ts). */
export interface FlowTagEntriesTable {
  org_id: number;
  flow_id: number;
  entry_index: number;
}

/** Migration 0021: the entries tagging each environment, control or repository (tag-entries.ts). */
export interface TagEntriesTable {
  org_id: number;
  kind: string;
  subject: string;
  entry_index: number;
}

/** Migration 0021: the entry that archived each custom attestation type (type-archives.ts). */
export interface AttestationTypeArchivesTable {
  org_id: number;
  name: string;
  entry_index: number;
}

export interface Database {
  flow_tag_entries: FlowTagEntriesTable;
  attestation_type_archives: AttestationTypeArchivesTable;
  tag_entries: TagEntriesTable;
  policies: PoliciesTable;
  policy_attachments: PolicyAttachmentsTable;
  allowances: AllowancesTable;
  expectations: ExpectationsTable;
  environments: EnvironmentsTable;
  snapshots: SnapshotsTable;
  snapshot_artifacts: SnapshotArtifactsTable;
  flow_deployments: FlowDeploymentsTable;
  attestation_types: AttestationTypesTable;
  flows: FlowsTable;
  trails: TrailsTable;
  artifacts: ArtifactsTable;
  attestations: AttestationsTable;
  orgs: OrgsTable;
  tokens: TokensTable;
  log_entries: LogEntriesTable;
  log_hashes: LogHashesTable;
  log_heads: LogHeadsTable;
  log_map_moves: LogMapMovesTable;
}

export type Engine = 'sqlite' | 'postgres';
