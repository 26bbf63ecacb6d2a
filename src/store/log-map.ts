import { sql, type Kysely, type Migration, type Transaction } from 'kysely';
import { addForwardOnlyTriggers } from './append-only.js';
import type { Database, Engine } from './schema.js';
import type { MapLeafRow, MapLeavesPage } from './types.js';

// The subject map's leaves (docs/log.md, "The subject map"): per subject, the index of the latest log entry
// about it (a row per write of a subject's leaf, the highest one standing). The map's interior hashes are recomputed from these rows by the log service and
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

/**
 * 0028: the leaves written in log order. `log_map_leaves` was keyed by the SHA-256 of each subject, so every
 * leaf written went to a random place in its index: once the table outgrew a flush, each row dirtied a page of
 * its own, 20 µs a row at 60,000 subjects and 70–80 µs at 500,000 (docs/performance.md, issue #17).
 * `log_map_moves` is keyed by (org, entry index, subject): a flush appends its rows at the end of the index and
 * deletes the rows they supersede, whose indexes the writer knows. A subject's leaf is its row of highest
 * entry index; a superseded row left behind (another process flushed the subject first) only repeats an older,
 * true fact and is outweighed. Nothing here is trusted: the log service rebuilds the map from these rows and
 * checks it against the signed root, so a deleted, added or edited row is TAMPERED, as before. Rows are never
 * updated (a trigger refuses it); deletes are the writer's own superseding, so no trigger can tell them from an
 * attacker's: the root check does.
 */
export function logMapMovesMigration(engine: Engine): Migration {
  const big = engine === 'sqlite' ? 'integer' : 'bigint';
  return {
    async up(db) {
      let table = db.schema
        .createTable('log_map_moves')
        .addColumn('org_id', 'integer', (c) => c.notNull().references('orgs.id'))
        .addColumn('entry_index', big, (c) => c.notNull())
        .addColumn('subject', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('log_map_moves_pk', ['org_id', 'entry_index', 'subject']);
      // The primary key is the table on SQLite: one B-tree, appended to, instead of a rowid table and an index.
      if (engine === 'sqlite') table = table.modifyEnd(sql`WITHOUT ROWID`);
      await table.execute();
      await sql`INSERT INTO log_map_moves (org_id, entry_index, subject) SELECT org_id, entry_index, subject FROM log_map_leaves ORDER BY org_id, entry_index`.execute(db);
      await db.schema.dropTable('log_map_leaves').execute();
      if (engine === 'sqlite') {
        await sql`CREATE TRIGGER log_map_moves_no_update BEFORE UPDATE ON log_map_moves BEGIN SELECT RAISE(ABORT, 'log_map_moves rows are never updated'); END`.execute(db);
      } else {
        await sql`CREATE TRIGGER log_map_moves_no_update BEFORE UPDATE ON log_map_moves FOR EACH ROW EXECUTE FUNCTION evident_append_only()`.execute(db);
      }
    },
  };
}

const NO_KEY = new Uint8Array(0);

/**
 * The leaves moved at `from` or later (all of them with from = 0), in log order, without keys (each row's
 * key is empty: the map thread derives keys from subject texts). A subject may come more than once (a
 * superseded row not deleted yet): its last row is its leaf, as a map update keeps a key's last index.
 */
export async function readMapLeavesIn(db: Db, orgId: number, from: number, page?: MapLeavesPage): Promise<MapLeafRow[]> {
  let q = db
    .selectFrom('log_map_moves')
    .select(['subject', 'entry_index'])
    .where('org_id', '=', orgId)
    .where('entry_index', '>=', from);
  // The primary key's order: a page goes on from the last row of the one before by a range of the key.
  if (page?.after) {
    const { index, subject } = page.after;
    q = q.where(({ eb, refTuple, tuple }) => eb(refTuple('entry_index', 'subject'), '>', tuple(index, subject)));
  }
  q = q.orderBy('entry_index').orderBy('subject');
  if (page) q = q.limit(page.limit);
  const rows = await q.execute();
  return rows.map((r) => ({ key: NO_KEY, subject: r.subject, index: Number(r.entry_index) }));
}

/**
 * The entry index of the latest leaf written (null: none). The table lags the log by design (the writer
 * writes leaves every few thousand moves, services/log-map.ts): every subject moved at or after this index
 * + 1 is found from the entries themselves.
 */
export async function lastMapLeafIndexIn(db: Db, orgId: number): Promise<number | null> {
  const row = await db.selectFrom('log_map_moves').select((eb) => eb.fn.max('entry_index').as('last')).where('org_id', '=', orgId).executeTakeFirst();
  return row?.last === null || row?.last === undefined ? null : Number(row.last);
}

/** The rows a flush deletes: each leaf's row it supersedes, where the writer knows it (`written`). */
export function supersededOf(leaves: readonly MapLeafRow[]): { subject: string; index: number }[] {
  const out: { subject: string; index: number }[] = [];
  for (const l of leaves) if (l.written !== undefined && l.written < l.index) out.push({ subject: l.subject, index: l.written });
  return out;
}

/**
 * Appends each leaf and deletes the rows it supersedes, in one statement each per CHUNK whatever the engine:
 * the rows go in as one JSON text (SQLite's json_each) or arrays (PostgreSQL's unnest) instead of bound
 * parameters per row, because building and binding a ~300-row VALUES list was most of the cost of this write
 * on the single writer (docs/performance.md, issue #17). PostgreSQL's append path writes leaves in its
 * batch statement instead (log-append-pg.ts).
 */
export async function writeMapLeaves(tx: Db, engine: Engine, orgId: number, leaves: readonly MapLeafRow[]): Promise<void> {
  const gone = supersededOf(leaves);
  for (let i = 0; i < gone.length; i += CHUNK) {
    const chunk = gone.slice(i, i + CHUNK);
    if (engine === 'sqlite') {
      await sql`DELETE FROM log_map_moves WHERE org_id = ${orgId} AND (entry_index, subject) IN
        (SELECT value ->> 1, value ->> 0 FROM json_each(${JSON.stringify(chunk.map((g) => [g.subject, g.index]))}))`.execute(tx);
    } else {
      await sql`DELETE FROM log_map_moves WHERE org_id = ${orgId} AND (entry_index, subject) IN
        (SELECT * FROM unnest(${chunk.map((g) => g.index)}::bigint[], ${chunk.map((g) => g.subject)}::text[]))`.execute(tx);
    }
  }
  for (let i = 0; i < leaves.length; i += CHUNK) {
    const chunk = leaves.slice(i, i + CHUNK);
    if (engine === 'sqlite') {
      await sql`INSERT INTO log_map_moves (org_id, entry_index, subject)
        SELECT ${orgId}, value ->> 1, value ->> 0 FROM json_each(${JSON.stringify(chunk.map((l) => [l.subject, l.index]))}) WHERE true
        ON CONFLICT DO NOTHING`.execute(tx);
    } else {
      await sql`INSERT INTO log_map_moves (org_id, entry_index, subject)
        SELECT ${orgId}, * FROM unnest(${chunk.map((l) => l.index)}::bigint[], ${chunk.map((l) => l.subject)}::text[])
        ON CONFLICT DO NOTHING`.execute(tx);
    }
  }
}
