import fs from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { Kysely, Migrator, PostgresDialect, sql, type SqliteDatabase } from 'kysely';
import { EvidentError } from '../core/index.js';
import type { Database, Engine } from './schema.js';
import { migrationProvider } from './migrations.js';
import { FairSqliteDialect } from './sqlite-driver.js';

export interface ConnectOptions {
  /** Directory of the embedded SQLite database (created if missing). */
  dataDir?: string;
  /** postgres://… — selects the PostgreSQL engine. */
  databaseUrl?: string;
  /** PostgreSQL schema to use (created if missing); lets tests share one database. */
  schema?: string;
  /** Maximum pooled PostgreSQL connections. */
  poolSize?: number;
}

export interface Connection {
  engine: Engine;
  /** Every write, and reads inside a write transaction. */
  db: Kysely<Database>;
  /**
   * Single-statement reads outside transactions. On SQLite a second, read-only connection that never waits
   * for the writer (WAL); on PostgreSQL the same pool as `db`.
   */
  readDb: Kysely<Database>;
  /** The PostgreSQL pool under `db`: the append path takes its connections directly (log-append-pg.ts). */
  pool?: pg.Pool;
  /** Opens readDb once the schema is migrated (SQLite); a no-op on PostgreSQL. */
  openReader?: () => void;
}

/** The read connection's memory map (SQLite clamps it to SQLITE_MAX_MMAP_SIZE). */
const READER_MMAP_BYTES = 2 ** 31;

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

function connectSqlite(dataDir: string): Connection {
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = path.join(dataDir, 'evident.db');
  const database = new SQLite(file);
  // WAL for concurrent readers; synchronous=FULL so a commit is durable before it is acknowledged.
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = FULL');
  database.pragma('busy_timeout = 10000');
  database.pragma('foreign_keys = ON');
  const db = new Kysely<Database>({ dialect: new FairSqliteDialect(withStatementCache(database)) });
  const conn: Connection = {
    engine: 'sqlite', db, readDb: db,
    openReader() {
      const reader = new SQLite(file, { readonly: true, fileMustExist: true });
      reader.pragma('busy_timeout = 10000');
      // Reads through a memory map instead of a pread into SQLite's page cache per page: the cache holds
      // 16 MB, so a large read (every entry bundle of a log for `verify log --full`, ~70 pages each) copied
      // every page from the OS twice. Measured on a 100k-entry log: 0.8–1.3 µs of CPU per entry to frame
      // bundles instead of 1.8–3.6 (docs/performance.md, "Twelfth round"). Read-only: SQLite maps PROT_READ and
      // writes through the writer connection as before; the pages are the OS's file cache, shared and
      // reclaimable (they count as the server's RssFile, not its heap). SQLite caps the size at its
      // compile-time maximum (2 GB here); the rest of a larger file is read as before.
      reader.pragma(`mmap_size = ${READER_MMAP_BYTES}`);
      conn.readDb = new Kysely<Database>({ dialect: new FairSqliteDialect(withStatementCache(reader), true) });
    },
  };
  return conn;
}

/**
 * Kysely's SQLite driver prepares every query anew; preparing cost as much as running the statements
 * (CPU profile of the HTTP append benchmark). Statements are reusable, so keep the most recent ones.
 */
function withStatementCache(database: SQLite.Database, max = 500): SqliteDatabase {
  const cache = new Map<string, SQLite.Statement>();
  return {
    close: () => database.close(),
    prepare(text: string) {
      let statement = cache.get(text);
      if (statement) {
        cache.delete(text); // re-insert: Map order is the recency order
      } else {
        statement = database.prepare(text);
        if (cache.size >= max) cache.delete(cache.keys().next().value!);
      }
      cache.set(text, statement);
      return statement;
    },
  };
}

function connectPostgres(url: string, schema: string | undefined, poolSize: number): Connection {
  if (schema !== undefined && !SCHEMA_NAME.test(schema)) {
    throw new EvidentError('INVALID_ARGUMENT', `invalid PostgreSQL schema name ${JSON.stringify(schema)}`);
  }
  // int8 columns (sizes, indexes) come back as JS numbers; they stay below 2^53 by construction.
  const types = { getTypeParser: (oid: number, format?: 'text' | 'binary') => (oid === 20 ? Number : pg.types.getTypeParser(oid, format as 'text')) };
  // The schema goes in each connection's startup packet (`options`), so every pooled connection has it before
  // its first query, also those the append path takes without Kysely (log-append-pg.ts), and a connection
  // can never run with the default search_path. A search_path naming a schema that does not exist yet is
  // allowed; connect() creates it. (SCHEMA_NAME above keeps the name to plain identifier characters.)
  const pool = new pg.Pool({
    connectionString: url, max: poolSize, types: types as pg.CustomTypesConfig,
    ...(schema === undefined ? {} : { options: `-c search_path="${schema}"` }),
  });
  const dialect = new PostgresDialect({ pool });
  const db = new Kysely<Database>({ dialect });
  return { engine: 'postgres', db, readDb: db, pool };
}

export async function connect(options: ConnectOptions): Promise<Connection> {
  const conn = options.databaseUrl
    ? connectPostgres(options.databaseUrl, options.schema, options.poolSize ?? 10)
    : connectSqlite(options.dataDir ?? '.evident-data');
  try {
    if (options.databaseUrl && options.schema !== undefined) await createSchema(conn.db, options.schema);
    await migrate(conn, conn.engine === 'postgres' ? (options.schema ?? (await currentSchema(conn.db))) : undefined);
    conn.openReader?.();
  } catch (err) {
    await conn.db.destroy().catch(() => undefined);
    throw translateConnectError(err);
  }
  return conn;
}

async function createSchema(db: Kysely<Database>, schema: string): Promise<void> {
  try {
    await sql.raw(`CREATE SCHEMA IF NOT EXISTS "${schema}"`).execute(db);
  } catch (err) {
    // Two processes creating the same schema at once: the loser sees a unique violation; the schema exists.
    if ((err as { code?: string }).code !== '23505') throw err;
  }
}

async function currentSchema(db: Kysely<Database>): Promise<string> {
  const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(db);
  const schema = rows[0]?.schema;
  if (!schema) throw new EvidentError('INVALID_ARGUMENT', 'the PostgreSQL search_path names no existing schema');
  return schema;
}

async function migrate(conn: Connection, schema: string | undefined): Promise<void> {
  // With a schema, Kysely must be told it: otherwise its "does the migration table exist?" check finds
  // the table of another schema in the same database and skips creating its own.
  const migrator = new Migrator({
    db: conn.db,
    provider: migrationProvider(conn.engine),
    // Migrations are written independently (records, blobs, types...); each is self-contained.
    allowUnorderedMigrations: true,
    ...(schema === undefined ? {} : { migrationTableSchema: schema }),
  });
  const { error } = await migrator.migrateToLatest();
  if (error) throw error;
}

export function translateConnectError(err: unknown): EvidentError {
  if (err instanceof EvidentError) return err;
  const code = (err as { code?: string }).code;
  const message = err instanceof Error ? err.message : String(err);
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === '3D000' || code === '28P01' || code === '28000') {
    return new EvidentError('UNAVAILABLE', `cannot reach the database: ${message}`, { cause: err });
  }
  return new EvidentError('INTERNAL', `database set-up failed: ${message}`, { cause: err });
}
