import { sql, type Kysely } from 'kysely';
import type { Engine } from './schema.js';

/** The database itself refuses to change history (DESIGN.md §2): UPDATE, DELETE and TRUNCATE are rejected. */
export async function addAppendOnlyTriggers(db: Kysely<unknown>, engine: Engine, tables: readonly string[]): Promise<void> {
  if (engine === 'sqlite') {
    for (const table of tables) {
      for (const op of ['UPDATE', 'DELETE']) {
        await sql
          .raw(
            `CREATE TRIGGER ${table}_no_${op.toLowerCase()} BEFORE ${op} ON ${table} ` +
              `BEGIN SELECT RAISE(ABORT, '${table} is append-only: ${op} refused'); END`,
          )
          .execute(db);
      }
    }
    return;
  }
  await sql
    .raw(
      `CREATE OR REPLACE FUNCTION evident_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP; END $$`,
    )
    .execute(db);
  for (const table of tables) {
    await sql
      .raw(
        `CREATE TRIGGER ${table}_append_only BEFORE UPDATE OR DELETE ON ${table} ` +
          `FOR EACH ROW EXECUTE FUNCTION evident_append_only()`,
      )
      .execute(db);
    await sql
      .raw(
        `CREATE TRIGGER ${table}_no_truncate BEFORE TRUNCATE ON ${table} ` +
          `FOR EACH STATEMENT EXECUTE FUNCTION evident_append_only()`,
      )
      .execute(db);
  }
}
