import type { Kysely, Migration } from 'kysely';
import type { Database, Engine } from './schema.js';
import type { Writer } from './blob-sql.js';

// Remote cache entries (migration 0010_cache_entries, docs/cache.md "The remote cache"). Not log entries:
// the cache is a shared speed-up, not a record, so rows here are plain, replaceable data. One row per
// (org, cache key, producer key id), first writer wins for that pair.

/** A type alias, not an interface: Kysely's withTables() needs an index-signature-compatible shape. */
export type CacheTables = {
  cache_entries: { org_id: number; cache_key: string; key_id: string; step: string; entry: string; size: number; created_at: string };
};

export interface CacheEntryRecord {
  orgId: number;
  cacheKey: string;
  keyId: string;
  step: string;
  /** The signed entry, JSON, as uploaded. */
  entry: string;
  createdAt: string;
}

export interface CacheEntryStore {
  /** Stores the entry unless one with the same key and producer exists; returns the stored row and whether it is new. */
  put(row: CacheEntryRecord): Promise<{ row: CacheEntryRecord; created: boolean }>;
  /** The entries of one cache key, oldest first, at most `limit`; with `keyIds`, only those producers'. */
  list(orgId: number, cacheKey: string, limit: number, keyIds?: readonly string[]): Promise<CacheEntryRecord[]>;
}

function fromRow(r: CacheTables['cache_entries']): CacheEntryRecord {
  return { orgId: r.org_id, cacheKey: r.cache_key, keyId: r.key_id, step: r.step, entry: r.entry, createdAt: r.created_at };
}

export class SqlCacheEntryStore implements CacheEntryStore {
  constructor(private readonly db: Kysely<Database>, private readonly write: Writer) {}

  async put(row: CacheEntryRecord): Promise<{ row: CacheEntryRecord; created: boolean }> {
    return this.write(async (tx) => {
      const t = tx.withTables<CacheTables>();
      const inserted = await t
        .insertInto('cache_entries')
        .values({ org_id: row.orgId, cache_key: row.cacheKey, key_id: row.keyId, step: row.step, entry: row.entry, size: row.entry.length, created_at: row.createdAt })
        .onConflict((oc) => oc.columns(['org_id', 'cache_key', 'key_id']).doNothing())
        .executeTakeFirst();
      if (Number(inserted.numInsertedOrUpdatedRows ?? 0) > 0) return { row, created: true };
      const existing = await t
        .selectFrom('cache_entries')
        .selectAll()
        .where('org_id', '=', row.orgId)
        .where('cache_key', '=', row.cacheKey)
        .where('key_id', '=', row.keyId)
        .executeTakeFirstOrThrow();
      return { row: fromRow(existing), created: false };
    });
  }

  async list(orgId: number, cacheKey: string, limit: number, keyIds?: readonly string[]): Promise<CacheEntryRecord[]> {
    if (keyIds && keyIds.length === 0) return [];
    let query = this.db
      .withTables<CacheTables>()
      .selectFrom('cache_entries')
      .selectAll()
      .where('org_id', '=', orgId)
      .where('cache_key', '=', cacheKey);
    if (keyIds) query = query.where('key_id', 'in', [...keyIds]);
    const rows = await query
      .orderBy('created_at')
      .orderBy('key_id')
      .limit(limit)
      .execute();
    return rows.map(fromRow);
  }
}

/** Migration 0010_cache_entries. Deliberately not append-only (unlike the log and the vault). */
export function cacheEntriesMigration(engine: Engine): Migration {
  const big = engine === 'sqlite' ? 'integer' : 'bigint';
  return {
    async up(db) {
      await db.schema
        .createTable('cache_entries')
        .addColumn('org_id', 'integer', (c) => c.notNull().references('orgs.id'))
        .addColumn('cache_key', 'text', (c) => c.notNull())
        .addColumn('key_id', 'text', (c) => c.notNull())
        .addColumn('step', 'text', (c) => c.notNull())
        .addColumn('entry', 'text', (c) => c.notNull())
        .addColumn('size', big, (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('cache_entries_pk', ['org_id', 'cache_key', 'key_id'])
        .execute();
    },
  };
}

/**
 * Migration 0015_cache_entries_per_signer: from now on the server stores only entries whose signature
 * verifies against the key id they claim (services/cache.ts). Rows stored before may be forgeries that
 * occupy a genuine producer's (cache key, key id) slot for good, and SQL cannot check an Ed25519
 * signature: they are dropped. The cache is a speed-up, not a record; the cost is one rebuild per key.
 */
export function cacheEntriesPerSignerMigration(): Migration {
  return {
    async up(db) {
      await db.deleteFrom('cache_entries' as never).execute();
    },
  };
}
