import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { StatisticsKeeper, type SqlStore } from '../../src/store/index.js';
import { createServices } from '../../src/services/index.js';
import { engines } from '../helpers/engines.js';
import { testSigner } from '../helpers/keys.js';

// The store gives both planners statistics itself (src/store/statistics.ts): without them SQLite planned
// `list flows` quadratically. A table that grew is analysed after enough appends, in the background.

async function analysed(store: SqlStore, table: string): Promise<boolean> {
  if (store.engine === 'sqlite') {
    const { rows } = await sql<{ n: number }>`SELECT count(*) AS n FROM sqlite_stat1 WHERE tbl = ${table}`.execute(store.db);
    return Number(rows[0]!.n) > 0;
  }
  const { rows } = await sql<{ at: unknown }>`
    SELECT last_analyze AS at FROM pg_stat_user_tables WHERE schemaname = current_schema() AND relname = ${table}`.execute(store.db);
  return rows[0]?.at !== null && rows[0]?.at !== undefined;
}

describe.each(engines())('table statistics kept by the store on $name', (engine) => {
  let opened: { store: SqlStore; cleanup(): Promise<void> };
  beforeAll(async () => {
    opened = await engine.open();
  });
  afterAll(async () => opened.cleanup());

  it('analyses a table that grew once enough entries were appended', async () => {
    const { store } = opened;
    const services = createServices(store, testSigner());
    const org = (await services.auth.ensureOrg('stats')).org;
    for (let i = 0; i < 120; i++) await services.flows.create(org, { name: `flow-${i}` });
    const keeper = new StatisticsKeeper(store.engine, store.db, 100);
    keeper.noteAppended(99);
    await keeper.settled();
    expect(await analysed(store, 'flows')).toBe(false);
    // PostgreSQL's activity counters reach pg_stat_user_tables asynchronously: wait until they show the rows.
    for (let attempt = 0; attempt < 40 && !(await analysed(store, 'flows')); attempt++) {
      keeper.noteAppended(100);
      await keeper.settled();
      if (!(await analysed(store, 'flows'))) await new Promise((r) => setTimeout(r, 250));
    }
    expect(await analysed(store, 'flows')).toBe(true);
  });
});
