import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { sql } from 'kysely';
import { openStore, type Engine, type SqlStore } from '../src/store/index.js';

/** A fresh, empty store on one engine, with what the report says about its durability settings. */
export interface BenchStore {
  engine: Engine;
  store: SqlStore;
  /** Engine version and the settings that decide what "durable" costs. */
  settings: Record<string, string>;
  cleanup(): Promise<void>;
}

export const DEFAULT_PG_URL = 'postgres://postgres@127.0.0.1:5432/test';

export function postgresUrl(): string {
  return process.env.EVIDENT_BENCH_DATABASE_URL || process.env.EVIDENT_TEST_DATABASE_URL || DEFAULT_PG_URL;
}

/** The URL without its password, for notices and reports. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}

export function sqliteLibraryVersion(): string {
  const db = new SQLite(':memory:');
  try {
    return (db.prepare('select sqlite_version() as v').get() as { v: string }).v;
  } finally {
    db.close();
  }
}

export async function openSqlite(): Promise<BenchStore> {
  // os.tmpdir() is checked by the caller's report: a tmpfs there would make fsync free and the figures meaningless.
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'evident-bench-'));
  const store = await openStore({ dataDir });
  const pragma = async (name: string) => {
    const { rows } = await sql.raw<Record<string, unknown>>(`pragma ${name}`).execute(store.db);
    return String(Object.values(rows[0] ?? {})[0]);
  };
  const settings = {
    version: sqliteLibraryVersion(),
    journal_mode: await pragma('journal_mode'),
    // 2 = FULL: the WAL is fsynced at every commit.
    synchronous: (await pragma('synchronous')) === '2' ? 'FULL' : await pragma('synchronous'),
    data_dir: dataDir,
  };
  return {
    engine: 'sqlite',
    store,
    settings,
    async cleanup() {
      await store.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Checks that PostgreSQL answers before the store is opened: pg's pool waits forever on a black-holed
 * address by default, and the benchmark must skip the engine with a notice instead of hanging.
 */
export async function postgresReachable(url: string): Promise<string | undefined> {
  const timeoutMs = 5000;
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  const t0 = performance.now();
  try {
    await client.connect();
    await client.query('select 1');
    return undefined;
  } catch (err) {
    const message = err instanceof Error ? err.message || String((err as { code?: unknown }).code) : String(err);
    // pg reports its own connect timeout as "Connection terminated unexpectedly"; say what happened.
    return performance.now() - t0 >= timeoutMs - 50 ? `no answer within ${timeoutMs / 1000} s: ${message}` : message;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function openPostgres(url: string): Promise<BenchStore> {
  const schema = `bench_${randomBytes(6).toString('hex')}`;
  const store = await openStore({ databaseUrl: url, schema });
  const show = async (name: string) => {
    const { rows } = await sql.raw<Record<string, unknown>>(`show ${name}`).execute(store.db);
    return String(Object.values(rows[0] ?? {})[0]);
  };
  const settings: Record<string, string> = { schema };
  for (const name of ['server_version', 'fsync', 'synchronous_commit', 'wal_sync_method', 'full_page_writes', 'commit_delay', 'shared_buffers']) {
    settings[name] = await show(name);
  }
  return {
    engine: 'postgres',
    store,
    settings,
    async cleanup() {
      try {
        await sql.raw(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).execute(store.db);
      } finally {
        await store.close();
      }
    },
  };
}
