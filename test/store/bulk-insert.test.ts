import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertRows } from '../../src/store/bulk-insert.js';
import type { SqlStore } from '../../src/store/index.js';
import { engines } from '../helpers/engines.js';

// The log's append path inserts its rows through fixed-size statements (256, 64, 16, 4, 1 rows): every count
// must come out as exactly its rows, in one transaction, on both engines.
describe.each(engines())('bulk inserts on $name', (engine) => {
  let store: SqlStore;
  let cleanup: () => Promise<void>;
  let orgId: number;
  let next = 0;

  beforeAll(async () => {
    const opened = await engine.open();
    store = opened.store;
    cleanup = opened.cleanup;
    orgId = (await store.orgs.create('bulk', new Date().toISOString())).id;
  });
  afterAll(async () => cleanup());

  it.each([0, 1, 3, 4, 21, 255, 256, 257, 341, 1000])('writes %i rows, each with its own values', async (n) => {
    const from = next;
    next += n;
    const hash = (i: number) => Uint8Array.from({ length: 32 }, (_, k) => (i * 31 + k) & 0xff);
    await store.db.transaction().execute((tx) => insertRows(tx, engine.name, 'log_hashes', Array.from({ length: n }, (_, i) => [orgId, from + i, hash(from + i)])));
    const rows = await store.db.selectFrom('log_hashes').select(['hidx', 'hash']).where('org_id', '=', orgId).where('hidx', '>=', from).orderBy('hidx').execute();
    expect(rows.map((r) => Number(r.hidx))).toEqual(Array.from({ length: n }, (_, i) => from + i));
    rows.forEach((r) => expect(new Uint8Array(r.hash)).toEqual(hash(Number(r.hidx))));
  });

  it('writes nothing when a row fails: the transaction is all or nothing', async () => {
    const before = await sql<{ n: number }>`SELECT count(*) AS n FROM log_hashes WHERE org_id = ${orgId}`.execute(store.db);
    const rows = Array.from({ length: 300 }, (_, i) => [orgId, next + i, new Uint8Array(32)]);
    rows[290] = [orgId, 0, new Uint8Array(32)]; // a hash index already written
    await expect(store.db.transaction().execute((tx) => insertRows(tx, engine.name, 'log_hashes', rows))).rejects.toThrow();
    const after = await sql<{ n: number }>`SELECT count(*) AS n FROM log_hashes WHERE org_id = ${orgId}`.execute(store.db);
    expect(Number(after.rows[0]!.n)).toBe(Number(before.rows[0]!.n));
  });

  it('refuses a row of the wrong width', async () => {
    await expect(store.db.transaction().execute((tx) => insertRows(tx, engine.name, 'log_hashes', [[orgId, next]]))).rejects.toThrow(/2 values for 3 columns/);
  });
});
