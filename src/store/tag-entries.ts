import type { Kysely, Transaction } from 'kysely';
import { addAppendOnlyTriggers } from './append-only.js';
import type { Database, Engine } from './schema.js';

type Db = Kysely<Database> | Transaction<Database>;

/** What Kosli's `tag RESOURCE-TYPE NAME` can tag besides a flow (flows keep their own table: flow-tag-entries.ts). */
export type TagKind = 'environment' | 'control' | 'repo';

/**
 * Migration 0021: which log entries tagged each environment, control or repository (`environment.tagged`,
 * `control.tagged`, `repo.tagged`, each carrying only the change). There is no tags column to trust: the tags
 * are the replay of these entries, each verified against the log when read (services/records/tags.ts).
 * Append-only like the log; a new table, so nothing to backfill.
 */
export async function createTagEntries(db: Kysely<unknown>, engine: Engine): Promise<void> {
  await db.schema
    .createTable('tag_entries')
    .addColumn('org_id', 'integer', (c) => c.notNull().references('orgs.id'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('entry_index', engine === 'sqlite' ? 'integer' : 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('tag_entries_pk', ['org_id', 'kind', 'subject', 'entry_index'])
    .execute();
  await addAppendOnlyTriggers(db, engine, ['tag_entries']);
}

export async function insertTagEntry(db: Db, orgId: number, kind: TagKind, subject: string, entryIndex: number): Promise<void> {
  await db.insertInto('tag_entries').values({ org_id: orgId, kind, subject, entry_index: entryIndex }).execute();
}

/** The tagging entries of each subject of one kind, in log order (subjects never tagged are left out); all subjects when none are named. */
export async function tagEntries(db: Db, orgId: number, kind: TagKind, subjects?: readonly string[]): Promise<Map<string, number[]>> {
  let q = db.selectFrom('tag_entries').select(['subject', 'entry_index']).where('org_id', '=', orgId).where('kind', '=', kind);
  if (subjects) {
    if (subjects.length === 0) return new Map();
    q = q.where('subject', 'in', [...new Set(subjects)]);
  }
  const out = new Map<string, number[]>();
  for (const r of await q.orderBy('entry_index').execute()) {
    const list = out.get(r.subject) ?? [];
    list.push(Number(r.entry_index));
    out.set(r.subject, list);
  }
  return out;
}
