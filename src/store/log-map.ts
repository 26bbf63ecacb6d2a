import type { Kysely, Migration, Transaction } from 'kysely';
import { addForwardOnlyTriggers } from './append-only.js';
import type { Database, Engine } from './schema.js';
import type { MapLeafRow } from './types.js';

// The subject map's leaves (docs/log.md, "The subject map"): one row per subject, the index of the latest
// log entry about it. The map's interior hashes are recomputed from these rows by the log service and
// checked against the map root committed in log_heads (and signed in each checkpoint), so an edited row
// makes the next append refuse, and cannot make a proof verify against a signed root.

type Db = Kysely<Database> | Transaction<Database>;

const CHUNK = 500;

/** 0019: the leaves, forward-only (a subject's latest entry only moves forward), and the map root of each head. */
export function logMapMigration(engine: Engine): Migration {
  const t = engine === 'sqlite' ? { big: 'integer', bytes: 'blob' } as const : { big: 'bigint', bytes: 'bytea' } as const;
  return {
    async up(db) {
      await db.schema
        .createTable('log_map_leaves')
        .addColumn('org_id', 'integer', (c) => c.notNull().references('orgs.id'))
        .addColumn('key_hash', t.bytes, (c) => c.notNull())
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('entry_index', t.big, (c) => c.notNull())
        .addPrimaryKeyConstraint('log_map_leaves_pk', ['org_id', 'key_hash'])
        .execute();
      // Refreshing a cached map reads only the leaves moved since the size it was built at.
      await db.schema.createIndex('log_map_leaves_moved').on('log_map_leaves').columns(['org_id', 'entry_index']).execute();
      await addForwardOnlyTriggers(db, engine, ['log_map_leaves']);
      // NULL: the map has not been built for this log yet (a log from before 0019; see LogMap.refresh).
      await db.schema.alterTable('log_heads').addColumn('map_root', t.bytes).execute();
    },
  };
}

/** The leaves whose latest entry is at `from` or later (all of them with from = 0). */
export async function readMapLeavesIn(db: Db, orgId: number, from: number): Promise<MapLeafRow[]> {
  const rows = await db
    .selectFrom('log_map_leaves')
    .select(['key_hash', 'subject', 'entry_index'])
    .where('org_id', '=', orgId)
    .where('entry_index', '>=', from)
    .execute();
  return rows.map((r) => ({ key: new Uint8Array(r.key_hash), subject: r.subject, index: Number(r.entry_index) }));
}

/** Inserts or moves forward each leaf (one row per subject). */
export async function writeMapLeaves(tx: Db, orgId: number, leaves: readonly MapLeafRow[]): Promise<void> {
  for (let i = 0; i < leaves.length; i += CHUNK) {
    const rows = leaves.slice(i, i + CHUNK).map((l) => ({ org_id: orgId, key_hash: l.key, subject: l.subject, entry_index: l.index }));
    await tx
      .insertInto('log_map_leaves')
      .values(rows)
      .onConflict((oc) => oc.columns(['org_id', 'key_hash']).doUpdateSet((eb) => ({ entry_index: eb.ref('excluded.entry_index') })))
      .execute();
  }
}
