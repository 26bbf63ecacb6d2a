import type { TagKind } from './tag-entries.js';
import type { WebSessionStore } from './web-sessions.js';
import type { Engine } from './schema.js';
import type { BlobStore, OrgBlobStore } from './blob-types.js';
import type { CacheEntryStore } from './cache-entries.js';

export interface OrgRecord {
  id: number;
  name: string;
  createdAt: string;
}

export interface TokenRecord {
  id: string;
  orgId: number;
  orgName: string;
  name: string;
  role: string;
  createdAt: string;
  createdBy: string | null;
  expiresAt: string | null;
  revokedAt: string | null;
}

export interface NewToken {
  id: string;
  orgId: number;
  name: string;
  role: string;
  secretHash: string;
  createdAt: string;
  createdBy: string | null;
  expiresAt: string | null;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface LogHead {
  size: number;
  root: Uint8Array;
  /** The subject map's root committed with this head; null before the map was built (a log from before 0019). */
  mapRoot: Uint8Array | null;
}

/** One leaf of the subject map: the latest entry about a subject (docs/log.md, "The subject map"). */
/** A page of the subject map's leaves: the first `limit` rows after `after` (none: from the first). */
export interface MapLeavesPage {
  after?: { index: number; subject: string };
  limit: number;
}

export interface MapLeafRow {
  /** SHA-256 of the subject key text (empty when not known yet: the map thread derives it). */
  key: Uint8Array;
  subject: string;
  index: number;
  /** The entry index of the subject's row in the leaves table that this leaf supersedes, where known. */
  written?: number;
}

export interface StoredEntry {
  index: number;
  leafHash: Uint8Array;
  entry: string;
}

export interface MapAfterBatch {
  root: Uint8Array;
  leaves: MapLeafRow[];
}

/** What one append transaction writes, computed by the caller from the head it was given. */
export interface AppendOptions {
  /** About how many entries the batch carries (sizes the first run of reserved attestation ids). */
  expected?: number;
  /**
   * How many entries of the batch are attestations (each projects one attestation row): PostgreSQL takes
   * that many ids from the sequence in the round trip that opens the transaction, not in one of its own.
   * A hint only: fewer or more rows than this are still given ids.
   */
  attestations?: number;
  /**
   * Called once the batch's rows are all written and only COMMIT is left (PostgreSQL), so the next batch
   * can queue for the lock meanwhile; a failure after it is not a projection's (the batch is not written again).
   */
  written?: () => void;
}

export interface AppendBatch {
  entries: StoredEntry[];
  hashes: { index: number; hash: Uint8Array }[];
  root: Uint8Array;
  /** When the batch was sequenced (taken under the lock); else the `at` given to append. */
  time?: string;
  /**
   * The subject map after the batch: its new root and the leaves the batch moved. A promise is awaited
   * after the entries and hashes are inserted (the map is hashed in another thread meanwhile).
   */
  map?: MapAfterBatch | Promise<MapAfterBatch>;
  /**
   * Takes the map thread's answer now if it has been sent, rather than at the event loop's next turn: called
   * right before `map` is awaited (map-thread.ts, `poll`).
   */
  pollMap?: () => void;
}

/** Reads inside the append transaction, under the org's log lock. */
export interface AppendContext {
  readHashes(indexes: readonly number[]): Promise<Map<number, Uint8Array>>;
  /** The subject map's leaves whose latest entry is at `from` or later, read in the transaction. */
  /** `keys` false: the rows without their key hashes (key empty), for a caller that derives them. */
  readMapLeaves(from: number): Promise<MapLeafRow[]>;
  /** The entry index of the latest leaf written (null: none), read in the transaction. */
  lastMapLeafIndex(): Promise<number | null>;
  /** Entries at these indexes, read in the transaction (absent ones are left out). */
  entriesAt(indexes: readonly number[]): Promise<StoredEntry[]>;
  /**
   * Projection writes in the transaction itself: a failure aborts the whole batch. Some rows may be
   * written later than the call that made them (PostgreSQL: attestations, in one multi-row INSERT per
   * batch instead of a round trip each); `settle()` writes them.
   */
  records: RecordWriter;
  /** Writes the rows projections deferred; a failure here is a projection's failure (the batch is then written again, entry by entry). */
  settle(): Promise<void>;
  /**
   * Runs one entry's projection writes under a savepoint: if they fail, only they are undone and the
   * rest of the batch goes on.
   */
  attempt<T>(work: (records: RecordWriter) => Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: unknown }>;
}

export interface OrgStore {
  create(name: string, at: string): Promise<OrgRecord>;
  get(name: string): Promise<OrgRecord | undefined>;
  list(): Promise<OrgRecord[]>;
}

export interface TokenStore {
  create(token: NewToken): Promise<TokenRecord>;
  findBySecretHash(secretHash: string): Promise<TokenRecord | undefined>;
  list(orgId: number, cursor: string | null, limit: number): Promise<Page<TokenRecord>>;
  /** Sets revoked_at once; returns the token as it now is, or undefined when it is not in this org. */
  revoke(orgId: number, id: string, at: string): Promise<TokenRecord | undefined>;
}

export interface LogStore {
  head(orgId: number): Promise<LogHead>;
  /**
   * One all-or-nothing write transaction holding the org's log lock (a row lock on PostgreSQL, the
   * database write lock on SQLite): `build` sees the committed head and returns the rows to add.
   */
  append(orgId: number, build: (head: LogHead, ctx: AppendContext) => Promise<AppendBatch> | AppendBatch, at: string, options?: AppendOptions): Promise<LogHead>;
  /**
   * Stored hashes by tlog index, and every stored hash in each inclusive range of `ranges` (a range is one
   * index scan where a list of its indexes would be one probe each), in one statement where they fit.
   */
  readHashes(orgId: number, indexes: readonly number[], ranges?: readonly (readonly [number, number])[]): Promise<Map<number, Uint8Array>>;
  /** Entries with start <= index < end, ascending. */
  entries(orgId: number, start: number, end: number): Promise<StoredEntry[]>;
  /** The UTF-8 bytes of the entries with start <= index < end, ascending (entry bundles: no string round trip). */
  entryBytes(orgId: number, start: number, end: number): Promise<Uint8Array[]>;
  /**
   * The entries with start <= index < end framed as one C2SP entry bundle (a uint16 length before each), built
   * by the database where it can (SQLite); with how many entries it holds and the longest one's length. When
   * `longest` exceeds a uint16, `bytes` is not a bundle (the caller refuses it: log/entries serves those).
   */
  entryBundle(orgId: number, start: number, end: number): Promise<{ count: number; longest: number; bytes: Uint8Array }>;
  indexOfLeaf(orgId: number, leafHash: Uint8Array): Promise<number | undefined>;
  /** The entries at these indexes (absent ones are left out), in any order: a few queries whatever the count. */
  entriesAt(orgId: number, indexes: readonly number[]): Promise<StoredEntry[]>;
  /**
   * The subject map's leaves whose latest entry is at `from` or later, in (entry index, subject) order; with
   * `page`, at most `limit` of them, after the row `after` (a fresh process's load reads the table a page at a time).
   */
  mapLeaves(orgId: number, from: number, page?: MapLeavesPage): Promise<MapLeafRow[]>;
  /** The entry index of the latest leaf written (null: none): the leaves lag the log (services/log-map.ts). */
  lastMapLeafIndex(orgId: number): Promise<number | null>;
  /** The newest cosigned checkpoint recorded for the org (unverified: a hint the witness submitter checks). */
  cosigned(orgId: number): Promise<{ size: number; note: string } | undefined>;
  /** Records the org's cosigned checkpoint note, unless one of a larger size is recorded. */
  saveCosigned(orgId: number, size: number, note: string, at: string): Promise<void>;
}

export interface Store {
  readonly engine: Engine;
  readonly records: RecordReader;
  readonly environments: EnvironmentReader;
  readonly policies: PolicyReader;
  readonly orgs: OrgStore;
  readonly tokens: TokenStore;
  /** The web UI's sign-in sessions (web-sessions.ts). */
  readonly webSessions: WebSessionStore;
  readonly log: LogStore;
  /** Evidence bytes, content-addressed (filesystem or database). */
  readonly blobs: BlobStore;
  /** Which org may read which blob. */
  readonly orgBlobs: OrgBlobStore;
  /** Remote cache entries (not records: see cache-entries.ts). */
  readonly cacheEntries: CacheEntryStore;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface FlowRecord {
  id: number;
  orgId: number;
  name: string;
  description: string;
  template: string | null;
  createdAt: string;
  archivedAt: string | null;
  entryIndex: number;
  /** Key/value labels (`evident tag flow`), read by policy conditions as `flow.tags.<key>`. */
  tags: Record<string, string>;
}

export interface TrailRecord {
  id: number;
  orgId: number;
  flowId: number;
  name: string;
  description: string;
  gitCommit: string | null;
  commitUrl: string | null;
  originUrl: string | null;
  userData: unknown;
  template: string | null;
  createdAt: string;
  entryIndex: number;
}

export interface ArtifactRecord {
  id: number;
  orgId: number;
  flowId: number;
  trailId: number;
  fingerprint: string;
  name: string;
  displayName: string;
  gitCommit: string | null;
  commitUrl: string | null;
  buildUrl: string | null;
  annotations: Record<string, string> | null;
  /** When its commit was made (ISO 8601 UTC), if reported: the start of DORA lead time. */
  commitTime: string | null;
  createdAt: string;
  entryIndex: number;
}

/** An evidence file an attestation commits to, by SHA-256 digest. */
export interface EvidenceRef {
  digest: string;
  name: string | null;
  size: number;
}

export interface AttestationRecord {
  id: number;
  orgId: number;
  flowId: number;
  trailId: number;
  name: string;
  type: string;
  artifactFingerprint: string | null;
  artifactName: string | null;
  gitCommit: string | null;
  compliant: boolean;
  summary: unknown;
  description: string;
  userData: unknown;
  annotations: Record<string, string> | null;
  evidence: EvidenceRef[];
  createdAt: string;
  entryIndex: number;
}

export interface AttestationTypeRecord {
  id: number;
  orgId: number;
  name: string;
  version: number;
  description: string;
  schema: unknown;
  rules: string[];
  createdAt: string;
  entryIndex: number;
}

type NewRow<T> = Omit<T, 'id'>;

/** Writes of record projections, inside the append transaction that logs them. */
export interface RecordWriter {
  readonly environments: EnvironmentWriter;
  readonly policies: PolicyWriter;
  flow(orgId: number, name: string): Promise<FlowRecord | undefined>;
  trail(flowId: number, name: string): Promise<TrailRecord | undefined>;
  /** A new flow has no tags unless given. */
  insertFlow(row: Omit<NewRow<FlowRecord>, 'tags'> & { tags?: Record<string, string> }): Promise<FlowRecord>;
  /**
   * Updates of a flow row: each is made by a newer log entry, whose index the row takes (the row moves forward
   * only with the log: migration 0014 refuses an UPDATE that does not increase entry_index).
   */
  archiveFlow(flowId: number, at: string, entryIndex: number): Promise<void>;
  /** Replaces the flow's tags (the service merged --set/--unset into the full map). */
  setFlowTags(flowId: number, tags: Record<string, string>, entryIndex: number): Promise<void>;
  /** Records that log entry `entryIndex` tagged an environment, control or repository (migration 0021). */
  insertTagEntry(orgId: number, kind: TagKind, subject: string, entryIndex: number): Promise<void>;
  /** Records that log entry `entryIndex` archived the custom attestation type `name` (migration 0021). */
  insertTypeArchive(orgId: number, name: string, entryIndex: number): Promise<void>;
  insertTrail(row: NewRow<TrailRecord>): Promise<TrailRecord>;
  /**
   * Create-or-update (Kosli's `create flow`/`begin trail` run again): the row takes the changed fields and the
   * index of the log entry that records the change, which is always a new, larger index than the row's.
   */
  updateFlow(flowId: number, change: Pick<FlowRecord, 'description' | 'template'>, entryIndex: number): Promise<FlowRecord>;
  updateTrail(trailId: number, change: Pick<TrailRecord, 'description' | 'gitCommit' | 'commitUrl' | 'originUrl' | 'userData' | 'template'>, entryIndex: number): Promise<TrailRecord>;
  insertArtifact(row: NewRow<ArtifactRecord>): Promise<ArtifactRecord>;
  insertAttestation(row: NewRow<AttestationRecord>): Promise<AttestationRecord>;
  /** The next version of a type: its number is decided here, under the log lock. */
  insertAttestationType(row: Omit<NewRow<AttestationTypeRecord>, 'version'>): Promise<AttestationTypeRecord>;
}

/** Reads of record projections. Lists are keyset-paginated by id. */
export interface RecordReader {
  flow(orgId: number, name: string): Promise<FlowRecord | undefined>;
  flows(orgId: number, cursor: string | null, limit: number, includeArchived: boolean): Promise<Page<FlowRecord>>;
  trail(flowId: number, name: string): Promise<TrailRecord | undefined>;
  trails(flowId: number, cursor: string | null, limit: number): Promise<Page<TrailRecord>>;
  artifactsByFingerprint(orgId: number, fingerprint: string): Promise<ArtifactRecord[]>;
  /** For each fingerprint, its latest report with its flow's name, in a few queries whatever the count. */
  latestReports(orgId: number, fingerprints: readonly string[]): Promise<Map<string, { artifact: ArtifactRecord; flow: string }>>;
  /**
   * The reports of log entries `from` ≤ index < `to`, by entry: what DORA's ledger re-attributes (issue #21).
   * `to` is a committed log size, so every report below it is visible (written with its entry).
   */
  reportsBetween(orgId: number, from: number, to: number): Promise<{ entryIndex: number; fingerprint: string; flow: string; gitCommit: string | null; commitTime: string | null }[]>;
  /** Distinct fingerprints starting with `prefix` (at most `limit`). */
  fingerprintsWithPrefix(orgId: number, prefix: string, limit: number): Promise<string[]>;
  /** Artifacts of a flow whose git commit starts with `gitCommit`. */
  artifactsByCommit(orgId: number, flowId: number, gitCommit: string): Promise<ArtifactRecord[]>;
  artifacts(orgId: number, filter: { flowId?: number; trailId?: number }, cursor: string | null, limit: number): Promise<Page<ArtifactRecord>>;
  attestationsOfTrail(trailId: number): Promise<AttestationRecord[]>;
  /** A trail's attestations with id above `afterId`, oldest first, at most `limit` (one descent of attestations_trail). */
  attestationsOfTrailAfter(trailId: number, afterId: number, limit: number): Promise<AttestationRecord[]>;
  /** Artifacts whose fingerprint or git commit starts with `prefix`, newest first. */
  searchArtifacts(orgId: number, prefix: string, limit: number): Promise<ArtifactRecord[]>;
  /** Attestations about an artifact: by fingerprint, or by its name in its trail (reported before it existed). */
  attestationsOfArtifact(artifact: ArtifactRecord): Promise<AttestationRecord[]>;
  /** Attestations in other trails (releases, promotions) that name this fingerprint, with the trail-level attestations of those trails, oldest first, at most `limit` trails. */
  attestationsAboutFingerprint(orgId: number, fingerprint: string, excludeTrailId: number, limit: number): Promise<AttestationRecord[]>;
  fingerprintsAttestedAs(orgId: number, fingerprints: readonly string[], type: string): Promise<Set<string>>;
  /** The attestations of `type` bound to these fingerprints (by fingerprint, in any trail), with their log entries. */
  attestedAs(orgId: number, fingerprints: readonly string[], type: string): Promise<{ fingerprint: string; entryIndex: number }[]>;
  flowById(id: number): Promise<FlowRecord | undefined>;
  /** A custom attestation type: the given version, or the latest. */
  attestationType(orgId: number, name: string, version?: number): Promise<AttestationTypeRecord | undefined>;
  attestationTypes(orgId: number): Promise<AttestationTypeRecord[]>;
  /** The flow, and its trail when it exists, in one query. */
  flowAndTrail(orgId: number, flowName: string, trailName: string): Promise<{ flow?: FlowRecord; trail?: TrailRecord }>;
  trailById(id: number): Promise<TrailRecord | undefined>;
  /** The names of these trails and of their flows, by trail id, in one query (absent ids are left out). */
  trailNames(trailIds: readonly number[]): Promise<Map<number, { flow: string; trail: string }>>;
  /** The `flow.tagged` log entries of each flow, in log order (never tagged: left out). */
  flowTagEntries(flowIds: readonly number[]): Promise<Map<number, number[]>>;
  /** The entries tagging each subject of a kind, in log order (never tagged: left out); every subject when none named. */
  tagEntries(orgId: number, kind: TagKind, subjects?: readonly string[]): Promise<Map<string, number[]>>;
  /** The entry that archived each archived custom attestation type, by name. */
  typeArchives(orgId: number): Promise<Map<string, number>>;
  /** Flows by name (absent names are left out), in one query. */
  flowsByName(orgId: number, names: readonly string[]): Promise<FlowRecord[]>;
  /** The latest trail (last begun) of each flow, by flow id. */
  latestTrails(flowIds: readonly number[]): Promise<Map<number, TrailRecord>>;
  /** Artifacts and attestations of many trails, each in recording order. */
  contentsOfTrails(trailIds: readonly number[]): Promise<{ artifacts: ArtifactRecord[]; attestations: AttestationRecord[] }>;
  /** For each flow, the latest snapshot in which one of its artifacts started running. */
  lastDeployments(orgId: number, flowIds: readonly number[]): Promise<Map<number, Deployment>>;
  /**
   * The log entries behind each given deployment (flow, environment, snapshot): for every fingerprint of the
   * flow whose run began in that snapshot, the snapshot's entry, the artifact's entry and the entry of the
   * snapshot before (null for the first). Unchecked rows: what the entries say is for the caller to check.
   */
  deploymentWitnesses(orgId: number, deployments: readonly { flowId: number; envId: number; snapshot: number }[]): Promise<DeploymentWitness[]>;
  /** Where each fingerprint runs now (with the snapshot its run began in) and where it stopped running. */
  placesOf(orgId: number, fingerprints: readonly string[]): Promise<Map<string, ArtifactPlaces>>;
}

/** A snapshot where an artifact started running. */
export interface Deployment {
  environment: string;
  envId: number;
  snapshot: number;
  at: string;
}

/** One fingerprint whose run began in a snapshot, with the entries that say so (deploymentWitnesses). */
export interface DeploymentWitness {
  flowId: number;
  envId: number;
  snapshot: number;
  fingerprint: string;
  snapshotEntry: number;
  artifactEntry: number;
  /** The entry of snapshot `snapshot - 1` of the environment; null when there is no such row. */
  previousEntry: number | null;
}

export interface ArtifactPlaces {
  /** `snapshot` is the environment's latest; `since` the snapshot where the current run began, at `sinceAt`. */
  running: { environment: string; snapshot: number; since: number; sinceAt: string; instances: number }[];
  /** Environments it ran in and no longer does: `snapshot` is the first without it, taken `at`. */
  exited: { environment: string; snapshot: number; at: string }[];
}

export interface EnvironmentRecord {
  id: number;
  orgId: number;
  name: string;
  type: string;
  description: string;
  /** Names of the environments a logical environment unites; null for the others. */
  included: string[] | null;
  includeScaling: boolean;
  createdAt: string;
  archivedAt: string | null;
  entryIndex: number;
}

export interface SnapshotRecord {
  id: number;
  envId: number;
  index: number;
  createdAt: string;
  entryIndex: number;
}

export interface RunningArtifact {
  fingerprint: string;
  name: string;
  instances: number;
  /** The snapshot index where this artifact's current run began. */
  sinceIndex: number;
}

/** One appearance of a fingerprint in a snapshot, for artifact histories. */
export interface Appearance {
  envName: string;
  envId: number;
  index: number;
  instances: number;
  createdAt: string;
  /** The snapshot's log entry. */
  entryIndex: number;
}

export interface ExpectationRecord {
  envName: string;
  number: number;
  fingerprint: string;
  description: string;
  createdAt: string;
  entryIndex: number;
}

export interface EnvironmentWriter {
  /** Deployment expectation N+1 of the environment, numbered under the log lock. */
  insertExpectation(orgId: number, envId: number, envName: string, fingerprint: string, description: string, at: string, entryIndex: number): Promise<ExpectationRecord>;
  insertEnvironment(row: Omit<EnvironmentRecord, 'id'>): Promise<EnvironmentRecord>;
  /** Create-or-update: the changed fields and the index of the log entry that records the change. */
  updateEnvironment(envId: number, change: Pick<EnvironmentRecord, 'description' | 'included' | 'includeScaling'>, entryIndex: number): Promise<EnvironmentRecord>;
  /** The latest snapshot and what ran in it, read under the log lock (so a report compares with the true latest). */
  latestState(envId: number): Promise<SnapshotState | undefined>;
  /** Snapshot N+1 of the environment, numbered under the log lock; `previous` is `latestState(envId)`. */
  insertSnapshot(orgId: number, envId: number, artifacts: { fingerprint: string; name: string; instances: number }[], at: string, entryIndex: number, previous: SnapshotState | undefined): Promise<SnapshotRecord>;
  /** The row takes the index of the `environment.archived` entry (it moves forward only with the log: migration 0014). */
  archiveEnvironment(envId: number, at: string, entryIndex: number): Promise<void>;
}

export interface SnapshotState {
  snapshot: SnapshotRecord;
  running: RunningArtifact[];
}

export interface EnvironmentReader {
  /** Deployment expectations of a fingerprint, or of an environment (newest last). */
  expectations(orgId: number, filter: { fingerprint?: string; envId?: number }): Promise<ExpectationRecord[]>;
  environment(orgId: number, name: string): Promise<EnvironmentRecord | undefined>;
  environments(orgId: number): Promise<EnvironmentRecord[]>;
  latestSnapshot(envId: number): Promise<SnapshotRecord | undefined>;
  snapshotByIndex(envId: number, index: number): Promise<SnapshotRecord | undefined>;
  /** The latest snapshot taken at or before `time` (ISO-8601). */
  snapshotAt(envId: number, time: string): Promise<SnapshotRecord | undefined>;
  /** Newest first. */
  snapshots(envId: number, cursor: string | null, limit: number): Promise<Page<SnapshotRecord>>;
  runningIn(snapshotId: number): Promise<RunningArtifact[]>;
  /** What ran in each of the given snapshots (a few queries for any number), each by name then fingerprint. */
  runningInSnapshots(snapshotIds: readonly number[]): Promise<Map<number, RunningArtifact[]>>;
  /** The time of each of the given snapshots of an environment, by index (one query). */
  snapshotTimes(envId: number, indexes: readonly number[]): Promise<Map<number, string>>;
  /** Every snapshot a fingerprint appears in, by environment then index. */
  appearances(orgId: number, fingerprint: string): Promise<Appearance[]>;
  /**
   * Where a run began in the environment (the fingerprint was not in the snapshot before) in snapshots taken
   * at `from` or later and before `to` (ISO-8601), by snapshot then fingerprint.
   */
  runStarts(envId: number, from: string, to: string): Promise<RunStart[]>;
  /**
   * The run starts of the snapshots after index `after`, at most `maxSnapshots` of them, in index order (then
   * fingerprint): DORA's ledger extended by snapshot index (issue #21). `through` is the last index read of
   * an unbroken run after `after` (a missing index stops the read there), `after` when there is none.
   */
  runStartsAfter(envId: number, after: number, maxSnapshots: number): Promise<{ starts: RunStart[]; through: number }>;
}

export interface RunStart {
  /** The snapshot where the run began. */
  index: number;
  createdAt: string;
  /** The log entry of that snapshot: what was recorded up to it is what the deployment was judged on. */
  entryIndex: number;
  fingerprint: string;
  name: string;
}

/** One immutable version of an environment policy. */
export interface PolicyRecord {
  id: number;
  orgId: number;
  name: string;
  version: number;
  description: string;
  /** The policy with its defaults filled in (formats' PolicyDefinition). */
  definition: unknown;
  source: string;
  /** `sha256:<hex>` of the source text. */
  digest: string;
  createdAt: string;
  entryIndex: number;
}

/** An attach or detach: in force from snapshot `snapshotIndex` of the environment on (0: from its first). */
export interface PolicyAttachmentRecord {
  envId: number;
  policyName: string;
  /** The version pinned by an attach; null for a detach. */
  policyVersion: number | null;
  action: 'attach' | 'detach';
  snapshotIndex: number;
  createdAt: string;
  entryIndex: number;
}

export interface AllowanceRecord {
  envId: number;
  fingerprint: string;
  reason: string;
  createdBy: string;
  createdAt: string;
  entryIndex: number;
}

/** Policy writes, under the log lock. */
export interface PolicyWriter {
  latestPolicy(orgId: number, name: string): Promise<PolicyRecord | undefined>;
  /** Version N+1 of the policy, numbered here. */
  insertPolicy(row: Omit<PolicyRecord, 'id' | 'version'>): Promise<PolicyRecord>;
  attachments(envId: number): Promise<PolicyAttachmentRecord[]>;
  insertAttachment(orgId: number, row: PolicyAttachmentRecord): Promise<void>;
  insertAllowance(orgId: number, row: AllowanceRecord): Promise<void>;
}

export interface PolicyReader {
  /** The given version, or the latest. */
  policy(orgId: number, name: string, version?: number): Promise<PolicyRecord | undefined>;
  /** Every version of every policy, by name then version. */
  policies(orgId: number): Promise<PolicyRecord[]>;
  /** Attach and detach events of an environment, oldest first. */
  attachments(envId: number): Promise<PolicyAttachmentRecord[]>;
  allowances(envId: number): Promise<AllowanceRecord[]>;
  /**
   * Everything compliance facts are made of for these fingerprints, in one round of queries made at once:
   * their latest reports, and the flows, trails, attestations and artifacts of every trail that reported them
   * (a superset of the latest reports' trails). With `flowId`, only reports into that flow count.
   */
  factSources(orgId: number, fingerprints: readonly string[], flowId?: number): Promise<FactSources>;
}

export interface FactSources {
  /** The latest report of each fingerprint. */
  reports: Map<string, { artifact: ArtifactRecord; flow: string }>;
  /** Every report of these fingerprints, oldest first (facts as of an earlier log entry take the latest one then). */
  reported: { artifact: ArtifactRecord; flow: string }[];
  flows: FlowRecord[];
  trails: TrailRecord[];
  attestations: AttestationRecord[];
  /** What the trails hold, each (trail, name, fingerprint) once, with the log entry that first reported it. */
  artifacts: { trailId: number; name: string; fingerprint: string; entryIndex: number }[];
}
