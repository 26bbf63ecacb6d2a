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
}

export interface Database {
  orgs: OrgsTable;
  tokens: TokensTable;
  log_entries: LogEntriesTable;
  log_hashes: LogHashesTable;
  log_heads: LogHeadsTable;
}

export type Engine = 'sqlite' | 'postgres';
