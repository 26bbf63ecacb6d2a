export { openStore, SqlStore } from './sql-store.js';
export { StatisticsKeeper } from './statistics.js';
export { decodeCursor, encodeCursor, translateDbError } from './cursor.js';
export { DeferredRowsRefused } from './log-append-pg.js';
export type { ConnectOptions } from './connect.js';
export type { Engine, Database } from './schema.js';
export type {
  Store, OrgStore, TokenStore, LogStore, OrgRecord, TokenRecord, NewToken, Page, LogHead, StoredEntry, AppendBatch, AppendContext, AppendOptions, MapLeafRow, MapLeavesPage,
} from './types.js';
export type { Deployment, DeploymentWitness, ArtifactPlaces } from './types.js';
export type { TagKind } from './tag-entries.js';
export type { FlowRecord, TrailRecord, ArtifactRecord, AttestationRecord, AttestationTypeRecord, EvidenceRef, RecordWriter, RecordReader } from './types.js';
export { FilesystemBlobStore } from './blob-fs.js';
export type { CacheEntryRecord, CacheEntryStore } from './cache-entries.js';
export type { WebSessionRecord, WebSessionStore } from './web-sessions.js';
export { DatabaseBlobStore, SqlOrgBlobStore, BLOB_CHUNK_BYTES } from './blob-sql.js';
export type { BlobStore, BlobStoreKind, BlobStoreOptions, BlobLimits, BlobInfo, BlobRead, PutResult, OrgBlobStore, OrgBlobRecord } from './blob-types.js';
export type { EnvironmentRecord, ExpectationRecord, SnapshotRecord, SnapshotState, RunningArtifact, RunStart, Appearance, EnvironmentWriter, EnvironmentReader } from './types.js';
export type { PolicyRecord, PolicyAttachmentRecord, AllowanceRecord, PolicyReader, PolicyWriter, FactSources } from './types.js';
export { recordLogKey } from './log-key-record.js';
export { backupSqlite, type SqliteBackup } from './backup.js';
export { WitnessStore } from './witness-store.js';
export type { WitnessedCheckpoint, CompareAndSet } from './witness-store.js';
