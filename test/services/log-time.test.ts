import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LogService } from '../../src/services/index.js';
import type { OrgRecord, SqlStore } from '../../src/store/index.js';
import { engines } from '../helpers/engines.js';
import { testSigner } from '../helpers/keys.js';

// Reliability report F14: with several servers writing, an entry's time was taken before the log lock, so
// times went backwards as the index grew. Two services on one database stand for two servers here, the
// second with a clock behind the first (as a server that read its clock before waiting for the lock is).
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

  it('never goes backwards as the index grows, whichever server sequences the entry', async () => {
    const ahead = new LogService(store, testSigner(), { clock: { now: () => new Date('2026-11-22T10:00:00.101Z') } });
    const behind = new LogService(store, testSigner(), { clock: { now: () => new Date('2026-11-22T10:00:00.000Z') } });
    await ahead.append(org, 'test', { n: 1 });
    await behind.append(org, 'test', { n: 2 });
    await Promise.all([ahead.append(org, 'test', { n: 3 }), behind.append(org, 'test', { n: 4 })]);
    const { items } = await behind.entries(org, 0);
    const times = items.map((i) => (JSON.parse(i.entry) as { time: string }).time);
    expect(times).toHaveLength(4);
    for (let k = 1; k < times.length; k++) expect(times[k]! >= times[k - 1]!, `entry ${k}: ${times[k]} after ${times[k - 1]}`).toBe(true);
    expect(times[0]).toBe('2026-11-22T10:00:00.101Z');
  });
});
