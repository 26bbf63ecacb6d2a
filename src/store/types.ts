import type { Engine } from './schema.js';

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
}

export interface StoredEntry {
  index: number;
  leafHash: Uint8Array;
  entry: string;
}

/** What one append transaction writes, computed by the caller from the head it was given. */
export interface AppendBatch {
  entries: StoredEntry[];
  hashes: { index: number; hash: Uint8Array }[];
  root: Uint8Array;
}

/** Reads inside the append transaction, under the org's log lock. */
export interface AppendContext {
  readHashes(indexes: readonly number[]): Promise<Map<number, Uint8Array>>;
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
  append(orgId: number, build: (head: LogHead, ctx: AppendContext) => Promise<AppendBatch> | AppendBatch, at: string): Promise<LogHead>;
  readHashes(orgId: number, indexes: readonly number[]): Promise<Map<number, Uint8Array>>;
  /** Entries with start <= index < end, ascending. */
  entries(orgId: number, start: number, end: number): Promise<StoredEntry[]>;
  indexOfLeaf(orgId: number, leafHash: Uint8Array): Promise<number | undefined>;
}

export interface Store {
  readonly engine: Engine;
  readonly orgs: OrgStore;
  readonly tokens: TokenStore;
  readonly log: LogStore;
  ping(): Promise<void>;
  close(): Promise<void>;
}
