import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogHead, SqlStore } from '../../src/store/index.js';
import { engines } from '../helpers/engines.js';

// Concurrent head reads are shared (SqlLogStore.head): a caller never gets a read that started before it
// arrived, since that read may predate a commit the caller saw acknowledged.

describe.each(engines())('shared head reads on $name', (engine) => {
  let store: SqlStore;
  let cleanup: () => Promise<void>;
  let orgId: number;

  beforeAll(async () => {
    const opened = await engine.open();
    store = opened.store;
    cleanup = opened.cleanup;
    orgId = (await store.orgs.create('acme', new Date().toISOString())).id;
  });
  afterAll(async () => cleanup());

  it('callers arriving during a read share the next one, never the one in flight', async () => {
    const log = store.log as unknown as { readHead: (id: number) => Promise<LogHead> };
    const original = log.readHead;
    const pending: ((head: LogHead) => void)[] = [];
    log.readHead = () => new Promise<LogHead>((resolve) => pending.push(resolve));
    const head = (size: number): LogHead => ({ size, root: new Uint8Array(32), mapRoot: null });
    try {
      const first = store.log.head(orgId);
      const later = Array.from({ length: 5 }, () => store.log.head(orgId));
      expect(pending.length).toBe(1); // one read in flight; the five wait
      pending[0]!(head(1));
      expect((await first).size).toBe(1);
      await new Promise((r) => setImmediate(r));
      expect(pending.length).toBe(2); // one read for all five, started after the first ended
      const meanwhile = store.log.head(orgId); // arrives during the second read: waits for a third
      pending[1]!(head(2));
      expect((await Promise.all(later)).map((h) => h.size)).toEqual([2, 2, 2, 2, 2]);
      await new Promise((r) => setImmediate(r));
      expect(pending.length).toBe(3);
      pending[2]!(head(3));
      expect((await meanwhile).size).toBe(3);
    } finally {
      log.readHead = original;
    }
  });

  it('a failed read fails its callers only; the next caller reads again', async () => {
    const log = store.log as unknown as { readHead: (id: number) => Promise<LogHead> };
    const original = log.readHead;
    let calls = 0;
    log.readHead = (id: number) => (++calls === 1 ? Promise.reject(new Error('connection lost')) : original.call(store.log, id));
    try {
      const failing = store.log.head(orgId);
      const waiting = store.log.head(orgId);
      await expect(failing).rejects.toThrow('connection lost');
      expect((await waiting).size).toBe(0);
      expect((await store.log.head(orgId)).size).toBe(0);
      expect(calls).toBe(3);
    } finally {
      log.readHead = original;
    }
  });
});
