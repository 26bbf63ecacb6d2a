import { sql, type Kysely, type Transaction } from 'kysely';
import { addAppendOnlyTriggers } from './append-only.js';
import type { Database, Engine } from './schema.js';

type Db = Kysely<Database> | Transaction<Database>;

/** Rows per `IN (...)` list: well under both engines' parameter limits. */
const CHUNK = 1000;

/**
 * Part of migration 0014: which log entries tagged each flow (`flow.tagged`, whose entries carry only the
 * change). A flow's tags are the replay of these entries in log order, so a decision can re-derive them from
 * the entries instead of trusting flows.tags, and a VSA can carry them. Append-only like the log. Existing
 * databases are backfilled from the log itself.
 */
export async function createFlowTagEntries(db: Kysely<unknown>, engine: Engine): Promise<void> {
  await db.schema
    .createTable('flow_tag_entries')
    .addColumn('org_id', 'integer', (c) => c.notNull().references('orgs.id'))
    .addColumn('flow_id', 'integer', (c) => c.notNull().references('flows.id'))
    .addColumn('entry_index', engine === 'sqlite' ? 'integer' : 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('flow_tag_entries_pk', ['flow_id', 'entry_index'])
    .execute();
  const typed = db as unknown as Kysely<Database>;
  const flows = await typed.selectFrom('flows').select(['id', 'org_id', 'name']).execute();
  const ids = new Map(flows.map((f) => [`${f.org_id}\u0000${f.name}`, f.id]));
  // Entries are canonical JSON (RFC 8785): the member reads exactly "type":"flow.tagged".
  const tagged = await sql<{ org_id: number; idx: number | string; entry: string }>`
    SELECT org_id, idx, entry FROM log_entries WHERE entry LIKE ${'%"type":"flow.tagged"%'} ORDER BY org_id, idx`.execute(db);
  const rows: { org_id: number; flow_id: number; entry_index: number }[] = [];
  for (const r of tagged.rows) {
    const body = JSON.parse(r.entry) as { type?: unknown; flow?: unknown };
    const id = body.type === 'flow.tagged' && typeof body.flow === 'string' ? ids.get(`${r.org_id}\u0000${body.flow}`) : undefined;
    if (id !== undefined) rows.push({ org_id: r.org_id, flow_id: id, entry_index: Number(r.idx) });
  }
  for (let i = 0; i < rows.length; i += CHUNK) await typed.insertInto('flow_tag_entries').values(rows.slice(i, i + CHUNK)).execute();
  await addAppendOnlyTriggers(db, engine, ['flow_tag_entries']);
}

export async function insertFlowTagEntry(db: Db, orgId: number, flowId: number, entryIndex: number): Promise<void> {
  await db.insertInto('flow_tag_entries').values({ org_id: orgId, flow_id: flowId, entry_index: entryIndex }).execute();
}

/** The `flow.tagged` entries of each flow, in log order (flows never tagged are left out). */
export async function flowTagEntries(db: Db, flowIds: readonly number[]): Promise<Map<number, number[]>> {
  const out = new Map<number, number[]>();
  const ids = [...new Set(flowIds)];
  for (let i = 0; i < ids.length; i += CHUNK) {
    const rows = await db.selectFrom('flow_tag_entries').select(['flow_id', 'entry_index']).where('flow_id', 'in', ids.slice(i, i + CHUNK)).orderBy('entry_index').execute();
    for (const r of rows) {
      const list = out.get(r.flow_id) ?? [];
      list.push(Number(r.entry_index));
      out.set(r.flow_id, list);
    }
  }
  return out;
}
