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

/**
 * For projections that move forward with the log (a flow archived or tagged, an environment archived, a
 * description changed by a later entry): DELETE and TRUNCATE are refused, and an UPDATE only when the row's
 * `entry_index` strictly increases — every change of such a row is made by a newer log entry, whose index it
 * records, so the row always names the entry it was last derived from (and decisions check it against that
 * entry, services/records/projection-check.ts). An update path must therefore set `entry_index` to the index
 * of the entry that causes it.
 */
export async function addForwardOnlyTriggers(db: Kysely<unknown>, engine: Engine, tables: readonly string[]): Promise<void> {
  if (engine === 'sqlite') {
    for (const table of tables) {
      await sql
        .raw(
          `CREATE TRIGGER ${table}_forward_only BEFORE UPDATE ON ${table} WHEN NEW.entry_index <= OLD.entry_index ` +
            `BEGIN SELECT RAISE(ABORT, '${table} moves forward only with the log: UPDATE refused unless entry_index increases'); END`,
        )
        .execute(db);
      await sql
        .raw(`CREATE TRIGGER ${table}_no_delete BEFORE DELETE ON ${table} BEGIN SELECT RAISE(ABORT, '${table} is append-only: DELETE refused'); END`)
        .execute(db);
    }
    return;
  }
  await sql
    .raw(
      `CREATE OR REPLACE FUNCTION evident_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF TG_OP = 'UPDATE' AND NEW.entry_index > OLD.entry_index THEN RETURN NEW; END IF;
         RAISE EXCEPTION '% moves forward only with the log: % refused', TG_TABLE_NAME, TG_OP;
       END $$`,
    )
    .execute(db);
  for (const table of tables) {
    await sql
      .raw(`CREATE TRIGGER ${table}_forward_only BEFORE UPDATE OR DELETE ON ${table} FOR EACH ROW EXECUTE FUNCTION evident_forward_only()`)
      .execute(db);
    await sql
      .raw(`CREATE TRIGGER ${table}_no_truncate BEFORE TRUNCATE ON ${table} FOR EACH STATEMENT EXECUTE FUNCTION evident_append_only()`)
      .execute(db);
  }
}
