import { sql, type Kysely, type Migration, type Transaction } from 'kysely';
import { toHex } from '../core/index.js';
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

const NO_KEY = new Uint8Array(0);

/**
 * The leaves whose latest entry is at `from` or later (all of them with from = 0). `keys` false leaves the key
 * hashes out (each row's key is then empty): a process loading the whole table derives every key from its
 * subject text, and a blob column comes back as a Buffer per row with its own backing store, which at
 * hundreds of thousands of rows cost the load more in garbage collection than the read itself (issue #21).
 */
export async function readMapLeavesIn(db: Db, orgId: number, from: number, keys = true): Promise<MapLeafRow[]> {
  if (!keys) {
    const rows = await db.selectFrom('log_map_leaves').select(['subject', 'entry_index']).where('org_id', '=', orgId).where('entry_index', '>=', from).execute();
    return rows.map((r) => ({ key: NO_KEY, subject: r.subject, index: Number(r.entry_index) }));
  }
  const rows = await db
    .selectFrom('log_map_leaves')
    .select(['key_hash', 'subject', 'entry_index'])
    .where('org_id', '=', orgId)
    .where('entry_index', '>=', from)
    .execute();
  return rows.map((r) => ({ key: new Uint8Array(r.key_hash), subject: r.subject, index: Number(r.entry_index) }));
}

/**
 * The entry index of the latest leaf written (null: none). The table lags the log by design (the writer
 * writes leaves every few thousand moves, services/log-map.ts): every subject moved at or after this index
 * + 1 is found from the entries themselves.
 */
export async function lastMapLeafIndexIn(db: Db, orgId: number): Promise<number | null> {
  const row = await db.selectFrom('log_map_leaves').select((eb) => eb.fn.max('entry_index').as('last')).where('org_id', '=', orgId).executeTakeFirst();
  return row?.last === null || row?.last === undefined ? null : Number(row.last);
}

/**
 * Inserts or moves forward each leaf (one row per subject), in one statement per CHUNK whatever the engine:
 * the rows go in as one JSON text (SQLite's json_each) or three arrays (PostgreSQL's unnest) instead of four
 * bound parameters per row, because building and binding a ~300-row VALUES list was most of the cost of
 * this write on the single writer (docs/performance.md, issue #17).
 */
export async function writeMapLeaves(tx: Db, engine: Engine, orgId: number, leaves: readonly MapLeafRow[]): Promise<void> {
  for (let i = 0; i < leaves.length; i += CHUNK) {
    const chunk = leaves.slice(i, i + CHUNK);
    if (engine === 'sqlite') {
      // The keys as one blob, 32 bytes per leaf in order: json_each's `key` is the element's position.
      const keys = new Uint8Array(32 * chunk.length);
      chunk.forEach((l, j) => keys.set(l.key, 32 * j));
      const rows = JSON.stringify(chunk.map((l) => [l.subject, l.index]));
      await sql`INSERT INTO log_map_leaves (org_id, key_hash, subject, entry_index)
        SELECT ${orgId}, substr(${keys}, 32 * key + 1, 32), value ->> 0, value ->> 1 FROM json_each(${rows}) WHERE true
        ON CONFLICT (org_id, key_hash) DO UPDATE SET entry_index = excluded.entry_index`.execute(tx);
    } else {
      await sql`INSERT INTO log_map_leaves (org_id, key_hash, subject, entry_index)
        SELECT ${orgId}, decode(k, 'hex'), s, i FROM unnest(${chunk.map((l) => toHex(l.key))}::text[], ${chunk.map((l) => l.subject)}::text[], ${chunk.map((l) => l.index)}::bigint[]) AS t(k, s, i)
        ON CONFLICT (org_id, key_hash) DO UPDATE SET entry_index = excluded.entry_index`.execute(tx);
    }
  }
}
