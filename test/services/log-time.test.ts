import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LogService } from '../../src/services/index.js';
import type { OrgRecord, SqlStore, Store } from '../../src/store/index.js';
import { engines } from '../helpers/engines.js';
import { testSigner } from '../helpers/keys.js';

/** The store as another server sees it: its appends wait at `gate` first, as for the log lock. */
function waitingStore(store: SqlStore, gate: Promise<void>): Store {
  const log = new Proxy(store.log, {
    get(target, prop) {
      if (prop === 'append') return async (...args: Parameters<SqlStore['log']['append']>) => { await gate; return target.append(...args); };
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return new Proxy(store, {
    get(target, prop) {
      if (prop === 'log') return log;
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

// Reliability report F14: with several servers writing, an entry's time was taken before waiting for the
// log lock, so a server that waited longer wrote an earlier time at a later index (up to 101 ms back).
describe.each(engines())('entry time on $name', (engine) => {
  let store: SqlStore;
  let cleanup: () => Promise<void>;
  let org: OrgRecord;
  beforeAll(async () => {
    const opened = await engine.open();
    store = opened.store;
    cleanup = opened.cleanup;
    org = await store.orgs.create('acme', '2026-11-22T09:00:00.000Z');
  });
  afterAll(async () => cleanup());

  it('is taken under the log lock, so it does not go backwards as the index grows', async () => {
    let ms = Date.parse('2026-11-22T10:00:00.000Z');
    const clock = { now: () => new Date((ms += 7)) }; // one clock for both servers, always moving on
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const waiting = new LogService(waitingStore(store, gate), testSigner(), { clock });
    const other = new LogService(store, testSigner(), { clock });
    const first = waiting.append(org, 'test', { n: 'waited for the lock' });
    for (let k = 0; k < 3; k++) await new Promise((resolve) => setImmediate(resolve)); // its batch is under way
    await other.append(org, 'test', { n: 'took the lock first' });
    open();
    await first;
    const { items } = await other.entries(org, 0);
    const entries = items.map((i) => JSON.parse(i.entry) as { n: string; time: string });
    expect(entries.map((e) => e.n)).toEqual(['took the lock first', 'waited for the lock']);
    expect(entries[1]!.time > entries[0]!.time, `${entries[1]!.time} after ${entries[0]!.time}`).toBe(true);
  });
});
