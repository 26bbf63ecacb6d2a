import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { subjectKey } from '../../src/ledger/index.js';
import { LogService } from '../../src/services/index.js';
import { mapFromLog } from '../../src/services/log-map.js';
import type { OrgRecord, SqlStore } from '../../src/store/index.js';
import { engines } from '../helpers/engines.js';
import { testSigner } from '../helpers/keys.js';

// Several log services on one database, as several servers sharing it (docs/log.md, "Storage and trust"):
// each keeps the subject map it verified, and catches up from the entries another one appended.

const FP = (n: number) => n.toString(16).padStart(64, '0');

type Op = { by: number; kind: 'artifact' | 'attestation' | 'note'; n: number; trail: number };

const op: fc.Arbitrary<Op> = fc.record({
  by: fc.integer({ min: 0, max: 2 }), kind: fc.constantFrom('artifact' as const, 'attestation' as const, 'note' as const),
  n: fc.integer({ min: 0, max: 5 }), trail: fc.integer({ min: 0, max: 2 }),
});

describe.each(engines())('subject map shared by several servers on $name', (engine) => {
  let store: SqlStore;
  let cleanup: () => Promise<void>;
  let orgs = 0;

  beforeAll(async () => {
    const opened = await engine.open();
    store = opened.store;
    cleanup = opened.cleanup;
  });
  afterAll(async () => cleanup());

  const newOrg = (): Promise<OrgRecord> => store.orgs.create(`org-${++orgs}`, new Date().toISOString());

  async function append(svc: LogService, org: OrgRecord, o: Op): Promise<void> {
    const trail = `t${o.trail}`;
    if (o.kind === 'artifact') await svc.append(org, 'artifact.reported', { flow: 'f', trail, artifact: 'a', fingerprint: FP(o.n) });
    else if (o.kind === 'attestation') await svc.append(org, 'attestation.reported', { flow: 'f', trail, artifact_fingerprint: FP(o.n), name: 'x' });
    else await svc.append(org, 'note', { text: String(o.n) });
  }

  /**
   * The leaves table's invariant: with L its highest index, it holds the latest entry of every subject whose
   * latest is ≤ L; a subject moved after L has no row, or a row of an earlier entry (≤ L).
   */
  async function checkTable(org: OrgRecord): Promise<void> {
    const head = await store.log.head(org.id);
    const truth = (await mapFromLog((s, e) => store.log.entries(org.id, s, e), head.size)).leaves;
    const last = (await store.log.lastMapLeafIndex(org.id)) ?? -1;
    const table = new Map((await store.log.mapLeaves(org.id, 0)).map((l) => [l.subject, l.index]));
    for (const l of truth) {
      if (l.index <= last) expect(table.get(l.subject)).toBe(l.index);
      else expect(table.get(l.subject) ?? -1).toBeLessThanOrEqual(last);
    }
    expect(table.size).toBeLessThanOrEqual(truth.length);
  }

  it('links every entry and keeps the leaves table whole, whichever server appends or writes the leaves', async () => {
    await fc.assert(fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 24 }), async (ops) => {
      const org = await newOrg();
      const servers = [
        new LogService(store, testSigner(), { mapFlush: { rows: 1_000_000, entries: 1_000_000 } }),
        new LogService(store, testSigner(), { mapFlush: { rows: 3, entries: 5 } }),
        new LogService(store, testSigner(), { mapFlush: { rows: 0, entries: 0 } }),
      ];
      for (const o of ops) {
        await append(servers[o.by]!, org, o);
        // mapFromLog checks every entry's prev links against the map it recomputes (TAMPERED otherwise).
        await checkTable(org);
      }
    }), { numRuns: engine.name === 'sqlite' ? 25 : 8 });
  });

  it('catches up from the entries another server appended, not from every entry since the leaves were last written', async () => {
    const org = await newOrg();
    const quiet = { mapFlush: { rows: 1_000_000, entries: 1_000_000 } };
    const first = new LogService(store, testSigner(), quiet);
    const second = new LogService(store, testSigner(), quiet);
    for (let i = 0; i < 40; i++) await append(first, org, { by: 0, kind: 'artifact', n: i, trail: i % 3 });
    await second.mapProof(org, subjectKey('artifact', FP(0)));
    for (let i = 40; i < 45; i++) await append(first, org, { by: 0, kind: 'artifact', n: i, trail: i % 3 });
    expect(await store.log.lastMapLeafIndex(org.id)).toBeNull();
    const read = vi.spyOn(store.log, 'entriesAt');
    try {
      const { proof } = await second.mapProof(org, subjectKey('artifact', FP(44)));
      expect(proof.leaf?.index).toBe(44);
      const indexes = read.mock.calls.flatMap(([, ix]) => [...ix]);
      expect(indexes.sort((a, b) => a - b)).toEqual([40, 41, 42, 43, 44]);
    } finally {
      read.mockRestore();
    }
  });
  it('a fresh server loading the map a page at a time while another server appends answers with the map, not TAMPERED', async () => {
    const org = await newOrg();
    const writer = new LogService(store, testSigner(), { mapFlush: { rows: 0, entries: 0 } });
    // 12 artifacts, each a subject with one leaf row; then each is reported again, so every row moves.
    for (let n = 0; n < 12; n++) await append(writer, org, { by: 0, kind: 'artifact', n, trail: 0 });
    // The fresh server reads the table 2 rows a page; after each page the writer moves every subject, deleting
    // rows the fresh server has not read yet (and writing new ones past the head it started from): a server
    // that appends all the time, as another server on a busy PostgreSQL does.
    let pages = 0;
    const spied = new Proxy(store, {
      get(target, prop, receiver) {
        if (prop !== 'log') return Reflect.get(target, prop, receiver);
        return new Proxy(target.log, {
          get(log, name, r) {
            const value = Reflect.get(log, name, r) as unknown;
            if (name !== 'mapLeaves' || typeof value !== 'function') return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(log) : value;
            return async (orgId: number, from: number, page?: unknown) => {
              const rows = await (value as (...a: unknown[]) => Promise<unknown>).call(log, orgId, from, page);
              if (page && ++pages < 1000) for (let n = 0; n < 12; n++) await append(writer, org, { by: 0, kind: 'artifact', n, trail: pages % 3 });
              return rows;
            };
          },
        });
      },
    }) as SqlStore;
    const fresh = new LogService(spied, testSigner(), { mapLoadPage: 2 });
    const at = vi.spyOn(fresh.maps, 'at');
    const proof = await fresh.mapProof(org, subjectKey('artifact', FP(3)));
    // The paged read stops at the head it started from (it does not chase the writer), fails the root check
    // (rows it had not read were deleted), and the retry reads the table in one statement, which the writer
    // cannot split.
    expect(pages).toBeLessThanOrEqual(3);
    expect(at.mock.calls.length).toBe(2);
    expect(proof.size).toBeGreaterThan(12);
  });
});
