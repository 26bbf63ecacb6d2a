import fs from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { EvidentError } from '../core/index.js';

/** The latest checkpoint a witness cosigned for one log (C2SP tlog-witness keeps exactly this). */
export interface WitnessedCheckpoint {
  origin: string;
  /** The log verifier key the witness is configured with for this origin. */
  logKey: string;
  size: number;
  /** Base64 root hash. */
  root: string;
  note: string;
  updatedAt: string;
}

export type CompareAndSet = { ok: true } | { ok: false; current: WitnessedCheckpoint | undefined };

const SCHEMA = `
CREATE TABLE IF NOT EXISTS witnessed (
  origin TEXT NOT NULL, log_key TEXT NOT NULL, size INTEGER NOT NULL, root TEXT NOT NULL, note TEXT NOT NULL, updated_at TEXT NOT NULL,
  PRIMARY KEY (origin, log_key)
);
CREATE TABLE IF NOT EXISTS refused (
  id INTEGER PRIMARY KEY, origin TEXT NOT NULL, log_key TEXT NOT NULL, reason TEXT NOT NULL, request TEXT NOT NULL, at TEXT NOT NULL
);`;

interface Row {
  origin: string;
  log_key: string;
  size: number;
  root: string;
  note: string;
  updated_at: string;
}

/**
 * The witness's own small SQLite file. Checking the size a request builds on and recording the new
 * checkpoint happen in one IMMEDIATE transaction (C2SP tlog-witness: "must be performed atomically"), so
 * two requests — or two witness processes on one file — can never roll the recorded size back.
 */
export class WitnessStore {
  private readonly db: SQLite.Database;

  constructor(file: string) {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    try {
      this.db = new SQLite(file);
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('busy_timeout = 5000');
      this.db.exec(SCHEMA);
    } catch (err) {
      throw new EvidentError('UNAVAILABLE', `cannot open the witness database ${file}: ${(err as Error).message}`, { cause: err });
    }
  }

  latest(origin: string, logKey: string): WitnessedCheckpoint | undefined {
    const row = this.db.prepare('SELECT * FROM witnessed WHERE origin = ? AND log_key = ?').get(origin, logKey) as Row | undefined;
    return row && { origin: row.origin, logKey: row.log_key, size: row.size, root: row.root, note: row.note, updatedAt: row.updated_at };
  }

  /**
   * Records `next` if the recorded checkpoint is still `expected` (by size and root; undefined: none yet),
   * else returns what is recorded now. `check` runs inside the transaction, after the comparison.
   */
  compareAndSet(expected: { size: number; root: string } | undefined, next: Omit<WitnessedCheckpoint, 'updatedAt'>, at: string): CompareAndSet {
    const run = this.db.transaction((): CompareAndSet => {
      const current = this.latest(next.origin, next.logKey);
      const same = expected === undefined ? current === undefined : current !== undefined && current.size === expected.size && current.root === expected.root;
      if (!same) return { ok: false, current };
      this.db.prepare(
        'INSERT INTO witnessed (origin, log_key, size, root, note, updated_at) VALUES (?, ?, ?, ?, ?, ?) ' +
          'ON CONFLICT (origin, log_key) DO UPDATE SET size = excluded.size, root = excluded.root, note = excluded.note, updated_at = excluded.updated_at',
      ).run(next.origin, next.logKey, next.size, next.root, next.note, at);
      return { ok: true };
    });
    return run.immediate();
  }

  /** Keeps a validly signed request the witness refused: it may prove the log misbehaved (C2SP tlog-witness). */
  refuse(origin: string, logKey: string, reason: string, request: string, at: string): void {
    this.db.prepare('INSERT INTO refused (origin, log_key, reason, request, at) VALUES (?, ?, ?, ?, ?)').run(origin, logKey, reason, request, at);
  }

  refusals(origin: string): { reason: string; request: string; at: string }[] {
    return this.db.prepare('SELECT reason, request, at FROM refused WHERE origin = ? ORDER BY id').all(origin) as { reason: string; request: string; at: string }[];
  }

  close(): void {
    this.db.close();
  }
}
