export { openStore, SqlStore } from './sql-store.js';
export { translateDbError } from './cursor.js';
export type { ConnectOptions } from './connect.js';
export type { Engine, Database } from './schema.js';
export type {
  Store, OrgStore, TokenStore, LogStore, OrgRecord, TokenRecord, NewToken, Page, LogHead, StoredEntry, AppendBatch, AppendContext,
} from './types.js';
export type { FlowRecord, TrailRecord, ArtifactRecord, AttestationRecord, AttestationTypeRecord, RecordWriter, RecordReader } from './types.js';
