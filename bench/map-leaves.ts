// The subject map's leaves table: writing a flush of leaves (4,096 by default, services/log-map.ts) into a table
// of a growing number of subjects, with migration 0019's layout (one row per subject keyed by its random
// 32-byte map key, upserted) against 0028's (rows keyed by entry index, appended, superseded rows deleted).
// SQLite, WAL, synchronous FULL, as the server runs it. Prints µs per row written and the ratio.
//
//   node dist/bench/map-leaves.js [--sizes 50000,200000,500000] [--flush 4096] [--moved 0.5]
//
// `--moved` is the share of a flush's leaves that move a subject already in the table (chosen at random: the
// worst case for the new layout, whose delete then lands on a random page); the rest are new subjects.
import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { benchArgs } from './bench-args.js';

type Layout = 'upsert-by-key' | 'append-by-index';

interface Subject { key: Buffer; text: string; index: number }

class Table {
  private readonly db: Database.Database;
  private readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'evident-map-leaves-'));
  private readonly subjects: Subject[] = [];
  private next = 0;

  constructor(private readonly layout: Layout) {
    this.db = new Database(path.join(this.dir, 'leaves.db'));
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.exec(layout === 'upsert-by-key'
      ? `CREATE TABLE t (org_id integer NOT NULL, key_hash blob NOT NULL, subject text NOT NULL, entry_index integer NOT NULL, PRIMARY KEY (org_id, key_hash));
         CREATE INDEX t_moved ON t (org_id, entry_index);`
      : 'CREATE TABLE t (org_id integer NOT NULL, entry_index integer NOT NULL, subject text NOT NULL, PRIMARY KEY (org_id, entry_index, subject)) WITHOUT ROWID;');
  }

  get size(): number {
    return this.subjects.length;
  }

  /** Writes one flush of `n` leaves, `moved` of them (share) existing subjects; returns µs per row. */
  flush(n: number, moved: number): number {
    const leaves: { s: Subject; was: number }[] = [];
    for (let i = 0; i < n; i++) {
      let s: Subject;
      if (this.subjects.length > 0 && Math.random() < moved) s = this.subjects[Math.floor(Math.random() * this.subjects.length)]!;
      else {
        const key = randomBytes(32);
        s = { key, text: `["artifact","${key.toString('hex')}"]`, index: -1 };
        this.subjects.push(s);
      }
      leaves.push({ s, was: s.index });
      s.index = this.next++;
    }
    const t0 = process.hrtime.bigint();
    this.db.transaction(() => {
      for (let i = 0; i < n; i += 500) this.write(leaves.slice(i, i + 500));
    })();
    return Number(process.hrtime.bigint() - t0) / 1e3 / n;
  }

  private write(chunk: { s: Subject; was: number }[]): void {
    // As src/store/log-map.ts writes them: the rows as one JSON text through json_each.
    if (this.layout === 'upsert-by-key') {
      const keys = Buffer.concat(chunk.map((l) => l.s.key));
      this.db.prepare(`INSERT INTO t (org_id, key_hash, subject, entry_index) SELECT 1, substr(?, 32 * key + 1, 32), value ->> 0, value ->> 1
        FROM json_each(?) WHERE true ON CONFLICT (org_id, key_hash) DO UPDATE SET entry_index = excluded.entry_index`)
        .run(keys, JSON.stringify(chunk.map((l) => [l.s.text, l.s.index])));
      return;
    }
    const gone = chunk.filter((l) => l.was >= 0).map((l) => [l.s.text, l.was]);
    if (gone.length > 0) {
      this.db.prepare('DELETE FROM t WHERE org_id = 1 AND (entry_index, subject) IN (SELECT value ->> 1, value ->> 0 FROM json_each(?))').run(JSON.stringify(gone));
    }
    this.db.prepare('INSERT INTO t (org_id, entry_index, subject) SELECT 1, value ->> 1, value ->> 0 FROM json_each(?) WHERE true ON CONFLICT DO NOTHING')
      .run(JSON.stringify(chunk.map((l) => [l.s.text, l.s.index])));
  }

  close(): void {
    this.db.close();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

function main(): void {
  const { values } = benchArgs(import.meta.url, { options: { sizes: { type: 'string', default: '50000,200000,500000' }, flush: { type: 'string', default: '4096' }, moved: { type: 'string', default: '0.5' } } });
  const sizes = values.sizes.split(',').map(Number);
  const flush = Number(values.flush);
  const moved = Number(values.moved);
  if (sizes.some((n) => !Number.isSafeInteger(n) || n < 1) || !Number.isSafeInteger(flush) || flush < 1 || !(moved >= 0 && moved <= 1)) {
    throw new Error('usage: node dist/bench/map-leaves.js [--sizes N,N,...] [--flush N] [--moved 0..1]');
  }
  const tables = { old: new Table('upsert-by-key'), now: new Table('append-by-index') };
  console.log(`flush of ${flush} leaves, ${Math.round(moved * 100)} % of them moving an existing subject (load ${os.loadavg()[0]!.toFixed(1)})`);
  console.log('subjects   0019 upsert by key µs/row   0028 append by index µs/row   0028 / 0019');
  try {
    for (const size of sizes) {
      // Filled with new subjects only, both tables alike; then three measured flushes each, alternating.
      for (const t of Object.values(tables)) while (t.size < size) t.flush(flush, 0);
      const old: number[] = [];
      const now: number[] = [];
      for (let r = 0; r < 3; r++) {
        old.push(tables.old.flush(flush, moved));
        now.push(tables.now.flush(flush, moved));
      }
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
      console.log(`${String(size).padStart(8)}   ${old.map((x) => x.toFixed(1)).join(' / ').padEnd(26)}   ${now.map((x) => x.toFixed(1)).join(' / ').padEnd(28)}   ${(mean(now) / mean(old)).toFixed(2)}`);
    }
  } finally {
    for (const t of Object.values(tables)) t.close();
  }
}

main();
