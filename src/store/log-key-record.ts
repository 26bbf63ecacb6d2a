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

/**
 * Records `verifierKey` as the database's log key unless one is recorded already (`replace`: record it
 * anyway), and returns the recorded one. Safe when several servers start at once: one row, first wins.
 */
export async function recordLogKey(store: SqlStore, verifierKey: string, at: string, replace = false): Promise<string> {
  return store.write(async (tx) => {
    const t = tx.withTables<LogKeyTables>();
    if (replace) {
      await t.deleteFrom('log_key').where('id', '=', 1).execute();
    }
    await t.insertInto('log_key').values({ id: 1, verifier_key: verifierKey, recorded_at: at }).onConflict((oc) => oc.column('id').doNothing()).execute();
    const row = await t.selectFrom('log_key').select('verifier_key').where('id', '=', 1).executeTakeFirstOrThrow();
    return row.verifier_key;
  });
}
