import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { fromHex } from '../../src/core/index.js';
import { openCheckpoint, parseVerifierKey, storedHashIndex, verifyInclusion } from '../../src/ledger/index.js';
import { LogService } from '../../src/services/index.js';
import type { OrgRecord, SqlStore } from '../../src/store/index.js';
import { engines } from '../helpers/engines.js';
import { testSigner } from '../helpers/keys.js';
import { dropTriggers } from '../helpers/tamper.js';

// Inclusion proofs are checked against the signed head before they are served, and the full hash tiles they
// were built from are kept (src/services/log-proofs.ts). A stored hash edited behind the server must never be
// served: a fresh server answers TAMPERED; a warm one keeps the value it checked before the edit.

const SIZE = 600; // two full level-0 tiles (256 leaves each) and a partial one

describe.each(engines())('verified inclusion proofs on $name', (engine) => {
  let store: SqlStore;
  let cleanup: () => Promise<void>;
  let org: OrgRecord;
  const signer = testSigner();
  const fresh = () => new LogService(store, signer);

  /** A proof as a client checks it: against the signed checkpoint's root. */
  async function checked(log: LogService, index: number, treeSize?: number): Promise<string[]> {
    const cp = openCheckpoint(await log.checkpoint(org), [parseVerifierKey(log.verifierKeyFor(org))]);
    const proof = await log.inclusionProof(org, index, treeSize);
    if (treeSize === undefined) verifyInclusion(index, cp.size, fromHex(proof.leafHash), proof.hashes.map((h) => fromHex(h)), cp.root);
    return proof.hashes;
  }

  async function editHash(level: number, n: number): Promise<Uint8Array> {
    await dropTriggers(store);
    const hidx = storedHashIndex(level, n);
    const { rows } = await sql<{ hash: Uint8Array }>`SELECT hash FROM log_hashes WHERE org_id = ${org.id} AND hidx = ${hidx}`.execute(store.db);
    const original = new Uint8Array(rows[0]!.hash);
    const edited = Buffer.from(original);
    edited[0] = edited[0]! ^ 0xff;
    await sql`UPDATE log_hashes SET hash = ${edited} WHERE org_id = ${org.id} AND hidx = ${hidx}`.execute(store.db);
    return original;
  }

  async function restoreHash(level: number, n: number, original: Uint8Array): Promise<void> {
    await sql`UPDATE log_hashes SET hash = ${Buffer.from(original)} WHERE org_id = ${org.id} AND hidx = ${storedHashIndex(level, n)}`.execute(store.db);
  }

  beforeAll(async () => {
    const opened = await engine.open();
    store = opened.store;
    cleanup = opened.cleanup;
    org = await store.orgs.create('acme', new Date().toISOString());
    const log = fresh();
    await Promise.all(Array.from({ length: SIZE }, (_, i) => log.append(org, 'test', { i })));
  });
  afterAll(async () => cleanup());

  it('serves proofs that verify, from kept tiles after the first read, for every index and older tree sizes', async () => {
    const log = fresh();
    for (const index of [0, 1, 255, 256, 300, 511, 512, 599]) expect((await checked(log, index)).length).toBeGreaterThan(0);
    expect(log.proofs.kept.tiles).toBe(2); // the two full level-0 tiles; the third is still filling
    const reads = store.log.readHashes.bind(store.log);
    let statements = 0;
    store.log.readHashes = (...args) => (statements++, reads(...args));
    try {
      const again = await checked(log, 300);
      // 300's proof: its tile's nodes, then the right edge's subtrees (kept once checked).
      expect(statements).toBe(0);
      expect(again).toEqual(await checked(fresh(), 300));
    } finally {
      store.log.readHashes = reads;
    }
    // An older tree size: checked against the root of that tree, itself consistent with the signed head.
    const older = await log.inclusionProof(org, 100, 400);
    expect(older.treeSize).toBe(400);
    expect(older.hashes).toEqual((await fresh().inclusionProof(org, 100, 400)).hashes);
  });

  it('a proof whose stored hashes were edited is TAMPERED, on a fresh server and on a warm one that must read them', async () => {
    const warm = fresh();
    await checked(warm, 10); // keeps tile 0
    // A leaf hash in tile 1 (not kept by `warm`), and a hash of the partial tile's leaves that proofs read alone.
    const edited = await editHash(0, 300);
    try {
      await expect(fresh().inclusionProof(org, 300)).rejects.toMatchObject({ code: 'TAMPERED' });
      await expect(warm.inclusionProof(org, 300)).rejects.toMatchObject({ code: 'TAMPERED' });
      // The same tile through another leaf: the proof of 257 uses 300 only inside a sibling subtree.
      await expect(fresh().inclusionProof(org, 257)).rejects.toMatchObject({ code: 'TAMPERED' });
      // Nothing from the tampered tile was kept: with the row put back, the same server proves 300 again.
      await restoreHash(0, 300, edited);
      expect((await checked(warm, 300)).length).toBeGreaterThan(0);
    } finally {
      await restoreHash(0, 300, edited);
    }
    // A leaf of the partial tile, read alone.
    const tail = await editHash(0, 590);
    try {
      await expect(fresh().inclusionProof(org, 590)).rejects.toMatchObject({ code: 'TAMPERED' });
    } finally {
      await restoreHash(0, 590, tail);
    }
    // A perfect subtree of the right edge ([576, 592) of 600): every proof left of it folds it in. `warm`
    // keeps the value it checked; a fresh server answers TAMPERED.
    const before = await checked(warm, 5);
    const edge = await editHash(4, 36);
    try {
      await expect(fresh().inclusionProof(org, 5)).rejects.toMatchObject({ code: 'TAMPERED' });
      expect(await checked(warm, 5)).toEqual(before);
    } finally {
      await restoreHash(4, 36, edge);
    }
  });

  it('a kept tile keeps the value it checked after its row is edited; a fresh server answers TAMPERED', async () => {
    const warm = fresh();
    const before = await checked(warm, 20);
    const edited = await editHash(0, 21); // 20's sibling, inside the kept tile
    try {
      expect(await checked(warm, 20)).toEqual(before);
      expect((await checked(warm, 200)).length).toBeGreaterThan(0);
      await expect(fresh().inclusionProof(org, 20)).rejects.toMatchObject({ code: 'TAMPERED' });
      await expect(fresh().inclusionProof(org, 200)).rejects.toMatchObject({ code: 'TAMPERED' }); // the tile's root moved
    } finally {
      await restoreHash(0, 21, edited);
    }
  });

  it('an edited inner node that no proof reads still cannot be served: tiles are hashed from their leaves', async () => {
    // (3, 3) is 17's sibling at level 3, inside tile 0: stored, but a proof through a tile computes it from its leaves.
    const edited = await editHash(3, 3);
    try {
      expect((await checked(fresh(), 17)).length).toBeGreaterThan(0);
    } finally {
      await restoreHash(3, 3, edited);
    }
  });

  it('concurrent proofs through one unkept tile read it once', async () => {
    const log = fresh();
    const reads = store.log.readHashes.bind(store.log);
    let statements = 0;
    store.log.readHashes = (...args) => (statements++, reads(...args));
    try {
      const proofs = await Promise.all(Array.from({ length: 8 }, (_, i) => log.inclusionProof(org, 260 + i)));
      expect(proofs.map((p) => p.index)).toEqual(Array.from({ length: 8 }, (_, i) => 260 + i));
      expect(statements).toBe(1);
    } finally {
      store.log.readHashes = reads;
    }
  });
});
