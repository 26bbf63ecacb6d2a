import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { changes, parseEventCursor, planEventPage, type EnvironmentEvent, type SnapshotSource } from '../../src/services/records/environment-events.js';
import type { ServiceBundle } from '../../src/services/index.js';
import type { OrgRecord, RunningArtifact, SnapshotRecord } from '../../src/store/index.js';
import { engines } from '../helpers/engines.js';
import { openServices } from '../helpers/services.js';

const fp = (c: string) => c.repeat(64);
const POOL = ['a', 'b', 'c', 'd', 'e', 'f'];

/** A running set: some of the pool, each with 1–3 instances (what a reporter could send). */
const runningSet = fc.subarray(POOL).chain((names) => fc.tuple(...names.map(() => fc.integer({ min: 1, max: 3 }))).map((counts) =>
  names.map((n, i) => ({ name: `img-${n}`, fingerprint: fp(n), instances: counts[i]! }))));

type Set = { name: string; fingerprint: string; instances: number }[];

/** Snapshots over sets, with a fake store that counts what it is asked to read. */
function fakeSource(sets: Set[]) {
  const snaps = sets.map((s, i) => ({
    snapshot: { id: 100 + i, envId: 1, index: i + 1, createdAt: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString(), entryIndex: 10 + i } as SnapshotRecord,
    running: s.map((a) => ({ ...a, sinceIndex: 1 })) as RunningArtifact[],
  }));
  const stats = { read: 0 };
  const source: SnapshotSource = {
    async read(top, count) {
      const hi = top === null ? snaps.length : Math.min(top, snaps.length);
      const out = snaps.slice(Math.max(0, hi - count), hi).reverse();
      stats.read += out.length;
      return out;
    },
  };
  const all = snaps.flatMap((s, i) => changes(i > 0 ? snaps[i - 1]!.running : [], s.running, s.snapshot));
  return { source, stats, all };
}

const key = (e: EnvironmentEvent) => `${e.snapshot}/${e.type}/${e.fingerprint}`;
const countBy = (events: EnvironmentEvent[]) => events.reduce((m, e) => m.set(e.snapshot, (m.get(e.snapshot) ?? 0) + 1), new Map<number, number>());

describe('environment events paged by events (issue #21)', () => {
  it('loses and repeats no event, never passes the limit, splits only a snapshot larger than it, reads O(page)', async () => {
    await fc.assert(fc.asyncProperty(fc.array(runningSet, { minLength: 0, maxLength: 30 }), fc.integer({ min: 1, max: 9 }), async (sets, limit) => {
      const { source, stats, all } = fakeSource(sets);
      const perSnapshot = countBy(all);
      const pages: EnvironmentEvent[][] = [];
      let cursor: string | null = null;
      for (let guard = 0; ; guard++) {
        expect(guard).toBeLessThan(all.length + sets.length + 2);
        stats.read = 0;
        const page = await planEventPage(source, parseEventCursor(cursor), limit);
        const events = page.snapshots.flatMap((s) => s.events);
        expect(events.length).toBeLessThanOrEqual(limit);
        expect(page.snapshots.length).toBeLessThanOrEqual(limit);
        // What it read: the page, the snapshot before it, and at most one read past what fits.
        expect(stats.read).toBeLessThanOrEqual(page.snapshots.length + Math.min(64, limit + 1) + 2);
        // A snapshot part on a page: only one that alone is over the limit, and then alone on the page unless it is its first events.
        for (const s of page.snapshots) {
          const whole = perSnapshot.get(s.snapshot.index) ?? 0;
          if (s.events.length !== whole) expect(whole).toBeGreaterThan(limit);
        }
        if (page.previous) expect(page.previous.snapshot.index).toBe(page.snapshots[0]!.snapshot.index - 1);
        pages.push(events);
        if (page.nextCursor === null) break;
        expect(page.snapshots.length).toBeGreaterThan(0);
        cursor = page.nextCursor;
      }
      const joined = pages.reverse().flat();
      expect(joined.map(key)).toEqual(all.map(key));
      expect(joined).toEqual(all);
    }), { numRuns: 300 });
  });

  it('shows every snapshot, those with no change too, once (their verdicts are on the page)', async () => {
    await fc.assert(fc.asyncProperty(fc.array(runningSet, { minLength: 1, maxLength: 20 }), fc.integer({ min: 1, max: 5 }), async (sets, limit) => {
      const { source, all } = fakeSource(sets);
      const perSnapshot = countBy(all);
      const pagesOf = new Map<number, number>();
      let cursor: string | null = null;
      do {
        const page = await planEventPage(source, parseEventCursor(cursor), limit);
        for (const s of page.snapshots) pagesOf.set(s.snapshot.index, (pagesOf.get(s.snapshot.index) ?? 0) + 1);
        cursor = page.nextCursor;
      } while (cursor !== null);
      expect([...pagesOf.keys()].sort((x, y) => x - y)).toEqual(sets.map((_, i) => i + 1));
      // On more than one page only when split, and then on as many as its events need.
      for (const [index, pages] of pagesOf) expect([index, pages]).toEqual([index, Math.max(1, Math.ceil((perSnapshot.get(index) ?? 0) / limit))]);
    }), { numRuns: 200 });
  });
});

describe.each(engines())('environment events paged by events through the store on $name', (engine) => {
  let services: ServiceBundle;
  let org: OrgRecord;
  let cleanup: () => Promise<void>;
  let n = 0;

  beforeAll(async () => {
    ({ services, org, cleanup } = await openServices(engine));
  });
  afterAll(async () => cleanup());

  it('the pages of any history, at any limit, are its events once each', async () => {
    await fc.assert(fc.asyncProperty(fc.array(runningSet, { minLength: 1, maxLength: 12 }), fc.integer({ min: 1, max: 7 }), async (sets, limit) => {
      const env = `paging-${n++}`;
      await services.environments.create(org, { name: env, type: 'k8s' });
      for (const s of sets) await services.environments.report(org, env, s);
      const all = (await services.environments.events(org, env, null, 1000)).items;
      const pages: EnvironmentEvent[][] = [];
      let cursor: string | null = null;
      do {
        const page = await services.environments.eventPage(org, env, cursor, limit);
        expect(page.items.length).toBeLessThanOrEqual(limit);
        expect(page.snapshots.map((s) => s.snapshot.index)).toEqual([...new Set(page.items.map((e) => e.snapshot))]);
        pages.push(page.items);
        cursor = page.nextCursor;
      } while (cursor !== null);
      expect(pages.reverse().flat()).toEqual(all);
    }), { numRuns: 10 });
  });
});
