import type { Migration } from 'kysely';
import type { SqlStore } from './sql-store.js';

// The log key a database's checkpoints are signed with (migration 0016_hostile_log_key). Every server on a
// shared database must sign with one key (docs/server.md): two keys make clients that pinned one refuse the
// other's checkpoints half the time behind a load balancer, with a misleading "no signature by a known key"
// (reliability report F9). The first server to start records its key; the others compare theirs with it.

/** A type alias, not an interface: Kysely's withTables() needs an index-signature-compatible shape. */
export type LogKeyTables = {
  log_key: { id: number; verifier_key: string; recorded_at: string };
};

export function logKeyMigration(): Migration {
  return {
    async up(db) {
      await db.schema
        .createTable('log_key')
        .addColumn('id', 'integer', (c) => c.primaryKey())
        .addColumn('verifier_key', 'text', (c) => c.notNull())
        .addColumn('recorded_at', 'text', (c) => c.notNull())
        .execute();
    },
  };
}

export interface RecordedLogKey {
  /** The database's log key (this server's, unless another was recorded first). */
  key: string;
  /**
   * Recorded now for a database that already held log entries: one made before 0016 (or after
   * --replace-log-key). Nothing stored is signed by the server (checkpoints are signed when asked for), so
   * the database cannot tell whether this is the key its earlier checkpoints were signed with: the server
   * says so, and clients that remember a checkpoint catch a different key.
   */
  unchecked: boolean;
}

/**
 * Records `verifierKey` as the database's log key unless one is recorded already (`replace`: record it
 * anyway), and returns the recorded one. Safe when several servers start at once: one row, first wins.
 */
export async function recordLogKey(store: SqlStore, verifierKey: string, at: string, replace = false): Promise<RecordedLogKey> {
  return store.write(async (tx) => {
    const t = tx.withTables<LogKeyTables>();
    if (replace) {
      await t.deleteFrom('log_key').where('id', '=', 1).execute();
    }
    const inserted = await t.insertInto('log_key').values({ id: 1, verifier_key: verifierKey, recorded_at: at }).onConflict((oc) => oc.column('id').doNothing()).executeTakeFirst();
    const row = await t.selectFrom('log_key').select('verifier_key').where('id', '=', 1).executeTakeFirstOrThrow();
    const first = Number(inserted.numInsertedOrUpdatedRows ?? 0n) > 0;
    const held = first ? await tx.selectFrom('log_entries').select('org_id').limit(1).executeTakeFirst() : undefined;
    return { key: row.verifier_key, unchecked: held !== undefined };
  });
}
