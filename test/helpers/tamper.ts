import { sql } from 'kysely';
import type { SqlStore } from '../../src/store/index.js';

/** Every trigger an attacker who can write the database drops first (both engines), before editing rows. */
export async function dropTriggers(store: SqlStore): Promise<void> {
  if (store.engine === 'sqlite') {
    const rows = await sql<{ name: string }>`SELECT name FROM sqlite_master WHERE type = 'trigger'`.execute(store.db);
    for (const r of rows.rows) await sql.raw(`DROP TRIGGER ${r.name}`).execute(store.db);
  } else {
    const rows = await sql<{ tgname: string; relname: string }>`
      SELECT t.tgname, c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
      WHERE NOT t.tgisinternal AND c.relnamespace = current_schema()::regnamespace`.execute(store.db);
    for (const r of rows.rows) await sql.raw(`DROP TRIGGER ${r.tgname} ON ${r.relname}`).execute(store.db);
  }
}
