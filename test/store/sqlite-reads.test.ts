import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { openStore, type SqlStore } from '../../src/store/index.js';
import { tempDir } from '../helpers/engines.js';

// On SQLite, single-statement reads go to a read-only connection beside the writer (src/store/connect.ts,
// sqlite-driver.ts): they never queue behind a write transaction that is waiting between two statements.
describe('SQLite reads beside the writer', () => {
  let store: SqlStore;
  beforeAll(async () => {
    store = await openStore({ dataDir: tempDir() });
    await store.orgs.create('acme', '2026-01-01T00:00:00Z');
  });
  afterAll(async () => store.close());

  it('answers a read while a write transaction is open, with what was committed before it', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let inside!: () => void;
    const entered = new Promise<void>((resolve) => (inside = resolve));
    const write = store.write(async (tx) => {
      await tx.insertInto('orgs').values({ name: 'pending', created_at: '2026-01-01T00:00:00Z' }).execute();
      inside();
      await held;
    });
    await entered;
    // The writer holds its transaction open; the read is answered anyway, and sees only committed rows.
    const order: string[] = [];
    await Promise.all([
      store.orgs.get('acme').then((org) => order.push(`read ${org?.name}`)),
      store.orgs.get('pending').then((org) => order.push(`read ${org?.name ?? 'none'}`)),
    ]);
    order.push('release');
    release();
    await write;
    expect(order).toEqual(['read acme', 'read none', 'release']);
    // Once committed, the next read sees it.
    expect((await store.orgs.get('pending'))?.name).toBe('pending');
  });

  it('refuses a transaction on the read-only connection, and a write through it', async () => {
    await expect(store.readDb.transaction().execute(async () => undefined)).rejects.toThrow(/read-only SQLite connection/);
    await expect(sql`insert into orgs (name, created_at) values ('x', 'y')`.execute(store.readDb)).rejects.toThrow(/readonly/);
  });

  it('hands the writer to concurrent writes in the order they asked', async () => {
    const done: number[] = [];
    await Promise.all(Array.from({ length: 50 }, (_, i) => store.write(async (tx) => {
      await sql`select 1`.execute(tx);
      done.push(i);
    })));
    expect(done).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });
});
