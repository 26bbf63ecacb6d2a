import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from './schema.js';
import type { AppendContext } from './types.js';
import { translateDbError } from './cursor.js';
import type { SqlRecordWriter } from './records.js';

/**
 * AppendContext.attempt for one append transaction (SQLite and PostgreSQL alike): each entry's projection
 * writes, its deferred rows included, under their own SQL savepoint, so a failing entry undoes only itself
 * and the rest of the batch commits.
 */
export function savepointAttempts(tx: Kysely<Database> | Transaction<Database>, records: SqlRecordWriter): AppendContext['attempt'] {
  let savepoints = 0;
  return async (work) => {
    const name = sql.raw(`entry_${++savepoints}`);
    await sql`SAVEPOINT ${name}`.execute(tx);
    try {
      const value = await work(records);
      await records.flush();
      await sql`RELEASE SAVEPOINT ${name}`.execute(tx);
      return { ok: true as const, value };
    } catch (error) {
      records.discard();
      await sql`ROLLBACK TO SAVEPOINT ${name}`.execute(tx);
      await sql`RELEASE SAVEPOINT ${name}`.execute(tx);
      return { ok: false as const, error: translateDbError(error) };
    }
  };
}
