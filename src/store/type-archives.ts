import type { Kysely, Transaction } from 'kysely';
import { addAppendOnlyTriggers } from './append-only.js';
import type { Database, Engine } from './schema.js';

type Db = Kysely<Database> | Transaction<Database>;

/**
 * Part of migration 0021: which `attestation_type.archived` entry archived each custom attestation type (Kosli's
 * `archive attestation-type`). Append-only; read back and verified against the log before it is acted on.
 */
export async function createTypeArchives(db: Kysely<unknown>, engine: Engine): Promise<void> {
  await db.schema
    .createTable('attestation_type_archives')
    .addColumn('org_id', 'integer', (c) => c.notNull().references('orgs.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('entry_index', engine === 'sqlite' ? 'integer' : 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('attestation_type_archives_pk', ['org_id', 'name'])
    .execute();
  await addAppendOnlyTriggers(db, engine, ['attestation_type_archives']);
}

export async function insertTypeArchive(db: Db, orgId: number, name: string, entryIndex: number): Promise<void> {
  await db.insertInto('attestation_type_archives').values({ org_id: orgId, name, entry_index: entryIndex }).execute();
}

/** The archiving entry of each archived type of the org, by name. */
export async function typeArchives(db: Db, orgId: number): Promise<Map<string, number>> {
  const rows = await db.selectFrom('attestation_type_archives').select(['name', 'entry_index']).where('org_id', '=', orgId).execute();
  return new Map(rows.map((r) => [r.name, Number(r.entry_index)]));
}
