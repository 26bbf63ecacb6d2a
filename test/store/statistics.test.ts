import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
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

/** Counts the refreshes it starts instead of running them. */
class CountingKeeper extends StatisticsKeeper {
  refreshes = 0;
  override refresh(): Promise<void> {
    this.refreshes++;
    return Promise.resolve();
  }
}

describe('when the store checks its statistics', () => {
  it('checks a young log after 256 appends, then at doubling intervals up to every 10,000', async () => {
    const keeper = new CountingKeeper('sqlite', undefined as never);
    const at: number[] = [];
    let total = 0;
    for (let i = 0; i < 60_000; i++) {
      keeper.noteAppended(1);
      total++;
      if (keeper.refreshes > at.length) {
        at.push(total);
        await keeper.settled();
      }
    }
    expect(at.slice(0, 7)).toEqual([256, 256 + 512, 768 + 1024, 1792 + 2048, 3840 + 4096, 7936 + 8192, 16128 + 10_000]);
    expect(at[7]).toBe(26128 + 10_000);
  });

  it('keeps a smaller interval given to it from the start', async () => {
    const keeper = new CountingKeeper('sqlite', undefined as never, 100);
    keeper.noteAppended(99);
    expect(keeper.refreshes).toBe(0);
    keeper.noteAppended(1);
    await keeper.settled();
    keeper.noteAppended(100);
    expect(keeper.refreshes).toBe(2);
  });
});

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

  it('analyses a young log\'s hashes within its first 2,000 appends (the store\'s own keeper, default intervals)', async () => {
    // A store of its own: the test above analysed every table its keeper found changed, log_hashes included.
    const own = await engine.open();
    const { store } = own;
    onTestFinished(() => own.cleanup());
    const services = createServices(store, testSigner());
    const org = (await services.auth.ensureOrg('young')).org;
    expect(await analysed(store, 'log_hashes')).toBe(false);
    // Intervals of 256, 512, 1,024 appends: PostgreSQL's counters may reach pg_stat_user_tables after a
    // check, so the table may be analysed at the second or third one. Before, the first check came at 10,000.
    for (let n = 0; n < 2000 && !(await analysed(store, 'log_hashes')); n += 250) {
      await Promise.all(Array.from({ length: 250 }, (_, i) => services.log.append(org, 'test.young', { n: n + i })));
      await store.statistics.settled();
      if (engine.name === 'postgres') await new Promise((r) => setTimeout(r, 300));
      await store.statistics.settled();
    }
    expect(await analysed(store, 'log_hashes')).toBe(true);
  });
});
