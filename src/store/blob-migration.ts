import type { Migration } from 'kysely';
import { addAppendOnlyTriggers } from './append-only.js';
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
      // The same refusal as the log's tables (migration 0001), for the vault's.
      await addAppendOnlyTriggers(db, engine, TABLES);
    },
  };
}
