import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LogService } from '../../src/services/index.js';
import { ProjectionCheck } from '../../src/services/records/projection-check.js';
import type { LogHead, OrgRecord, SqlStore } from '../../src/store/index.js';
import { engines } from '../helpers/engines.js';
import { testSigner } from '../helpers/keys.js';

// ProjectionCheck plans the stored hashes a check reads from the subtrees it knows, reads them, then checks.
// Another check can remember subtrees meanwhile (it may even have checked against an older head, whose largest
// perfect subtree is not the largest of the current one). The check must meet the subtrees its plan met, or it
// asks for a stored hash it did not read and answers TAMPERED for an honest log.

describe.each(engines())('concurrent decision checks on $name', (engine) => {
  let store: SqlStore;
  let cleanup: () => Promise<void>;
  let org: OrgRecord;
  let oldest: LogHead;
  let older: LogHead;

  beforeAll(async () => {
    const opened = await engine.open();
    store = opened.store;
    cleanup = opened.cleanup;
    org = await store.orgs.create('acme', new Date().toISOString());
    const log = new LogService(store, testSigner());
    const append = (n: number) => Promise.all(Array.from({ length: n }, (_, i) => log.append(org, 'note', { i })));
    await append(100);
    oldest = await store.log.head(org.id); // its largest perfect subtree: entries 0–63
    await append(500);
    older = await store.log.head(org.id); // its largest perfect subtree: entries 0–511
    await append(500); // 1,100: now entries 0–1023 make one
    await log.settled();
  });
  afterAll(async () => cleanup());

  it('a check whose reads are under way is not misled by subtrees another check remembers meanwhile', async () => {
    let gate!: () => void;
    const opened = new Promise<void>((resolve) => (gate = resolve));
    let mode: 'slow' | 'oldest' | 'old' | 'plain' = 'oldest';
    const spied = new Proxy(store, {
      get(target, prop, receiver) {
        if (prop !== 'log') return Reflect.get(target, prop, receiver);
        return new Proxy(target.log, {
          get(log, name) {
            if (name === 'head' && mode !== 'slow' && mode !== 'plain') return async () => (mode === 'old' ? older : oldest);
            if (name === 'readHashes' && mode === 'slow') {
              return async (...args: Parameters<typeof log.readHashes>) => {
                const read = await log.readHashes(...args);
                await opened;
                return read;
              };
            }
            const value = Reflect.get(log, name) as unknown;
            return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(log) : value;
          },
        });
      },
    }) as SqlStore;
    const check = new ProjectionCheck(spied);
    // A check against the head of 100 binds the subtree of entries 0–63 (the largest of that tree).
    await check.entries(org, [50]);
    // Entries 6 and 1050 against the head of 1,100: entry 6 is planned against the subtree 0–63, so only the
    // hashes beside its path inside it are read, and entry 1050 against the root.
    mode = 'slow';
    const first = check.entries(org, [6, 1050]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    // Meanwhile a check against the head of 600 binds the subtree of entries 0–511 (the largest of that tree).
    mode = 'old';
    await check.entries(org, [300]);
    mode = 'plain';
    gate();
    const checked = await first;
    expect([...checked.keys()].sort((a, b) => a - b)).toEqual([6, 1050]);
    // And what both remembered serves the next check.
    expect((await check.entries(org, [7, 1051])).size).toBe(2);
  });
});
