import fs from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { EvidentError } from '../core/index.js';

export interface SqliteBackup {
  /** Bytes of the database copy. */
  databaseBytes: number;
  /** Evidence files copied from <data-dir>/blobs. */
  blobs: number;
  /** Whether <data-dir>/log-key was copied. */
  logKey: boolean;
}

/**
 * Copies a SQLite data directory while a server may be writing to it: the database through SQLite's
 * online backup API (a consistent snapshot of one moment, however many commits happen meanwhile), then
 * the evidence files and the log key. The files are copied after the database because a blob is stored
 * (content-addressed, read-only) before the rows naming it commit: every blob the copy names is copied.
 * `to` must not exist or be empty; PostgreSQL is backed up with pg_dump (docs/deploy.md).
 */
export async function backupSqlite(dataDir: string, to: string): Promise<SqliteBackup> {
  const file = path.join(dataDir, 'evident.db');
  if (!fs.existsSync(file)) throw new EvidentError('NOT_FOUND', `no SQLite database at ${file} (a PostgreSQL server is backed up with pg_dump)`);
  if (fs.existsSync(to) && fs.readdirSync(to).length > 0) throw new EvidentError('CONFLICT', `${to} is not empty: a backup goes into a new or empty directory`);
  fs.mkdirSync(to, { recursive: true, mode: 0o700 });
  const source = new SQLite(file, { readonly: true, fileMustExist: true });
  try {
    source.pragma('busy_timeout = 10000');
    await source.backup(path.join(to, 'evident.db'));
  } finally {
    source.close();
  }
  let blobs = 0;
  const blobDir = path.join(dataDir, 'blobs');
  if (fs.existsSync(blobDir)) {
    fs.cpSync(blobDir, path.join(to, 'blobs'), {
      recursive: true,
      // Unfinished uploads (temporary files) are not evidence yet: no committed row names them.
      filter: (p) => !path.basename(p).startsWith('tmp-'),
    });
    blobs = countFiles(path.join(to, 'blobs'));
  }
  const keyFile = path.join(dataDir, 'log-key');
  const logKey = fs.existsSync(keyFile);
  if (logKey) fs.copyFileSync(keyFile, path.join(to, 'log-key'));
  if (logKey) fs.chmodSync(path.join(to, 'log-key'), 0o600);
  return { databaseBytes: fs.statSync(path.join(to, 'evident.db')).size, blobs, logKey };
}

function countFiles(dir: string): number {
  return fs.readdirSync(dir, { withFileTypes: true }).reduce((n, e) => n + (e.isDirectory() ? countFiles(path.join(dir, e.name)) : 1), 0);
}
