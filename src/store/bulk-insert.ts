import { CompiledQuery, type Kysely, type Transaction } from 'kysely';
import { EvidentError } from '../core/index.js';
import type { Database, Engine } from './schema.js';

// Multi-row INSERTs for the log's append path, in a few fixed sizes whose texts are built once. Through Kysely's
// builder every row of every batch was parsed into operation nodes, frozen and compiled back to SQL (~3 µs an
// entry of the writer's thread, issue #17 profile), and a batch of a new size made a new text for SQLite to
// prepare. With sizes 256, 64, 16, 4 and 1 a batch of n rows takes at most n/256 + 3·3 + 3 statements, each a
// prepared statement reused from the connection's cache (connect.ts withStatementCache).

const SIZES = [256, 64, 16, 4, 1] as const;

/** The append path's tables and their columns, in the order the values are given. Names are ours, never input. */
export const BULK_TABLES = {
  log_entries: ['org_id', 'idx', 'leaf_hash', 'entry'],
  log_hashes: ['org_id', 'hidx', 'hash'],
} as const;

export type BulkTable = keyof typeof BULK_TABLES;

const texts = new Map<string, string>();

function textOf(engine: Engine, table: BulkTable, rows: number): string {
  const key = `${engine}/${table}/${rows}`;
  let text = texts.get(key);
  if (text === undefined) {
    const columns = BULK_TABLES[table];
    let n = 0;
    const row = () => `(${columns.map(() => (engine === 'postgres' ? `$${++n}` : '?')).join(', ')})`;
    text = `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${Array.from({ length: rows }, row).join(', ')}`;
    texts.set(key, text);
  }
  return text;
}

/** Inserts `rows` (each the table's columns in BULK_TABLES order) into `table` in the transaction. */
export async function insertRows(db: Kysely<Database> | Transaction<Database>, engine: Engine, table: BulkTable, rows: readonly (readonly unknown[])[]): Promise<void> {
  const width = BULK_TABLES[table].length;
  let i = 0;
  for (const size of SIZES) {
    for (; rows.length - i >= size; i += size) {
      const params: unknown[] = new Array(size * width);
      for (let r = 0; r < size; r++) {
        const row = rows[i + r]!;
        if (row.length !== width) throw new EvidentError('INTERNAL', `${table}: a row of ${row.length} values for ${width} columns`);
        for (let c = 0; c < width; c++) params[r * width + c] = row[c];
      }
      await db.executeQuery(CompiledQuery.raw(textOf(engine, table, size), params));
    }
  }
}
