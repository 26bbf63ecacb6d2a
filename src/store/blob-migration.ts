import { sql, type Kysely, type Migration } from 'kysely';
import type { Engine } from './schema.js';

const TABLES = ['blobs', 'blob_chunks', 'org_blobs'] as const;

/**
 * Migration 0003_blobs: the evidence vault. Created on both engines whichever blob store is selected, so
 * switching a deployment to the database store needs no migration. Every table is append-only: evidence
 * an attestation points at must not change or disappear.
 */
export function blobsMigration(engine: Engine): Migration {
  const big = engine === 'sqlite' ? 'integer' : 'bigint';
  const bytes = engine === 'sqlite' ? 'blob' : 'bytea';
  return {
    async up(db) {
      await db.schema
        .createTable('blobs')
        .addColumn('digest', 'text', (c) => c.primaryKey())
        .addColumn('size', big, (c) => c.notNull())
        .addColumn('chunks', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('blob_chunks')
        .addColumn('digest', 'text', (c) => c.notNull().references('blobs.digest'))
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('bytes', bytes, (c) => c.notNull())
        .addPrimaryKeyConstraint('blob_chunks_pk', ['digest', 'seq'])
        .execute();
      await db.schema
        .createTable('org_blobs')
        .addColumn('org_id', 'integer', (c) => c.notNull().references('orgs.id'))
        .addColumn('digest', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('size', big, (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('org_blobs_pk', ['org_id', 'digest', 'name'])
        .execute();
      await appendOnly(db, engine);
    },
  };
}

/** The same refusal as the log's tables (migration 0001), for the vault's. */
async function appendOnly(db: Kysely<unknown>, engine: Engine): Promise<void> {
  if (engine === 'sqlite') {
    for (const table of TABLES) {
      for (const op of ['UPDATE', 'DELETE']) {
        await sql
          .raw(`CREATE TRIGGER ${table}_no_${op.toLowerCase()} BEFORE ${op} ON ${table} BEGIN SELECT RAISE(ABORT, '${table} is append-only: ${op} refused'); END`)
          .execute(db);
      }
    }
    return;
  }
  // Defined by 0001 too; restated so this migration does not depend on another's internals.
  await sql
    .raw(
      `CREATE OR REPLACE FUNCTION evident_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP; END $$`,
    )
    .execute(db);
  for (const table of TABLES) {
    await sql.raw(`CREATE TRIGGER ${table}_append_only BEFORE UPDATE OR DELETE ON ${table} FOR EACH ROW EXECUTE FUNCTION evident_append_only()`).execute(db);
    await sql.raw(`CREATE TRIGGER ${table}_no_truncate BEFORE TRUNCATE ON ${table} FOR EACH STATEMENT EXECUTE FUNCTION evident_append_only()`).execute(db);
  }
}
