import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { EvidentError } from '../core/index.js';
import type { AttestationsTable, Database } from './schema.js';
import type { AppendBatch, AppendContext, AppendOptions, LogHead, MapLeafRow, StoredEntry } from './types.js';
import { lastMapLeafIndexIn, readMapLeavesIn, supersededOf } from './log-map.js';
import { SqlRecordWriter } from './records.js';
import { savepointAttempts } from './savepoints.js';
import { translateDbError } from './cursor.js';

// The PostgreSQL append path (issue #21, fifth round). Every statement is a round trip to the server, and
// on a loaded machine each costs a context switch to PostgreSQL and back (0.3–1 ms measured), more than the
// rows: the Kysely transaction took ten per batch (BEGIN, the head's row lock, ids, the attestation rows,
// entries, hashes, map leaves, the head, COMMIT). Here a batch takes three: BEGIN with the lock and the
// attestation ids (one simple query), the rows, and the head with COMMIT (one simple query); a batch that also
// writes map leaves (every few thousand moves) sends them as one more statement, queued behind the rows.

/**
 * The deferred attestation rows were refused when written with the batch (in its rows' statement): the
 * log service treats this as a projection's failure and writes the batch again, entry by entry, so only
 * the failing caller fails.
 */
export class DeferredRowsRefused extends EvidentError {
  constructor(cause: unknown) {
    super('INTERNAL', 'a projection row of the batch was refused', { cause });
  }
}

/** PostgreSQL's type of each attestation column, for unnest(); `satisfies` fails the build if a column is added and not listed. */
const ATTESTATION_COLUMNS = {
  id: 'int4', org_id: 'int4', flow_id: 'int4', trail_id: 'int4', name: 'text', type: 'text', artifact_fingerprint: 'text',
  artifact_name: 'text', git_commit: 'text', compliant: 'int4', summary: 'text', description: 'text', user_data: 'text',
  annotations: 'text', evidence: 'text', created_at: 'text', entry_index: 'int8',
} as const satisfies Record<keyof AttestationsTable, string>;
const ATTESTATION_NAMES = Object.keys(ATTESTATION_COLUMNS) as (keyof AttestationsTable)[];

/**
 * The batch's rows: what does not depend on the subject map (the deferred attestation rows, the entries and the
 * tree's new hashes). It is sent as soon as the batch is built, and PostgreSQL inserts them while the map thread
 * hashes the batch's map update; the head, which commits to the map root, goes once that root is known (issue #21,
 * thirteenth round: waiting for the root first cost ~2 ms a batch). Data-modifying CTEs all run to completion;
 * each text is fixed (arrays of any length), so each is prepared once per connection.
 */
const WRITE_ROWS = (() => {
  const n = ATTESTATION_NAMES.length;
  const a = ATTESTATION_NAMES.map((c, i) => `$${i + 1}::${ATTESTATION_COLUMNS[c]}[]`).join(', ');
  const p = (k: number) => `$${n + k}`;
  return `WITH a AS (INSERT INTO attestations (${ATTESTATION_NAMES.join(', ')}) SELECT * FROM unnest(${a})),
e AS (INSERT INTO log_entries (org_id, idx, leaf_hash, entry) SELECT ${p(1)}::int4, * FROM unnest(${p(2)}::int8[], ${p(3)}::bytea[], coalesce((string_to_array(${p(4)}::text, E'\\x1e'))[2:], ${p(7)}::text[])))
INSERT INTO log_hashes (org_id, hidx, hash) SELECT ${p(1)}::int4, * FROM unnest(${p(5)}::int8[], ${p(6)}::bytea[])`;
})();

/** When the batch writes map leaves: those moved, and those they supersede deleted. */
const WRITE_LEAVES = `WITH m AS (INSERT INTO log_map_moves (org_id, entry_index, subject) SELECT $1::int4, * FROM unnest($2::int8[], $3::text[]) ON CONFLICT DO NOTHING)
DELETE FROM log_map_moves WHERE org_id = $1::int4 AND (entry_index, subject) IN (SELECT * FROM unnest($4::int8[], $5::text[]))`;

/** Ids from the attestations' sequence, as SqlRecordWriter takes them (followed by the count's generate_series arguments). */
const NEXT_IDS = "SELECT nextval(pg_get_serial_sequence('attestations', 'id')) AS id FROM generate_series";

const { escapeLiteral } = pg;
const buf = (u: Uint8Array): Buffer => (Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength));

type Build = (head: LogHead, ctx: AppendContext) => Promise<AppendBatch> | AppendBatch;

export class PgLogAppender {
  /** A Kysely bound to each pooled connection, for the projections and reads inside the append transaction. */
  private readonly bound = new WeakMap<pg.PoolClient, Kysely<Database>>();

  constructor(private readonly pool: pg.Pool) {}

  private kyselyOn(client: pg.PoolClient): Kysely<Database> {
    let db = this.bound.get(client);
    if (!db) {
      // Kysely asks its pool for a connection per query and releases it after: here always this one, never released.
      const conn = { query: client.query.bind(client), release: () => undefined } as unknown as pg.PoolClient;
      db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: { connect: async () => conn, end: async () => undefined } as unknown as pg.Pool }) });
      this.bound.set(client, db);
    }
    return db;
  }

  /** One all-or-nothing append transaction under the org's log_heads row lock. */
  async append(orgId: number, build: Build, at: string, options: AppendOptions): Promise<{ before: number; after: LogHead }> {
    if (!Number.isSafeInteger(orgId)) throw new EvidentError('INVALID_ARGUMENT', `invalid organisation id ${orgId}`);
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      try {
        return await this.transaction(client, orgId, build, at, options);
      } catch (err) {
        // Also after a failed BEGIN-and-lock: the transaction may be open and aborted.
        await client.query('ROLLBACK').catch((e: Error) => (broken = e));
        throw err;
      }
    } finally {
      client.release(broken);
    }
  }

  private async transaction(client: pg.PoolClient, orgId: number, build: Build, at: string, options: AppendOptions): Promise<{ before: number; after: LogHead }> {
    // One round trip: a simple query may carry several statements (orgId and the id count are checked integers,
    // no parameter needed). The attestation ids are taken after the lock, so they still grow in log order.
    const ids = Math.min(256, Math.max(0, Math.floor(options.attestations ?? 0)));
    const opened = (await client.query(`BEGIN; SELECT size, root, map_root FROM log_heads WHERE org_id = ${orgId} FOR UPDATE${ids > 0 ? `; ${NEXT_IDS}(1, ${ids})` : ''}`)) as unknown as pg.QueryResult[];
    const row = opened[1]?.rows[0] as { size: number | string; root: Uint8Array; map_root: Uint8Array | null } | undefined;
    if (!row) throw new EvidentError('NOT_FOUND', `no log for organisation ${orgId}`);
    const head: LogHead = { size: Number(row.size), root: new Uint8Array(row.root), mapRoot: row.map_root === null ? null : new Uint8Array(row.map_root) };
    const tx = this.kyselyOn(client);
    const records = new SqlRecordWriter(tx, true, options.expected);
    if (ids > 0) records.reserved((opened[2]?.rows ?? []).map((r: { id: string | number }) => Number(r.id)));
    const batch = await build(head, {
      readHashes: (indexes) => readHashesOn(tx, orgId, indexes),
      readMapLeaves: (from) => readMapLeavesIn(tx, orgId, from),
      lastMapLeafIndex: () => lastMapLeafIndexIn(tx, orgId),
      entriesAt: (indexes) => entriesAtOn(tx, orgId, indexes),
      records,
      // The deferred rows go in with the batch's rows' statement; a refusal there is DeferredRowsRefused.
      settle: async () => undefined,
      attempt: savepointAttempts(tx, records),
    });
    batch.entries.forEach((e, i) => {
      if (e.index !== head.size + i) throw new EvidentError('INTERNAL', `append out of sequence at ${e.index}`);
    });
    const size = head.size + batch.entries.length;
    const deferred = records.take();
    // pg sends a query queued behind another when that one's answer arrives: no turn of the event loop between them.
    const rows = client.query({ name: 'evident_log_rows', text: WRITE_ROWS, values: rowValues(orgId, deferred, batch) });
    rows.catch(() => undefined); // awaited below, unless the map fails first (the transaction is rolled back then)
    batch.pollMap?.();
    const map = await batch.map;
    const mapRoot = map?.root ?? head.mapRoot;
    const leaves = map?.leaves ?? [];
    // Most batches write no map leaf (they are flushed every few thousand moves).
    const leafRows = leaves.length > 0 ? client.query({ name: 'evident_log_leaves', text: WRITE_LEAVES, values: leafValues(orgId, leaves) }) : undefined;
    leafRows?.catch(() => undefined); // after a refused first statement it fails too (the transaction is aborted): that one is the error
    try {
      await rows;
    } catch (err) {
      throw deferred.length > 0 ? new DeferredRowsRefused(translateDbError(err)) : translateDbError(err);
    }
    try {
      await leafRows;
      options.written?.();
      // Each round trip waits for this thread's next turn of the event loop, under load a few milliseconds
      // (issue #21, fourteenth round): the head goes with the COMMIT.
      await client.query(`${headUpdate(orgId, size, batch.root, mapRoot, batch.time ?? at)}; COMMIT`);
    } catch (err) {
      throw translateDbError(err);
    }
    return { before: head.size, after: { size, root: batch.root, mapRoot } };
  }
}

function rowValues(orgId: number, deferred: Record<string, unknown>[], batch: AppendBatch): unknown[] {
  const columns = ATTESTATION_NAMES.map((c) => deferred.map((r) => r[c] ?? null));
  const texts = batch.entries.map((e) => e.entry);
  const joined = joinedEntries(texts);
  return [
    ...columns,
    orgId,
    batch.entries.map((e) => e.index), batch.entries.map((e) => buf(e.leafHash)), joined,
    batch.hashes.map((h) => h.index), batch.hashes.map((h) => buf(h.hash)),
    joined === null ? texts : null,
  ];
}

/**
 * The entries' texts as one text, each behind a record separator (PostgreSQL splits it: string_to_array, then
 * [2:] drops the empty text before the first): node-postgres sends a text[] as an array literal, escaping every
 * quote of every entry, ~10 µs of the writer's main thread per ~1 KB entry (issue #21, fourteenth round). The
 * log's entries are canonical JSON, in which a control character such as the separator is always escaped
 * (RFC 8785 §3.2.2.2); any text holding one goes as a text[] (null here), as does an empty batch.
 */
function joinedEntries(texts: readonly string[]): string | null {
  if (texts.length === 0 || texts.some((t) => t.includes(SEPARATOR))) return null;
  return SEPARATOR + texts.join(SEPARATOR);
}
const SEPARATOR = '\x1e';

/**
 * The head's UPDATE as the text of a simple query, which takes no parameters: numbers checked as integers,
 * hashes as hex for decode() (whatever standard_conforming_strings says), the time escaped by node-postgres.
 */
function headUpdate(orgId: number, size: number, root: Uint8Array, mapRoot: Uint8Array | null, time: string): string {
  if (!Number.isSafeInteger(size)) throw new EvidentError('INTERNAL', `log size ${size} is not an integer`);
  const hex = (h: Uint8Array) => `decode('${buf(h).toString('hex')}', 'hex')`;
  return `UPDATE log_heads SET size = ${size}, root = ${hex(root)}, map_root = ${mapRoot === null ? 'NULL' : hex(mapRoot)}, updated_at = ${escapeLiteral(time)} WHERE org_id = ${orgId}`;
}

function leafValues(orgId: number, leaves: readonly MapLeafRow[]): unknown[] {
  // A CTE's DELETE and INSERT see the same snapshot, so a superseded row and its successor never collide.
  const gone = supersededOf(leaves);
  return [orgId, leaves.map((l) => l.index), leaves.map((l) => l.subject), gone.map((g) => g.index), gone.map((g) => g.subject)];
}

async function readHashesOn(db: Kysely<Database>, orgId: number, indexes: readonly number[]): Promise<Map<number, Uint8Array>> {
  const out = new Map<number, Uint8Array>();
  const unique = [...new Set(indexes)];
  if (unique.length === 0) return out;
  const rows = await db.selectFrom('log_hashes').select(['hidx', 'hash']).where('org_id', '=', orgId)
    .where(sql<boolean>`hidx = any(${unique}::int8[])`).execute();
  for (const row of rows) out.set(Number(row.hidx), new Uint8Array(row.hash));
  return out;
}

async function entriesAtOn(db: Kysely<Database>, orgId: number, indexes: readonly number[]): Promise<StoredEntry[]> {
  const wanted = [...new Set(indexes)];
  if (wanted.length === 0) return [];
  const rows = await db.selectFrom('log_entries').select(['idx', 'leaf_hash', 'entry']).where('org_id', '=', orgId)
    .where(sql<boolean>`idx = any(${wanted}::int8[])`).orderBy('idx').execute();
  return rows.map((r) => ({ index: Number(r.idx), leafHash: new Uint8Array(r.leaf_hash), entry: r.entry }));
}
