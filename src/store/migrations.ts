import { sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import type { Engine } from './schema.js';

/**
 * Migrations live in code (not files) so the compiled package carries them. Column types differ between
 * the engines only where they must: 64-bit integers and byte strings.
 */
function types(engine: Engine) {
  return engine === 'sqlite'
    ? ({ big: 'integer', bytes: 'blob' } as const)
    : ({ big: 'bigint', bytes: 'bytea' } as const);
}

const APPEND_ONLY_TABLES = ['log_entries', 'log_hashes'] as const;

/** The database itself refuses to change history (DESIGN.md §2): UPDATE, DELETE and TRUNCATE are rejected. */
async function addAppendOnlyTriggers(db: Kysely<unknown>, engine: Engine): Promise<void> {
  if (engine === 'sqlite') {
    for (const table of APPEND_ONLY_TABLES) {
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
  for (const table of APPEND_ONLY_TABLES) {
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

function initial(engine: Engine): Migration {
  const t = types(engine);
  return {
    async up(db) {
      await db.schema
        .createTable('orgs')
        .addColumn('id', engine === 'sqlite' ? 'integer' : 'serial', (c) =>
          engine === 'sqlite' ? c.primaryKey().autoIncrement() : c.primaryKey(),
        )
        .addColumn('name', 'text', (c) => c.notNull().unique())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('tokens')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('org_id', 'integer', (c) => c.notNull().references('orgs.id'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('secret_hash', 'text', (c) => c.notNull().unique())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text')
        .addColumn('expires_at', 'text')
        .addColumn('revoked_at', 'text')
        .execute();
      await db.schema.createIndex('tokens_org').on('tokens').columns(['org_id', 'created_at', 'id']).execute();
      await db.schema
        .createTable('log_heads')
        .addColumn('org_id', 'integer', (c) => c.primaryKey().references('orgs.id'))
        .addColumn('size', t.big, (c) => c.notNull())
        .addColumn('root', t.bytes, (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('log_entries')
        .addColumn('org_id', 'integer', (c) => c.notNull().references('orgs.id'))
        .addColumn('idx', t.big, (c) => c.notNull())
        .addColumn('leaf_hash', t.bytes, (c) => c.notNull())
        .addColumn('entry', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('log_entries_pk', ['org_id', 'idx'])
        .execute();
      await db.schema.createIndex('log_entries_leaf').on('log_entries').columns(['org_id', 'leaf_hash']).execute();
      await db.schema
        .createTable('log_hashes')
        .addColumn('org_id', 'integer', (c) => c.notNull().references('orgs.id'))
        .addColumn('hidx', t.big, (c) => c.notNull())
        .addColumn('hash', t.bytes, (c) => c.notNull())
        .addPrimaryKeyConstraint('log_hashes_pk', ['org_id', 'hidx'])
        .execute();
      await addAppendOnlyTriggers(db, engine);
    },
  };
}

export function migrationProvider(engine: Engine): MigrationProvider {
  return {
    async getMigrations() {
      return { '0001_initial': initial(engine) };
    },
  };
}
