import type { Kysely, Migration, Transaction } from 'kysely';
import type { Database, Engine } from './schema.js';

// The newest cosigned checkpoint of each org's log (migration 0023, docs/log.md "The server submits its
// checkpoints"), so a restarted server serves it before its witnesses answer again. A row is only a hint:
// the witness submitter verifies the log's own signature, every cosignature against the configured witness
// keys, and that the checkpoint is a prefix of the current head before it serves anything from it.

/** A type alias, not an interface: Kysely's withTables() needs an index-signature-compatible shape. */
export type LogCosignedTables = {
  log_cosigned: { org_id: number; size: number; note: string; updated_at: string };
};

/** 0023: one row per org, the signed note as served (log signature, then the cosignature lines). */
export function logCosignedMigration(engine: Engine): Migration {
  return {
    async up(db) {
      await db.schema
        .createTable('log_cosigned')
        .addColumn('org_id', 'integer', (c) => c.primaryKey().references('orgs.id'))
        .addColumn('size', engine === 'sqlite' ? 'integer' : 'bigint', (c) => c.notNull())
        .addColumn('note', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
    },
  };
}

export interface StoredCosigned {
  size: number;
  note: string;
}

export async function readCosigned(db: Kysely<Database>, orgId: number): Promise<StoredCosigned | undefined> {
  const row = await db.withTables<LogCosignedTables>().selectFrom('log_cosigned').select(['size', 'note']).where('org_id', '=', orgId).executeTakeFirst();
  return row && { size: Number(row.size), note: row.note };
}

/** Records the org's cosigned note unless a larger checkpoint is recorded already (never moves back). */
export async function writeCosigned(db: Kysely<Database> | Transaction<Database>, orgId: number, size: number, note: string, at: string): Promise<void> {
  await db
    .withTables<LogCosignedTables>()
    .insertInto('log_cosigned')
    .values({ org_id: orgId, size, note, updated_at: at })
    .onConflict((oc) =>
      oc.column('org_id')
        .doUpdateSet((eb) => ({ size: eb.ref('excluded.size'), note: eb.ref('excluded.note'), updated_at: eb.ref('excluded.updated_at') }))
        .where('log_cosigned.size', '<=', (eb) => eb.ref('excluded.size')),
    )
    .execute();
}
