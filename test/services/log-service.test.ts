import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromHex } from '../../src/core/index.js';
import { canonicalJson } from '../../src/formats/index.js';
import { leafHash, openCheckpoint, parseVerifierKey, verifyConsistency, verifyInclusion } from '../../src/ledger/index.js';
import { LogService } from '../../src/services/index.js';
import type { OrgRecord, SqlStore } from '../../src/store/index.js';
import { engines } from '../helpers/engines.js';
import { testSigner } from '../helpers/keys.js';

const enc = new TextEncoder();

describe.each(engines())('log service on $name', (engine) => {
  let store: SqlStore;
  let cleanup: () => Promise<void>;
  let log: LogService;
  let org: OrgRecord;
  let transactions = 0;
  const fixed = new Date('2026-11-22T10:00:00.000Z');

  beforeAll(async () => {
    const opened = await engine.open();
    store = opened.store;
    cleanup = opened.cleanup;
    const append = store.log.append.bind(store.log);
    store.log.append = (...args) => {
      transactions++;
      return append(...args);
    };
    log = new LogService(store, testSigner(), { clock: { now: () => fixed }, maxBatch: 100 });
    org = await store.orgs.create('acme', fixed.toISOString());
  });
  afterAll(async () => cleanup());

  it('writes entries as RFC 8785 canonical JSON of {v, type, org, time, ...record}', async () => {
    const e = await log.append(org, 'flow.created', { name: 'runner', z: [3, 1], a: { y: 1, b: 'é' } });
    expect(e.index).toBe(0);
    expect(e.entry).toBe('{"a":{"b":"é","y":1},"name":"runner","org":"acme","time":"2026-11-22T10:00:00.000Z","type":"flow.created","v":1,"z":[3,1]}');
    expect(e.leafHash).toBe(Buffer.from(leafHash(enc.encode(e.entry))).toString('hex'));
    expect(canonicalJson(JSON.parse(e.entry))).toBe(e.entry);
  });

  it('rejects bad entries before they can spoil a shared batch', async () => {
    expect(() => log.append(org, 'Bad Type', {})).toThrow(/entry type/);
    expect(() => log.append(org, 'x', { org: 'other' })).toThrow(/reserved/);
    expect(() => log.append(org, 'x', { n: Number.NaN })).toThrow();
    const sizeBefore = await log.size(org);
    const results = await Promise.allSettled([log.append(org, 'ok', { i: 1 }), Promise.resolve().then(() => log.append(org, 'x', { bad: () => 1 }))]);
    expect(results[0]!.status).toBe('fulfilled');
    expect(results[1]!.status).toBe('rejected');
    expect(await log.size(org)).toBe(sizeBefore + 1);
  });

  it('group-commits concurrent appends: gap-free, duplicate-free, fewer transactions than entries', async () => {
    const start = await log.size(org);
    transactions = 0;
    const n = 1000;
    const results = await Promise.all(Array.from({ length: n }, (_, i) => log.append(org, 'test', { i })));
    const indexes = results.map((r) => r.index).sort((a, b) => a - b);
    expect(indexes).toEqual(Array.from({ length: n }, (_, i) => start + i));
    expect(transactions).toBeGreaterThanOrEqual(n / 100); // maxBatch 100
    expect(transactions).toBeLessThan(n / 10);
    // each caller got back its own entry
    for (const r of results) expect(JSON.parse(r.entry).i).toBe(results.indexOf(r));
  });

  it('serves a signed checkpoint whose every inclusion and consistency proof verifies', async () => {
    const note = await log.checkpoint(org);
    const verifier = parseVerifierKey(log.verifierKeyFor(org));
    const cp = openCheckpoint(note, [verifier]);
    // C2SP tlog-checkpoint: the key name is the origin (interop W1)
    expect(cp.origin).toBe(verifier.name);
    expect(cp.origin).toMatch(/\/acme$/);
    expect(note).toMatch(new RegExp(`\n— ${cp.origin} `));
    expect(cp.size).toBe(await log.size(org));
    const { items: entries } = await log.entries(org, 0, cp.size);
    expect(entries).toHaveLength(Math.min(cp.size, log.maxRange));
    for (let index = 0; index < cp.size; index += 37) {
      const proof = await log.inclusionProof(org, index);
      expect(proof.treeSize).toBe(cp.size);
      verifyInclusion(index, cp.size, fromHex(proof.leafHash), proof.hashes.map((h) => fromHex(h)), cp.root);
    }
    const byLeaf = await log.inclusionProofByLeaf(org, entries[5]!.leafHash);
    expect(byLeaf.index).toBe(5);
    // a proof against an older size verifies against that size's root
    const older = await log.inclusionProof(org, 3, 10);
    const c = await log.consistencyProof(org, 10, cp.size);
    expect(older.treeSize).toBe(10);
    expect(c.hashes.length).toBeGreaterThan(0);
    const leaves = (await log.entries(org, 0, 10)).items.map((e) => fromHex(e.leafHash));
    const { rootOfLeaves } = await import('../../src/ledger/index.js');
    const root10 = rootOfLeaves(leaves);
    verifyInclusion(3, 10, fromHex(older.leafHash), older.hashes.map((h) => fromHex(h)), root10);
    verifyConsistency(10, cp.size, c.hashes.map((h) => fromHex(h)), root10, cp.root);
  });

  it('rejects proofs it cannot give with clear errors', async () => {
    const size = await log.size(org);
    await expect(log.inclusionProof(org, size)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(log.inclusionProof(org, 0, size + 1)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(log.consistencyProof(org, 5, 4)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(log.inclusionProofByLeaf(org, 'ab'.repeat(32))).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(log.inclusionProofByLeaf(org, 'not-hex')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(log.entries(org, size + 1, size + 2)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('writes projections with their entries, and a failing projection fails only its own caller', async () => {
    const start = await log.size(org);
    const names = ['p1', 'p2', 'p1', 'p3']; // the second p1 conflicts inside the same batch
    const results = await Promise.allSettled(
      names.map((name) =>
        log.append(org, 'flow.created', { name }, (records, e) =>
          records.insertFlow({ orgId: org.id, name, description: '', template: null, createdAt: e.time, archivedAt: null, entryIndex: e.index }),
        ),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect((results[2] as PromiseRejectedResult).reason).toMatchObject({ code: 'CONFLICT' });
    const ok = results.filter((r) => r.status === 'fulfilled').map((r) => (r as PromiseFulfilledResult<{ index: number; value: { name: string; entryIndex: number } }>).value);
    expect(ok.map((r) => r.index)).toEqual([start, start + 1, start + 2]);
    for (const r of ok) expect(r.value.entryIndex).toBe(r.index);
    expect(await log.size(org)).toBe(start + 3);
    const p3 = await store.records.flow(org.id, 'p3');
    expect(p3?.entryIndex).toBe(start + 2);
  });

  it('attestation rows (deferred to one INSERT per batch on PostgreSQL) are the records returned, in log order; a bad one fails only its caller', async () => {
    const flow = (await log.append(org, 'flow.created', { name: 'att' }, (records, e) =>
      records.insertFlow({ orgId: org.id, name: 'att', description: '', template: null, createdAt: e.time, archivedAt: null, entryIndex: e.index }))).value;
    const trail = (await log.append(org, 'trail.begun', { name: 't' }, (records, e) => records.insertTrail({
      orgId: org.id, flowId: flow.id, name: 't', description: '', gitCommit: null, commitUrl: null, originUrl: null, userData: null, template: null,
      createdAt: e.time, entryIndex: e.index,
    }))).value;
    const attest = (name: string, trailId: number) => log.append(org, 'attestation.reported', { name }, (records, e) => records.insertAttestation({
      orgId: org.id, flowId: flow.id, trailId, name, type: 'generic', artifactFingerprint: null, artifactName: null, gitCommit: null,
      compliant: name !== 'bad-but-valid', summary: { n: name }, description: `d-${name}`, userData: { u: 1 }, annotations: null, evidence: [],
      createdAt: e.time, entryIndex: e.index,
    }));
    const names = Array.from({ length: 40 }, (_, i) => `a${i}`);
    // One of them names a trail that does not exist: its row cannot be written (foreign key), on either engine.
    const results = await Promise.allSettled([...names.slice(0, 20).map((n) => attest(n, trail.id)), attest('orphan', 999_999), ...names.slice(20).map((n) => attest(n, trail.id))]);
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(1);
    expect((results[20] as PromiseRejectedResult).reason).toBeDefined();
    const ok = results.filter((r) => r.status === 'fulfilled').map((r) => (r as PromiseFulfilledResult<{ index: number; value: { id: number; name: string; entryIndex: number } }>).value);
    expect(ok.map((r) => r.value.name)).toEqual(names);
    const stored = await store.records.attestationsOfTrail(trail.id);
    // What each caller was given is the row stored, ids and entry indexes both growing in log order.
    expect(stored.map((a) => ({ id: a.id, name: a.name, entryIndex: a.entryIndex }))).toEqual(ok.map((r) => ({ id: r.value.id, name: r.value.name, entryIndex: r.index })));
    expect(stored.map((a) => a.id)).toEqual([...stored.map((a) => a.id)].sort((x, y) => x - y));
    expect(stored[3]).toMatchObject({ summary: { n: 'a3' }, description: 'd-a3', userData: { u: 1 }, compliant: true, evidence: [] });
    // A later batch takes later ids: none is reused.
    const later = await attest('later', trail.id);
    expect(later.value.id).toBeGreaterThan(Math.max(...stored.map((a) => a.id)));
  });

  it('a batch queues for the lock while the one before commits (PostgreSQL only), and a bad row in either batch fails only its own caller', async () => {
    const flow = (await log.append(org, 'flow.created', { name: 'overlap' }, (records, e) =>
      records.insertFlow({ orgId: org.id, name: 'overlap', description: '', template: null, createdAt: e.time, archivedAt: null, entryIndex: e.index }))).value;
    const trail = (await log.append(org, 'trail.begun', { name: 't' }, (records, e) => records.insertTrail({
      orgId: org.id, flowId: flow.id, name: 't', description: '', gitCommit: null, commitUrl: null, originUrl: null, userData: null, template: null,
      createdAt: e.time, entryIndex: e.index,
    }))).value;
    const attest = (name: string, trailId: number, during?: () => void) => log.append(org, 'attestation.reported', { name }, (records, e) => {
      during?.();
      return records.insertAttestation({
        orgId: org.id, flowId: flow.id, trailId, name, type: 'generic', artifactFingerprint: null, artifactName: null, gitCommit: null,
        compliant: true, summary: null, description: '', userData: null, annotations: null, evidence: [], createdAt: e.time, entryIndex: e.index,
      });
    });
    let inFlight = 0;
    let most = 0;
    const append = store.log.append.bind(store.log);
    store.log.append = async (...args) => {
      most = Math.max(most, ++inFlight);
      try {
        return await append(...args);
      } finally {
        inFlight--;
      }
    };
    try {
      // The second wave arrives while the first batch is in its transaction (from one of its projections):
      // it is pending when the first batch's rows are written. Each wave has one row that cannot be written.
      const second: ReturnType<typeof attest>[] = [];
      let sent = false;
      const enqueue = () => {
        if (sent) return;
        sent = true;
        for (let i = 0; i < 10; i++) second.push(attest(`w2-${i}`, i === 3 ? 999_999 : trail.id));
      };
      const first = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => attest(`w1-${i}`, i === 6 ? 999_999 : trail.id, i === 0 ? enqueue : undefined)));
      const rest = await Promise.allSettled(second);
      expect(first.map((r) => r.status === 'rejected')).toEqual(Array.from({ length: 10 }, (_, i) => i === 6));
      expect(rest.map((r) => r.status === 'rejected')).toEqual(Array.from({ length: 10 }, (_, i) => i === 3));
      const indexes = [...first, ...rest].flatMap((r) => (r.status === 'fulfilled' ? [r.value.index] : []));
      // Log order is arrival order, with no gap where the refused rows were.
      expect(indexes).toEqual(Array.from({ length: 18 }, (_, i) => indexes[0]! + i));
      expect(indexes[indexes.length - 1]).toBe((await log.size(org)) - 1);
      const stored = await store.records.attestationsOfTrail(trail.id);
      expect(stored.map((a) => a.name)).toEqual([...[0, 1, 2, 3, 4, 5, 7, 8, 9].map((i) => `w1-${i}`), ...[0, 1, 2, 4, 5, 6, 7, 8, 9].map((i) => `w2-${i}`)]);
      expect(most).toBe(engine.name === 'postgres' ? 2 : 1);
    } finally {
      store.log.append = append;
    }
  });

  it('answers appends made one after the other, each as soon as the one before is answered (none is left in the queue)', async () => {
    const before = await log.size(org);
    // Each caller appends again from its answer, while the queue's drain is finishing: the new entry must start a drain.
    // A few turns of the microtask queue between an answer and the next append (as a service's awaits add).
    const later = async (hops: number): Promise<void> => {
      for (let h = 0; h < hops; h++) await null;
    };
    for (let i = 0; i < 24; i++) {
      await later(i % 6);
      const done = await log.append(org, 'test.sequential', { i }, async (records) => {
        await records.flow(org.id, 'att');
      });
      expect(done.index).toBe(before + i);
    }
  });

  it('keeps each org in its own log', async () => {
    const other = await store.orgs.create('globex', fixed.toISOString());
    await log.append(other, 'test', { hello: 'globex' });
    expect(await log.size(other)).toBe(1);
    const note = await log.checkpoint(other);
    const cp = openCheckpoint(note, [parseVerifierKey(log.verifierKeyFor(other))]);
    expect(cp.origin.endsWith('/globex')).toBe(true);
    // another org's key (same Ed25519 key, another name) does not open it
    expect(() => openCheckpoint(note, [parseVerifierKey(log.verifierKeyFor(org))])).toThrow();
    expect(cp.size).toBe(1);
  });
});
