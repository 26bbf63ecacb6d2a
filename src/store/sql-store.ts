import path from 'node:path';
import { sql, type Kysely, type Transaction } from 'kysely';
import type pg from 'pg';
import { EvidentError } from '../core/index.js';
import { EMPTY_ROOT } from '../ledger/index.js';
import type { Database, Engine } from './schema.js';
import type {
  AppendBatch, AppendContext, AppendOptions, EnvironmentReader, LogHead, LogStore, MapLeafRow, MapLeavesPage, NewToken, OrgRecord, OrgStore, Page, RecordReader, Store, StoredEntry,
  TokenRecord, TokenStore,
} from './types.js';
import { connect, type ConnectOptions } from './connect.js';
import { lastMapLeafIndexIn, readMapLeavesIn, writeMapLeaves } from './log-map.js';
import { readCosigned, writeCosigned, type StoredCosigned } from './log-cosigned.js';
import { decodeCursor, encodeCursor, translateDbError } from './cursor.js';
import { SqlRecordReader, SqlRecordWriter } from './records.js';
import { savepointAttempts } from './savepoints.js';
import { SqlEnvironmentReader } from './environments-sql.js';
import { SqlPolicyReader } from './policies-sql.js';
import type { BlobStore, BlobStoreOptions, OrgBlobStore } from './blob-types.js';
import { DatabaseBlobStore, SqlOrgBlobStore } from './blob-sql.js';
import { SqlCacheEntryStore, type CacheEntryStore } from './cache-entries.js';
import { FilesystemBlobStore } from './blob-fs.js';
import { StatisticsKeeper } from './statistics.js';
import { SqlWebSessionStore, type WebSessionStore } from './web-sessions.js';
import { PgLogAppender } from './log-append-pg.js';
import { insertRows } from './bulk-insert.js';

type Db = Kysely<Database> | Transaction<Database>;

/** Rows per multi-row INSERT: well under SQLite's 32766 and PostgreSQL's 65535 bound parameters. */
const INSERT_CHUNK = 2000;

async function guarded<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw translateDbError(err);
  }
}

function hashesWhere(db: Db, orgId: number) {
  return db.selectFrom('log_hashes').select(['hidx', 'hash']).where('org_id', '=', orgId);
}

async function readHashesIn(db: Db, orgId: number, indexes: readonly number[], ranges: readonly (readonly [number, number])[] = []): Promise<Map<number, Uint8Array>> {
  const out = new Map<number, Uint8Array>();
  const unique = [...new Set(indexes)];
  for (let i = 0; i === 0 || i < unique.length; i += INSERT_CHUNK) {
    // The ranges go with the first chunk: one statement for a proof's hashes and the tiles it loads.
    const list = unique.slice(i, i + INSERT_CHUNK);
    const spans = i === 0 ? ranges : [];
    if (list.length === 0 && spans.length === 0) break;
    // One SELECT per list and range, joined by UNION ALL (still one statement): as one OR of `hidx IN (…256…)`
    // and a BETWEEN, SQLite's planner read every hash row of the org (1.05 s at 5M entries against 2.7 ms for
    // the list alone: the first inclusion proof through a tile not kept, performance.md "Ninth round"). A
    // hash in both comes back twice; the map keeps one.
    const parts = [
      ...(list.length > 0 ? [hashesWhere(db, orgId).where('hidx', 'in', list)] : []),
      ...spans.map(([lo, hi]) => hashesWhere(db, orgId).where('hidx', '>=', lo).where('hidx', '<=', hi)),
    ];
    const rows = await parts.slice(1).reduce((q, part) => q.unionAll(part), parts[0]!).execute();
    for (const row of rows) out.set(Number(row.hidx), new Uint8Array(row.hash));
  }
  return out;
}

function toToken(row: Database['tokens'] & { org_name: string }): TokenRecord {
  return {
    id: row.id, orgId: row.org_id, orgName: row.org_name, name: row.name, role: row.role,
    createdAt: row.created_at, createdBy: row.created_by, expiresAt: row.expires_at, revokedAt: row.revoked_at,
  };
}

class SqlOrgStore implements OrgStore {
  constructor(private readonly store: SqlStore) {}

  create(name: string, at: string): Promise<OrgRecord> {
    return this.store.write(async (tx) => {
      const row = await tx.insertInto('orgs').values({ name, created_at: at }).returning(['id', 'name', 'created_at']).executeTakeFirstOrThrow();
      await tx.insertInto('log_heads').values({ org_id: row.id, size: 0, root: EMPTY_ROOT, updated_at: at }).execute();
      return { id: row.id, name: row.name, createdAt: row.created_at };
    });
  }

  async get(name: string): Promise<OrgRecord | undefined> {
    const row = await this.store.readDb.selectFrom('orgs').selectAll().where('name', '=', name).executeTakeFirst();
    return row && { id: row.id, name: row.name, createdAt: row.created_at };
  }

  async list(): Promise<OrgRecord[]> {
    const rows = await this.store.readDb.selectFrom('orgs').selectAll().orderBy('name').execute();
    return rows.map((r) => ({ id: r.id, name: r.name, createdAt: r.created_at }));
  }
}

class SqlTokenStore implements TokenStore {
  constructor(private readonly store: SqlStore) {}

  private query(db: Db) {
    return db.selectFrom('tokens').innerJoin('orgs', 'orgs.id', 'tokens.org_id').selectAll('tokens').select('orgs.name as org_name');
  }

  async create(t: NewToken): Promise<TokenRecord> {
    await guarded(() =>
      this.store.db
        .insertInto('tokens')
        .values({
          id: t.id, org_id: t.orgId, name: t.name, role: t.role, secret_hash: t.secretHash,
          created_at: t.createdAt, created_by: t.createdBy, expires_at: t.expiresAt, revoked_at: null,
        })
        .execute(),
    );
    return toToken(await this.query(this.store.db).where('tokens.id', '=', t.id).executeTakeFirstOrThrow());
  }

  async findBySecretHash(secretHash: string): Promise<TokenRecord | undefined> {
    const row = await this.query(this.store.readDb).where('tokens.secret_hash', '=', secretHash).executeTakeFirst();
    return row && toToken(row);
  }

  /** Keyset pagination on (created_at, id); the cursor is the last item's pair. */
  async list(orgId: number, cursor: string | null, limit: number): Promise<Page<TokenRecord>> {
    let q = this.query(this.store.readDb).where('tokens.org_id', '=', orgId);
    if (cursor !== null) {
      const [at, id] = decodeCursor(cursor);
      q = q.where((eb) => eb.or([eb('tokens.created_at', '>', at), eb.and([eb('tokens.created_at', '=', at), eb('tokens.id', '>', id)])]));
    }
    const rows = await q.orderBy('tokens.created_at').orderBy('tokens.id').limit(limit + 1).execute();
    const items = rows.slice(0, limit).map(toToken);
    const last = items[items.length - 1];
    return { items, nextCursor: rows.length > limit && last ? encodeCursor([last.createdAt, last.id]) : null };
  }

  async revoke(orgId: number, id: string, at: string): Promise<TokenRecord | undefined> {
    await this.store.db
      .updateTable('tokens')
      .set({ revoked_at: at })
      .where('org_id', '=', orgId)
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .execute();
    const row = await this.query(this.store.db).where('tokens.org_id', '=', orgId).where('tokens.id', '=', id).executeTakeFirst();
    return row && toToken(row);
  }
}

/** Indexes per `IN (...)` list of entriesAt: well under both engines' parameter limits. */
const ENTRIES_AT_CHUNK = 1000;

async function entriesAtIn(db: Kysely<Database> | Transaction<Database>, orgId: number, indexes: readonly number[]): Promise<StoredEntry[]> {
  const out: StoredEntry[] = [];
  const wanted = [...new Set(indexes)].sort((a, b) => a - b);
  for (let i = 0; i < wanted.length; i += ENTRIES_AT_CHUNK) {
    const rows = await db
      .selectFrom('log_entries')
      .select(['idx', 'leaf_hash', 'entry'])
      .where('org_id', '=', orgId)
      .where('idx', 'in', wanted.slice(i, i + ENTRIES_AT_CHUNK))
      .execute();
    for (const r of rows) out.push({ index: Number(r.idx), leafHash: new Uint8Array(r.leaf_hash), entry: r.entry });
  }
  return out;
}

const noop = (): void => undefined;

function headOf(row: { size: number; root: Uint8Array; map_root: Uint8Array | null }): LogHead {
  return { size: Number(row.size), root: new Uint8Array(row.root), mapRoot: row.map_root === null ? null : new Uint8Array(row.map_root) };
}

class SqlLogStore implements LogStore {
  /** Per org: the head read in flight, and the one that starts after it for the callers waiting on it. */
  private readonly headReads = new Map<number, { running?: Promise<LogHead>; next?: Promise<LogHead> }>();

  constructor(private readonly store: SqlStore) {}

  /**
   * The head, from a read that started after this call: nearly every read route begins with it, so under
   * concurrent reads it was one statement (a round trip to PostgreSQL) per request. Callers arriving while a
   * read is in flight cannot use it (it may have started before a commit they saw acknowledged): they share
   * the next one, which starts when it ends. At most two reads per org are in flight or waiting, however many
   * callers there are (issue #21, eighth round).
   */
  head(orgId: number): Promise<LogHead> {
    let reads = this.headReads.get(orgId);
    if (!reads) this.headReads.set(orgId, (reads = {}));
    if (!reads.running) return this.startHeadRead(orgId, reads);
    const state = reads;
    state.next ??= state.running!.then(noop, noop).then(() => {
      state.next = undefined;
      return this.startHeadRead(orgId, state);
    });
    return state.next;
  }

  private startHeadRead(orgId: number, reads: { running?: Promise<LogHead> }): Promise<LogHead> {
    const read: Promise<LogHead> = this.readHead(orgId).finally(() => {
      if (reads.running === read) reads.running = undefined;
    });
    reads.running = read;
    return read;
  }

  private async readHead(orgId: number): Promise<LogHead> {
    const row = await this.store.readDb.selectFrom('log_heads').select(['size', 'root', 'map_root']).where('org_id', '=', orgId).executeTakeFirst();
    if (!row) throw new EvidentError('NOT_FOUND', `no log for organisation ${orgId}`);
    return headOf(row);
  }

  async append(orgId: number, build: (head: LogHead, ctx: AppendContext) => Promise<AppendBatch> | AppendBatch, at: string, options: AppendOptions = {}): Promise<LogHead> {
    if (this.store.appender) {
      const { before, after } = await this.store.appender.append(orgId, build, at, options);
      this.store.statistics.noteAppended(after.size - before);
      return after;
    }
    const before = { size: 0 };
    const after = await this.store.write(async (tx) => {
      // The row lock serialises sequencing per org across every server process (PostgreSQL);
      // SQLite's write transaction is already exclusive.
      let q = tx.selectFrom('log_heads').select(['size', 'root', 'map_root']).where('org_id', '=', orgId);
      if (this.store.engine === 'postgres') q = q.forUpdate();
      const row = await q.executeTakeFirst();
      if (!row) throw new EvidentError('NOT_FOUND', `no log for organisation ${orgId}`);
      const head = headOf(row);
      before.size = head.size;
      // On PostgreSQL every statement is a round trip: attestation rows are deferred to one INSERT per batch.
      const records = new SqlRecordWriter(tx, this.store.engine === 'postgres');
      const batch = await build(head, {
        readHashes: (indexes) => readHashesIn(tx, orgId, indexes),
        readMapLeaves: (from) => readMapLeavesIn(tx, orgId, from),
        lastMapLeafIndex: () => lastMapLeafIndexIn(tx, orgId),
        entriesAt: (indexes) => entriesAtIn(tx, orgId, indexes),
        records,
        settle: () => records.flush(),
        // SQL savepoints (SQLite and PostgreSQL alike) undo one entry's projections without the batch's.
        attempt: savepointAttempts(tx, records),
      });
      // Whatever the builder left unsettled goes in before the entries that commit to it.
      await records.flush();
      const size = head.size + batch.entries.length;
      batch.entries.forEach((e, i) => {
        if (e.index !== head.size + i) throw new EvidentError('INTERNAL', `append out of sequence at ${e.index}`);
      });
      await insertRows(tx, this.store.engine, 'log_entries', batch.entries.map((e) => [orgId, e.index, e.leafHash, e.entry]));
      await insertRows(tx, this.store.engine, 'log_hashes', batch.hashes.map((h) => [orgId, h.index, h.hash]));
      batch.pollMap?.();
      const map = await batch.map;
      if (map) await writeMapLeaves(tx, this.store.engine, orgId, map.leaves);
      const mapRoot = map?.root ?? head.mapRoot;
      await tx.updateTable('log_heads').set({ size, root: batch.root, map_root: mapRoot, updated_at: batch.time ?? at }).where('org_id', '=', orgId).execute();
      return { size, root: batch.root, mapRoot };
    });
    this.store.statistics.noteAppended(after.size - before.size);
    return after;
  }

  readHashes(orgId: number, indexes: readonly number[], ranges?: readonly (readonly [number, number])[]): Promise<Map<number, Uint8Array>> {
    return readHashesIn(this.store.readDb, orgId, indexes, ranges);
  }

  mapLeaves(orgId: number, from: number, page?: MapLeavesPage): Promise<MapLeafRow[]> {
    return readMapLeavesIn(this.store.readDb, orgId, from, page);
  }

  lastMapLeafIndex(orgId: number): Promise<number | null> {
    return lastMapLeafIndexIn(this.store.readDb, orgId);
  }

  cosigned(orgId: number): Promise<StoredCosigned | undefined> {
    return readCosigned(this.store.readDb, orgId);
  }

  saveCosigned(orgId: number, size: number, note: string, at: string): Promise<void> {
    return this.store.write((tx) => writeCosigned(tx, orgId, size, note, at));
  }

  async entries(orgId: number, start: number, end: number): Promise<StoredEntry[]> {
    const rows = await this.store.readDb
      .selectFrom('log_entries')
      .select(['idx', 'leaf_hash', 'entry'])
      .where('org_id', '=', orgId)
      .where('idx', '>=', start)
      .where('idx', '<', end)
      .orderBy('idx')
      .execute();
    return rows.map((r) => ({ index: Number(r.idx), leafHash: new Uint8Array(r.leaf_hash), entry: r.entry }));
  }

  async entryBytes(orgId: number, start: number, end: number): Promise<Uint8Array[]> {
    // SQLite hands over the stored UTF-8 as a Buffer when the text is cast to a blob: no decoding into a
    // JavaScript string and encoding back, which was most of the server's time serving entry bundles
    // (verify log --full, issue #21). pg has no such path (bytea comes as hex text): text, then encoded.
    const q = this.store.readDb.selectFrom('log_entries').where('org_id', '=', orgId).where('idx', '>=', start).where('idx', '<', end).orderBy('idx');
    if (this.store.engine === 'sqlite') return (await q.select(sql<Uint8Array>`cast(entry as blob)`.as('bytes')).execute()).map((r) => r.bytes);
    return (await q.select('entry').execute()).map((r) => Buffer.from(r.entry, 'utf8'));
  }

  async entryBundle(orgId: number, start: number, end: number): Promise<{ count: number; longest: number; bytes: Uint8Array }> {
    if (this.store.engine !== 'sqlite') return bundleOf(await this.entryBytes(orgId, start, end));
    // SQLite frames the bundle itself: one blob per bundle instead of a Buffer and a row object per entry,
    // then a copy of each into the bundle (the server's CPU per entry served fell by a third: verify log
    // --full, issue #21, docs/performance.md "Scale, seventh round"). group_concat is binary-safe over blobs. The order is the subquery's, read along the primary
    // key: SQLite does not flatten a subquery with ORDER BY into an aggregate (its flattening rule 16), and an
    // ORDER BY inside group_concat would sort through a temporary b-tree (more CPU than the rows themselves).
    // An entry longer than 0xffff gets a 5-digit prefix that unhex refuses (NULL, left out): the caller sees
    // `longest` and refuses the bundle.
    const rows = this.store.readDb
      .selectFrom('log_entries')
      .where('org_id', '=', orgId)
      .where('idx', '>=', start)
      .where('idx', '<', end)
      .orderBy('idx')
      .select(sql<Uint8Array>`cast(entry as blob)`.as('e'));
    const row = await this.store.readDb
      .selectFrom(rows.as('r'))
      .select([
        sql<number>`count(*)`.as('count'),
        sql<number | null>`max(length(e))`.as('longest'),
        sql<Uint8Array | null>`cast(group_concat(unhex(printf('%04x', length(e))) || e, '') as blob)`.as('bytes'),
      ])
      .executeTakeFirstOrThrow();
    return { count: Number(row.count), longest: Number(row.longest ?? 0), bytes: row.bytes ?? new Uint8Array(0) };
  }

  entriesAt(orgId: number, indexes: readonly number[]): Promise<StoredEntry[]> {
    return entriesAtIn(this.store.db, orgId, indexes);
  }

  async indexOfLeaf(orgId: number, leafHash: Uint8Array): Promise<number | undefined> {
    const row = await this.store.readDb
      .selectFrom('log_entries')
      .select('idx')
      .where('org_id', '=', orgId)
      .where('leaf_hash', '=', leafHash)
      .orderBy('idx')
      .limit(1)
      .executeTakeFirst();
    return row === undefined ? undefined : Number(row.idx);
  }
}

export class SqlStore implements Store {
  readonly orgs: OrgStore = new SqlOrgStore(this);
  readonly tokens: TokenStore = new SqlTokenStore(this);
  readonly log: LogStore = new SqlLogStore(this);
  readonly records: RecordReader;
  readonly environments: EnvironmentReader;
  readonly policies: SqlPolicyReader;
  readonly blobs: BlobStore;
  readonly orgBlobs: OrgBlobStore;
  readonly cacheEntries: CacheEntryStore;
  readonly webSessions: WebSessionStore;
  readonly statistics: StatisticsKeeper;

  /**
   * Without a blob store, blobs go to this database (the only choice that needs no directory). `readDb`
   * serves single-statement reads outside transactions (connect.ts): on SQLite a read-only connection that
   * never queues behind the writer.
   */
  /** PostgreSQL: appends take pooled connections directly, four round trips a batch (log-append-pg.ts). */
  readonly appender: PgLogAppender | undefined;

  constructor(readonly engine: Engine, readonly db: Kysely<Database>, blobs?: BlobStore, readonly readDb: Kysely<Database> = db, pool?: pg.Pool) {
    this.appender = engine === 'postgres' && pool ? new PgLogAppender(pool) : undefined;
    this.statistics = new StatisticsKeeper(engine, db);
    this.records = new SqlRecordReader(readDb);
    this.environments = new SqlEnvironmentReader(readDb);
    this.policies = new SqlPolicyReader(readDb);
    this.blobs = blobs ?? new DatabaseBlobStore(db, (work) => this.write(work));
    this.orgBlobs = new SqlOrgBlobStore(db, (work) => this.write(work));
    this.cacheEntries = new SqlCacheEntryStore(db, (work) => this.write(work));
    this.webSessions = new SqlWebSessionStore(db, readDb);
  }

  /**
   * One all-or-nothing write transaction. On SQLite it starts with BEGIN IMMEDIATE, so a second process
   * waits for the write lock (busy_timeout) instead of failing half-way when it upgrades a read lock.
   */
  write<T>(work: (tx: Db) => Promise<T>): Promise<T> {
    return guarded(async () => {
      if (this.engine === 'postgres') return this.db.transaction().execute(work);
      return this.db.connection().execute(async (conn) => {
        await sql`begin immediate`.execute(conn);
        try {
          const result = await work(conn);
          await sql`commit`.execute(conn);
          return result;
        } catch (err) {
          await sql`rollback`.execute(conn);
          throw err;
        }
      });
    });
  }

  async ping(): Promise<void> {
    await guarded(() => sql`select 1`.execute(this.db));
  }

  async close(): Promise<void> {
    await this.statistics.settled();
    if (this.readDb !== this.db) await this.readDb.destroy();
    await this.db.destroy();
  }
}

export async function openStore(options: ConnectOptions & BlobStoreOptions): Promise<SqlStore> {
  const { engine, db, readDb, pool } = await connect(options);
  // Filesystem by default on SQLite; on PostgreSQL the database, so that every server process sees every blob.
  const kind = options.blobs ?? (engine === 'sqlite' ? 'filesystem' : 'database');
  try {
    const store = kind === 'database'
      ? new SqlStore(engine, db, undefined, readDb, pool)
      : new SqlStore(engine, db, new FilesystemBlobStore(options.blobDir ?? path.join(options.dataDir ?? '.evident-data', 'blobs')), readDb, pool);
    await store.statistics.refresh();
    return store;
  } catch (err) {
    if (readDb !== db) await readDb.destroy();
    await db.destroy();
    throw err;
  }
}

/** An entry bundle framed in JavaScript (PostgreSQL: pg has no binary-safe concatenation worth a round trip). */
function bundleOf(rows: Uint8Array[]): { count: number; longest: number; bytes: Uint8Array } {
  let longest = 0;
  let total = 0;
  for (const r of rows) {
    longest = Math.max(longest, r.length);
    total += 2 + r.length;
  }
  if (longest > 0xffff) return { count: rows.length, longest, bytes: new Uint8Array(0) };
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const r of rows) {
    bytes[at] = r.length >> 8;
    bytes[at + 1] = r.length & 0xff;
    bytes.set(r, at + 2);
    at += 2 + r.length;
  }
  return { count: rows.length, longest, bytes };
}
