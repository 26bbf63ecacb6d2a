import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  EMPTY_ROOT, mapHashOf, mapKey, mapProofFromJson, mapRootOf, openCheckpoint, parseVerifierKey, subjectKey, updateMap, verifyMapProof,
} from '../../src/ledger/index.js';
import { canonicalJson } from '../../src/formats/index.js';
import { LogService } from '../../src/services/index.js';
import { mapFromLog } from '../../src/services/log-map.js';
import type { OrgRecord, SqlStore } from '../../src/store/index.js';
import { engines } from '../helpers/engines.js';
import { testSigner } from '../helpers/keys.js';

const FP = (n: number) => n.toString(16).padStart(64, '0');
const prevOf = (entry: string) => (JSON.parse(entry) as { prev?: Record<string, number | null> }).prev;

describe.each(engines())('subject map on $name', (engine) => {
  let store: SqlStore;
  let cleanup: () => Promise<void>;
  let log: LogService;
  let org: OrgRecord;

  beforeAll(async () => {
    const opened = await engine.open();
    store = opened.store;
    cleanup = opened.cleanup;
    log = new LogService(store, testSigner(), { maxBatch: 7 });
    org = await store.orgs.create('acme', new Date().toISOString());
  });
  afterAll(async () => cleanup());

  const verifier = () => parseVerifierKey(log.verifierKeyFor(org));

  async function proven(subject: string): Promise<number | null> {
    const { checkpoint, proof, size } = await log.mapProof(org, subject);
    const cp = openCheckpoint(checkpoint, [verifier()]);
    expect(cp.size).toBe(size);
    const p = mapProofFromJson(proof);
    expect(p.key).toEqual(mapKey(subject));
    return verifyMapProof(mapRootOf(cp.extensions)!, p);
  }

  /**
   * A database of its own with the org acme and a LogService that writes the map's leaves at every batch (so a
   * test can edit the rows), closed after `use`.
   */
  async function withOwnLog(use: (log: { other: Awaited<ReturnType<typeof engine.open>>; o: OrgRecord; first: LogService }) => Promise<void>): Promise<void> {
    const other = await engine.open();
    try {
      const o = await other.store.orgs.create('acme', new Date().toISOString());
      await use({ other, o, first: new LogService(other.store, testSigner(), { mapFlush: { rows: 0, entries: 0 } }) });
    } finally {
      await other.cleanup();
    }
  }

  /** What an operator with the disk can do to the leaves table (rows are never updated: a trigger refuses it). */
  async function moveRow(db: SqlStore, orgId: number, subject: string, index: number): Promise<void> {
    await sql`DELETE FROM log_map_moves WHERE org_id = ${orgId} AND subject = ${subject}`.execute(db.db);
    await sql`INSERT INTO log_map_moves (org_id, entry_index, subject) VALUES (${orgId}, ${index}, ${subject})`.execute(db.db);
  }

  it('links each entry to the previous entry about each of its subjects, across batches', async () => {
    const a = await log.append(org, 'flow.created', { flow: 'app', description: '' });
    expect(prevOf(a.entry)).toEqual({ flow: null });
    const t = await log.append(org, 'trail.begun', { flow: 'app', trail: 't1' });
    expect(prevOf(t.entry)).toEqual({ trail: null });
    // Concurrent appends share batches of 7: links inside a batch and across batches.
    const reports = await Promise.all(Array.from({ length: 20 }, (_, i) =>
      log.append(org, 'artifact.reported', { flow: 'app', trail: 't1', artifact: `a${i % 3}`, fingerprint: FP(i % 3) })));
    const byIndex = [t, ...reports].sort((x, y) => x.index - y.index);
    for (let i = 1; i < byIndex.length; i++) expect(prevOf(byIndex[i]!.entry)!.trail).toBe(byIndex[i - 1]!.index);
    for (let k = 0; k < 3; k++) {
      const mine = reports.filter((r) => JSON.parse(r.entry).fingerprint === FP(k)).sort((x, y) => x.index - y.index);
      expect(prevOf(mine[0]!.entry)!.artifact).toBeNull();
      for (let i = 1; i < mine.length; i++) expect(prevOf(mine[i]!.entry)!.artifact).toBe(mine[i - 1]!.index);
    }
    const unrelated = await log.append(org, 'note', { text: 'no subject' });
    expect(prevOf(unrelated.entry)).toBeUndefined();
  });

  it('links a batch written again when a projection fails: the failing entry takes no index, and the map the first attempt began is dropped', async () => {
    // The first attempt hands the map thread the whole batch's moves before any projection runs; a projection
    // then fails, the attempt is rolled back and the batch is written again entry by entry without it.
    const before = await store.log.head(org.id);
    const fail = (i: number) => async () => { if (i === 3) throw new Error('projection refused'); };
    const settled = await Promise.allSettled(Array.from({ length: 7 }, (_, i) =>
      log.append(org, 'artifact.reported', { flow: 'app', trail: 't-retry', artifact: `r${i}`, fingerprint: FP(200 + (i % 2)) }, fail(i))));
    expect(settled.filter((s) => s.status === 'rejected')).toHaveLength(1);
    const kept = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : [])).sort((x, y) => x.index - y.index);
    expect(kept.map((k) => k.index)).toEqual(Array.from({ length: 6 }, (_, i) => before.size + i));
    for (let i = 1; i < kept.length; i++) expect(prevOf(kept[i]!.entry)!.trail).toBe(kept[i - 1]!.index);
    expect(prevOf(kept[0]!.entry)!.trail).toBeNull();
    // The writer writes `prev` itself (prevMember): the text must still be the entry's RFC 8785 form.
    for (const k of kept) expect(k.entry).toBe(canonicalJson(JSON.parse(k.entry)));
    expect(await proven(subjectKey('trail', 'app', 't-retry'))).toBe(kept.at(-1)!.index);
    const head = await store.log.head(org.id);
    const { root } = await mapFromLog((s, e) => store.log.entries(org.id, s, e), head.size);
    expect(mapHashOf(root)).toEqual(head.mapRoot);
    // And the next batch builds on the committed map, not on the dropped attempt's.
    const next = await log.append(org, 'artifact.reported', { flow: 'app', trail: 't-retry', artifact: 'r9', fingerprint: FP(200) });
    expect(prevOf(next.entry)).toEqual({ artifact: kept.filter((k) => JSON.parse(k.entry).fingerprint === FP(200)).at(-1)!.index, trail: kept.at(-1)!.index });
  });

  it('proves the latest entry of a subject, and the absence of an unknown one, against the signed map root', async () => {
    const last = await log.append(org, 'attestation.reported', { flow: 'app', trail: 't1', artifact_fingerprint: FP(1), name: 'x' });
    expect(await proven(subjectKey('artifact', FP(1)))).toBe(last.index);
    expect(await proven(subjectKey('trail', 'app', 't1'))).toBe(last.index);
    expect(await proven(subjectKey('artifact', FP(99)))).toBeNull();
    expect(await proven(subjectKey('environment', 'prod'))).toBeNull();
  });

  it('is recomputable from the log: the same root, and every prev link checked', async () => {
    const head = await store.log.head(org.id);
    const { root, linked } = await mapFromLog((s, e) => store.log.entries(org.id, s, e), head.size);
    expect(mapHashOf(root)).toEqual(head.mapRoot);
    expect(linked).toBeGreaterThan(20);
  });

  it('refuses to append or prove when a map row was edited', async () => {
    await withOwnLog(async ({ other, o, first }) => {
      await first.append(o, 'artifact.reported', { flow: 'f', trail: 't', artifact: 'a', fingerprint: FP(1) });
      await first.append(o, 'note', { text: 'later' });
      // Point the artifact's leaf at a later entry that is not about it.
      await moveRow(other.store, o.id, `["artifact","${FP(1)}"]`, 1);
      const fresh = new LogService(other.store, testSigner());
      await expect(fresh.append(o, 'artifact.reported', { flow: 'f', trail: 't', artifact: 'a', fingerprint: FP(1) })).rejects.toMatchObject({ code: 'TAMPERED' });
      await expect(fresh.mapProof(o, subjectKey('artifact', FP(1)))).rejects.toMatchObject({ code: 'TAMPERED' });
    });
  });

  it('loads the table without reading every entry, and refuses a row edited with the head when its subject is first used', async () => {
    await withOwnLog(async ({ other, o, first }) => {
      await first.append(o, 'artifact.reported', { flow: 'f', trail: 't', artifact: 'a', fingerprint: FP(1) });
      await first.append(o, 'artifact.reported', { flow: 'f', trail: 't2', artifact: 'b', fingerprint: FP(2) });
      await first.append(o, 'note', { text: 'later' });
      // Point FP(1)'s row at entry 1 (about FP(2)) and commit the head to the map those rows make.
      await moveRow(other.store, o.id, `["artifact","${FP(1)}"]`, 1);
      const rows = await other.store.log.mapLeaves(o.id, 0);
      const forged = mapHashOf(updateMap(null, rows.map((l) => ({ key: mapKey(l.subject), index: l.index }))));
      await sql`UPDATE log_heads SET map_root = ${Buffer.from(forged)} WHERE org_id = ${o.id}`.execute(other.store.db);
      const fresh = new LogService(other.store, testSigner());
      const read = vi.spyOn(other.store.log, 'entriesAt');
      // Another subject: its row is read and used, FP(1)'s entry is not read.
      const e = await fresh.append(o, 'artifact.reported', { flow: 'f', trail: 't3', artifact: 'c', fingerprint: FP(3) });
      expect(prevOf(e.entry)).toEqual({ artifact: null, trail: null });
      expect(read.mock.calls.flatMap(([, ix]) => [...ix])).not.toContain(1);
      read.mockRestore();
      // FP(1) itself: its row names an entry that is not about it (asked for its latest entry, linked or proved).
      await expect(fresh.latestAbout(o, [subjectKey('artifact', FP(1))])).rejects.toMatchObject({ code: 'TAMPERED' });
      await expect(fresh.append(o, 'attestation.reported', { flow: 'f', trail: 't', artifact_fingerprint: FP(1), name: 'x' })).rejects.toMatchObject({ code: 'TAMPERED' });
      await expect(fresh.mapProof(o, subjectKey('artifact', FP(1)))).rejects.toMatchObject({ code: 'TAMPERED' });
      // FP(2)'s row is true: it links and proves.
      const ok = await fresh.append(o, 'attestation.reported', { flow: 'f', trail: 't2', artifact_fingerprint: FP(2), name: 'y' });
      expect(prevOf(ok.entry)).toEqual({ artifact: 1, trail: 1 });
    });
  });

  it('loads the map before the first append when asked (a server at start), and the append waits for that load instead of making its own', async () => {
    await withOwnLog(async ({ other, o, first }) => {
      for (let i = 1; i <= 5; i++) await first.append(o, 'artifact.reported', { flow: 'f', trail: 't', artifact: 'a', fingerprint: FP(i) });
      const head = await other.store.log.head(o.id);
      const fresh = new LogService(other.store, testSigner());
      const warn = vi.fn();
      // Logs below the threshold are left to their first append.
      await fresh.preloadMaps(head.size + 1, warn);
      expect(fresh.maps.held(o.id, head)).toBeNull();
      const apply = vi.spyOn(fresh.maps.engine, 'apply');
      // The load is held at its read of the leaves until the append has had every chance to start its own.
      let release!: () => void;
      let reached!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const atLeaves = new Promise<void>((resolve) => (reached = resolve));
      const mapLeaves = other.store.log.mapLeaves.bind(other.store.log);
      vi.spyOn(other.store.log, 'mapLeaves').mockImplementation(async (id, from, page) => {
        reached();
        await gate;
        return mapLeaves(id, from, page);
      });
      const loading = fresh.preloadMaps(head.size, warn);
      await atLeaves;
      const appending = fresh.append(o, 'attestation.reported', { flow: 'f', trail: 't', artifact_fingerprint: FP(3), name: 'x' });
      await new Promise((resolve) => setTimeout(resolve, 100));
      release();
      const e = await appending;
      await loading;
      expect(warn).not.toHaveBeenCalled();
      expect(prevOf(e.entry)).toEqual({ artifact: 2, trail: 4 });
      // One load from nothing (the preload's), then the append's batch on top of it.
      expect(apply.mock.calls.map(([, base]) => base)).toEqual([0, head.size]);
      expect(fresh.maps.held(o.id, await other.store.log.head(o.id))).not.toBeNull();
    });
  });

  it('loads the table a page at a time (keys derived as pages come): the same map, superseded rows outweighed, a moved row refused', async () => {
    await withOwnLog(async ({ other, o, first }) => {
      // Several subjects per entry and subjects moved again: rows of one entry index span pages of 3.
      for (let i = 1; i <= 8; i++) {
        await first.append(o, 'artifact.reported', { flow: 'f', trail: `t${i % 3}`, artifact: 'a', fingerprint: FP(i % 5) });
      }
      await first.append(o, 'note', { text: 'after the last leaves' });
      // A superseded row left behind (another process flushed it first): older and true, outweighed by the newer one.
      await sql`INSERT INTO log_map_moves (org_id, entry_index, subject) VALUES (${o.id}, ${0}, ${`["artifact","${FP(1)}"]`})`.execute(other.store.db);
      const head = await other.store.log.head(o.id);
      const pages = vi.spyOn(other.store.log, 'mapLeaves');
      const fresh = new LogService(other.store, testSigner(), { mapLoadPage: 3 });
      const warn = vi.fn();
      await fresh.preloadMaps(0, warn);
      expect(warn).not.toHaveBeenCalled();
      const state = fresh.maps.held(o.id, head)!;
      expect(state).not.toBeNull();
      expect(pages.mock.calls.length).toBeGreaterThan(3);
      expect(pages.mock.calls.every(([, , page]) => page?.limit === 3)).toBe(true);
      // Every subject at its latest entry, as the map computed from the entries says.
      const { leaves } = await mapFromLog((s, e) => other.store.log.entries(o.id, s, e), head.size);
      expect(new Map(state.latest)).toEqual(new Map(leaves.map((l) => [l.subject, l.index])));
      const e = await fresh.append(o, 'attestation.reported', { flow: 'f', trail: 't1', artifact_fingerprint: FP(3), name: 'x' });
      // Entries 0–7 are i = 1–8: FP(3) last at i = 8, trail t1 at i = 7.
      expect(prevOf(e.entry)).toEqual({ artifact: 7, trail: 6 });
      pages.mockRestore();

      // A row moved to another entry of the table: the tree no longer makes the committed root.
      await moveRow(other.store, o.id, `["trail","f","t2"]`, 1);
      const again = new LogService(other.store, testSigner(), { mapLoadPage: 2 });
      const warned = vi.fn();
      await again.preloadMaps(0, warned);
      expect(warned).toHaveBeenCalledWith(expect.objectContaining({ id: o.id }), expect.objectContaining({ code: 'TAMPERED' }));
    });
  });

  it('reports edited rows found by a load at start, and the first append refuses them', async () => {
    await withOwnLog(async ({ other, o, first }) => {
      await first.append(o, 'artifact.reported', { flow: 'f', trail: 't', artifact: 'a', fingerprint: FP(1) });
      await first.append(o, 'note', { text: 'later' });
      await moveRow(other.store, o.id, `["artifact","${FP(1)}"]`, 1);
      const fresh = new LogService(other.store, testSigner());
      const warn = vi.fn();
      await fresh.preloadMaps(0, warn);
      expect(warn).toHaveBeenCalledTimes(1);
      expect(warn.mock.calls[0]![0]).toMatchObject({ name: 'acme' });
      expect(warn.mock.calls[0]![1]).toMatchObject({ code: 'TAMPERED' });
      await expect(fresh.append(o, 'note', { text: 'after' })).rejects.toMatchObject({ code: 'TAMPERED' });
    });
  });

  it('lets the leaves table lag the log: another process finds the later subjects from the entries, and a flush writes them all', async () => {
    const other = await engine.open();
    try {
      const o = await other.store.orgs.create('acme', new Date().toISOString());
      const lagging = new LogService(other.store, testSigner());
      await lagging.append(o, 'artifact.reported', { flow: 'f', trail: 't', artifact: 'a', fingerprint: FP(1) });
      await lagging.append(o, 'attestation.reported', { flow: 'f', trail: 't', artifact_fingerprint: FP(1), name: 'x' });
      await lagging.append(o, 'note', { text: 'about nothing' });
      // Nothing written yet (the default writes every few thousand moved subjects)...
      expect(await other.store.log.lastMapLeafIndex(o.id)).toBeNull();
      expect(await other.store.log.mapLeaves(o.id, 0)).toEqual([]);
      // ...yet another process links to the right entries and proves the right latest index.
      const second = new LogService(other.store, testSigner());
      const e = await second.append(o, 'artifact.reported', { flow: 'f', trail: 't2', artifact: 'a', fingerprint: FP(1) });
      expect(prevOf(e.entry)).toEqual({ artifact: 1, trail: null });
      const { checkpoint, proof } = await second.mapProof(o, subjectKey('artifact', FP(1)));
      const cp = openCheckpoint(checkpoint, [parseVerifierKey(second.verifierKeyFor(o))]);
      expect(verifyMapProof(mapRootOf(cp.extensions)!, mapProofFromJson(proof))).toBe(3);
      // The first process, whose cached map is now behind, catches up the same way.
      const again = await lagging.append(o, 'attestation.reported', { flow: 'f', trail: 't2', artifact_fingerprint: FP(1), name: 'y' });
      expect(prevOf(again.entry)).toEqual({ artifact: 3, trail: 3 });
      // A flush writes every leaf not yet written, the ones moved by the other process included.
      const flushing = new LogService(other.store, testSigner(), { mapFlush: { rows: 0, entries: 0 } });
      await flushing.append(o, 'note', { text: 'flush' });
      const head = await other.store.log.head(o.id);
      const { leaves } = await mapFromLog((s, e2) => other.store.log.entries(o.id, s, e2), head.size);
      const table = await other.store.log.mapLeaves(o.id, 0);
      const asMap = (rows: { subject: string; index: number }[]) => new Map(rows.map((l) => [l.subject, l.index]));
      expect(asMap(table)).toEqual(asMap(leaves));
      expect(table).toHaveLength(leaves.length);
      expect(await other.store.log.lastMapLeafIndex(o.id)).toBe(4);
    } finally {
      await other.cleanup();
    }
  });

  it('keeps one row per subject: a flush appends its leaves and deletes the rows they supersede', async () => {
    await withOwnLog(async ({ other, o, first }) => {
      const artifact = subjectKey('artifact', FP(1));
      const trail = subjectKey('trail', 'f', 't');
      await first.append(o, 'artifact.reported', { flow: 'f', trail: 't', artifact: 'a', fingerprint: FP(1) });
      await first.append(o, 'attestation.reported', { flow: 'f', trail: 't', artifact_fingerprint: FP(1), name: 'x' });
      await first.append(o, 'note', { text: 'about nothing' });
      const rows = await other.store.log.mapLeaves(o.id, 0);
      expect(rows.map((l) => [l.subject, l.index]).sort()).toEqual([[artifact, 1], [trail, 1]].sort());
      expect(await other.store.log.mapLeaves(o.id, 1)).toHaveLength(2);
      expect(await other.store.log.mapLeaves(o.id, 2)).toEqual([]);
      // Rows are never updated.
      await expect(sql`UPDATE log_map_moves SET entry_index = 2 WHERE org_id = ${o.id}`.execute(other.store.db)).rejects.toThrow();
    });
  });

  it('outweighs a superseded row left behind with the newer one, and refuses a table whose standing row was deleted', async () => {
    await withOwnLog(async ({ other, o, first }) => {
      const artifact = subjectKey('artifact', FP(1));
      await first.append(o, 'artifact.reported', { flow: 'f', trail: 't', artifact: 'a', fingerprint: FP(1) });
      await first.append(o, 'attestation.reported', { flow: 'f', trail: 't', artifact_fingerprint: FP(1), name: 'x' });
      // A superseded row (true when it was written) back in the table: the newer row stands.
      await sql`INSERT INTO log_map_moves (org_id, entry_index, subject) VALUES (${o.id}, 0, ${artifact})`.execute(other.store.db);
      const fresh = new LogService(other.store, testSigner(), { mapFlush: { rows: 0, entries: 0 } });
      const e = await fresh.append(o, 'attestation.reported', { flow: 'f', trail: 't', artifact_fingerprint: FP(1), name: 'y' });
      expect(prevOf(e.entry)).toEqual({ artifact: 1, trail: 1 });
      const { proof } = await fresh.mapProof(o, artifact);
      expect(mapProofFromJson(proof).leaf?.index).toBe(2);
      // The new row superseded entry 1's; the row put back is left, outweighed.
      expect((await other.store.log.mapLeaves(o.id, 0)).filter((l) => l.subject === artifact).map((l) => l.index)).toEqual([0, 2]);
      // The standing row deleted: the older one would stand, and the map it makes is not the signed one.
      await sql`DELETE FROM log_map_moves WHERE org_id = ${o.id} AND subject = ${artifact} AND entry_index = 2`.execute(other.store.db);
      const later = new LogService(other.store, testSigner());
      await expect(later.append(o, 'note', { text: 'after' })).rejects.toMatchObject({ code: 'TAMPERED' });
    });
  });

  it('writes the leaves once the oldest unwritten one is far enough behind, even with few subjects', async () => {
    const other = await engine.open();
    try {
      const o = await other.store.orgs.create('acme', new Date().toISOString());
      const svc = new LogService(other.store, testSigner(), { mapFlush: { rows: 1000, entries: 3 } });
      await svc.append(o, 'artifact.reported', { flow: 'f', trail: 't', artifact: 'a', fingerprint: FP(1) });
      await svc.append(o, 'note', { text: '1' });
      expect(await other.store.log.lastMapLeafIndex(o.id)).toBeNull();
      await svc.append(o, 'note', { text: '2' });
      expect(await other.store.log.lastMapLeafIndex(o.id)).toBe(0);
      expect((await other.store.log.mapLeaves(o.id, 0)).map((l) => l.subject).sort()).toEqual([subjectKey('artifact', FP(1)), subjectKey('trail', 'f', 't')].sort());
    } finally {
      await other.cleanup();
    }
  });

  it('builds the map of a log written before it existed, and links new entries to the old ones', async () => {
    const other = await engine.open();
    try {
      const o = await other.store.orgs.create('acme', new Date().toISOString());
      // Entries without links and a head without a map root: a log from before migration 0019.
      const old = '{"artifact":"a","fingerprint":"' + FP(5) + '","flow":"f","org":"acme","time":"2026-01-01T00:00:00.000Z","trail":"t","type":"artifact.reported","v":1}';
      const { leafHash, appendLeaves } = await import('../../src/ledger/index.js');
      const leaf = leafHash(new TextEncoder().encode(old));
      const next = appendLeaves(0, [], [leaf]);
      await other.store.log.append(o.id, () => ({ entries: [{ index: 0, leafHash: leaf, entry: old }], hashes: next.stored, root: next.root }), new Date().toISOString());
      expect((await other.store.log.head(o.id)).mapRoot).toBeNull();
      const svc = new LogService(other.store, testSigner());
      await expect(svc.mapProof(o, subjectKey('artifact', FP(5)))).rejects.toMatchObject({ code: 'NOT_FOUND' });
      expect(openCheckpoint(await svc.checkpoint(o), [parseVerifierKey(svc.verifierKeyFor(o))]).extensions).toEqual([]);
      const e = await svc.append(o, 'artifact.reported', { flow: 'f', trail: 't', artifact: 'a', fingerprint: FP(5) });
      expect(prevOf(e.entry)).toEqual({ artifact: 0, trail: 0 });
      const { checkpoint, proof } = await svc.mapProof(o, subjectKey('artifact', FP(5)));
      const cp = openCheckpoint(checkpoint, [parseVerifierKey(svc.verifierKeyFor(o))]);
      expect(verifyMapProof(mapRootOf(cp.extensions)!, mapProofFromJson(proof))).toBe(1);
      expect(cp.root).not.toEqual(EMPTY_ROOT);
    } finally {
      await other.cleanup();
    }
  });
});
