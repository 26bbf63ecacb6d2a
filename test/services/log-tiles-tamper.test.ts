import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { fromHex } from '../../src/core/index.js';
import {
  HASH_SIZE, consistencyProof, consistencyProofPlan, leafHash, openCheckpoint, parseVerifierKey, rootOfLeaves, storedHashIndex, tileHashIndexes, verifyConsistency,
} from '../../src/ledger/index.js';
import { LogService, LogTiles } from '../../src/services/index.js';
import type { OrgRecord, SqlStore } from '../../src/store/index.js';
import { engines } from '../helpers/engines.js';
import { testSigner } from '../helpers/keys.js';
import { dropTriggers } from '../helpers/tamper.js';

// "Signed means verified" for what the tiles route and consistency proofs serve (src/services/log-tiles.ts,
// log-verified-tiles.ts, LogService.consistencyProof): a hash or entry row edited behind the server is
// answered TAMPERED, never served (a full tile is cached forever by anything in front of the server). An
// honest log's tiles and proofs are byte for byte what the stored rows hold.

const SIZE = 600; // tiles 0/000 and 0/001 full, 0/002.p/88; 1/000.p/2

describe.each(engines())('tiles and consistency proofs checked before they are served on $name', (engine) => {
  let store: SqlStore;
  let cleanup: () => Promise<void>;
  let org: OrgRecord;
  const signer = testSigner();
  const fresh = () => {
    const log = new LogService(store, signer);
    return { log, tiles: new LogTiles(store, log) };
  };

  async function editRow(table: 'log_hashes' | 'log_entries', where: number): Promise<() => Promise<void>> {
    await dropTriggers(store);
    if (table === 'log_hashes') {
      const { rows } = await sql<{ hash: Uint8Array }>`SELECT hash FROM log_hashes WHERE org_id = ${org.id} AND hidx = ${where}`.execute(store.db);
      const original = Buffer.from(rows[0]!.hash);
      const edited = Buffer.from(original);
      edited[0] = edited[0]! ^ 0xff;
      await sql`UPDATE log_hashes SET hash = ${edited} WHERE org_id = ${org.id} AND hidx = ${where}`.execute(store.db);
      return async () => void (await sql`UPDATE log_hashes SET hash = ${original} WHERE org_id = ${org.id} AND hidx = ${where}`.execute(store.db));
    }
    const { rows } = await sql<{ entry: string }>`SELECT entry FROM log_entries WHERE org_id = ${org.id} AND idx = ${where}`.execute(store.db);
    const original = rows[0]!.entry;
    await sql`UPDATE log_entries SET entry = ${original.replace('"i":', '"j":')} WHERE org_id = ${org.id} AND idx = ${where}`.execute(store.db);
    return async () => void (await sql`UPDATE log_entries SET entry = ${original} WHERE org_id = ${org.id} AND idx = ${where}`.execute(store.db));
  }

  /** A hash tile as the server served it before it checked tiles: the stored rows, as they are. */
  async function storedTile(level: number, index: number, width: number): Promise<Buffer> {
    const indexes = tileHashIndexes({ kind: 'hashes', level, index, width });
    const stored = await store.log.readHashes(org.id, indexes);
    return Buffer.concat(indexes.map((i) => stored.get(i)!));
  }

  const PATHS = ['0/000', '0/001', '0/002.p/88', '0/002.p/7', '0/000.p/100', '1/000.p/2', '1/000.p/1', 'entries/000', 'entries/001', 'entries/002.p/88', 'entries/001.p/3'];

  beforeAll(async () => {
    const opened = await engine.open();
    store = opened.store;
    cleanup = opened.cleanup;
    org = await store.orgs.create('acme', new Date().toISOString());
    const { log } = fresh();
    await Promise.all(Array.from({ length: SIZE }, (_, i) => log.append(org, 'test', { i })));
  });
  afterAll(async () => cleanup());

  it('serves an honest log\'s tiles byte for byte as stored, and its consistency proofs as before', async () => {
    const { tiles, log } = fresh();
    for (const [level, index, width] of [[0, 0, 256], [0, 1, 256], [0, 2, 88], [0, 2, 7], [0, 0, 100], [1, 0, 2], [1, 0, 1]] as const) {
      const path = `${level}/00${index}${width === 256 ? '' : `.p/${width}`}`;
      expect(Buffer.from((await tiles.read(org, path)).bytes), path).toEqual(await storedTile(level, index, width));
    }
    for (const [path, start, end] of [['entries/000', 0, 256], ['entries/002.p/88', 512, 600]] as const) {
      const rows = await store.log.entryBytes(org.id, start, end);
      const framed = Buffer.concat(rows.flatMap((r) => [Buffer.from([r.length >> 8, r.length & 0xff]), Buffer.from(r)]));
      expect(Buffer.from((await tiles.read(org, path)).bytes)).toEqual(framed);
    }
    const cp = openCheckpoint(await log.checkpoint(org), [parseVerifierKey(log.verifierKeyFor(org))]);
    for (const [from, to] of [[1, 600], [255, 600], [256, 600], [300, 512], [7, 9], [599, 600], [600, 600], [0, 600], [513, 599]] as const) {
      const proof = await log.consistencyProof(org, from, to);
      const before = consistencyProof(from, to, await store.log.readHashes(org.id, consistencyProofPlan(from, to)));
      expect(proof.hashes).toEqual(before.map((h) => Buffer.from(h).toString('hex')));
      if (to === SIZE && from > 0 && from < to) verifyConsistency(from, to, proof.hashes.map((h) => fromHex(h)), await rootOf(from), cp.root);
    }
    // The default `to` is the signed head.
    expect((await log.consistencyProof(org, 300)).to).toBe(SIZE);
  });

  it('an edited hash row is TAMPERED in every tile that holds it or stands on it', async () => {
    // A leaf hash of the full tile 0/001.
    let restore = await editRow('log_hashes', storedHashIndex(0, 300));
    try {
      const { tiles } = fresh();
      await expect(tiles.read(org, '0/001')).rejects.toMatchObject({ code: 'TAMPERED' });
      await expect(tiles.read(org, 'entries/001')).rejects.toMatchObject({ code: 'TAMPERED' });
      await expect(tiles.read(org, '0/001.p/3')).rejects.toMatchObject({ code: 'TAMPERED' }); // an older tree's view of it
      // Tiles that do not hold it are served, as stored.
      expect(Buffer.from((await tiles.read(org, '0/000')).bytes)).toEqual(await storedTile(0, 0, 256));
    } finally {
      await restore();
    }
    // A hash of the right edge (a partial tile's): everything that stands on the signed root through it.
    restore = await editRow('log_hashes', storedHashIndex(0, 590));
    try {
      const { tiles } = fresh();
      for (const path of ['0/002.p/88', '0/000', 'entries/002.p/88', '1/000.p/2']) await expect(tiles.read(org, path), path).rejects.toMatchObject({ code: 'TAMPERED' });
    } finally {
      await restore();
    }
    // A level-1 hash: the root of tile 0/000, as tile 1/000.p/2 holds it.
    restore = await editRow('log_hashes', storedHashIndex(8, 0));
    try {
      const { tiles } = fresh();
      await expect(tiles.read(org, '1/000.p/2')).rejects.toMatchObject({ code: 'TAMPERED' });
      await expect(tiles.read(org, '0/000')).rejects.toMatchObject({ code: 'TAMPERED' });
    } finally {
      await restore();
    }
    // With the rows back, a fresh server serves every tile again.
    const { tiles } = fresh();
    for (const path of PATHS) expect((await tiles.read(org, path)).bytes.length).toBeGreaterThan(0);
  });

  it('a consistency proof through an edited hash row is TAMPERED, to the head or below it; one that does not use it is the honest proof', async () => {
    // The proof's hashes are read singly and bound by its check against the signed root (LogService.consistencyProof):
    // a row it reads (a proof hash, the root of `from`, or for `to` below the head the root of `to` and its proof
    // to the head) answers TAMPERED; a row under one of its subtree hashes is not read, and the proof is true.
    const cases: [number, number, number, 'TAMPERED' | 'honest'][] = [
      [storedHashIndex(0, 300), 301, 600, 'TAMPERED'], [storedHashIndex(8, 0), 256, 600, 'TAMPERED'], [storedHashIndex(8, 0), 256, 300, 'TAMPERED'],
      [storedHashIndex(0, 300), 301, 400, 'TAMPERED'],
      [consistencyProofPlan(5, 600)[0]!, 5, 600, 'TAMPERED'], [consistencyProofPlan(5, 600).at(-1)!, 5, 600, 'TAMPERED'],
      [consistencyProofPlan(300, 590).at(-1)!, 300, 590, 'TAMPERED'], [consistencyProofPlan(590, 600)[0]!, 300, 590, 'TAMPERED'],
      [storedHashIndex(0, 590), 5, 600, 'honest'], [storedHashIndex(0, 10), 300, 600, 'honest'],
    ];
    for (const [row, from, to, outcome] of cases) {
      const honest = await fresh().log.consistencyProof(org, from, to);
      const restore = await editRow('log_hashes', row);
      try {
        const served = fresh().log.consistencyProof(org, from, to);
        if (outcome === 'TAMPERED') await expect(served, `${row}: ${from} to ${to}`).rejects.toMatchObject({ code: 'TAMPERED' });
        else expect(await served, `${row}: ${from} to ${to}`).toEqual(honest);
      } finally {
        await restore();
      }
    }
  });

  it('an edited entry row is TAMPERED in its entry bundle, whatever its width', async () => {
    const restore = await editRow('log_entries', 10);
    try {
      const { tiles } = fresh();
      await expect(tiles.read(org, 'entries/000')).rejects.toMatchObject({ code: 'TAMPERED' });
      await expect(tiles.read(org, 'entries/000.p/11')).rejects.toMatchObject({ code: 'TAMPERED' });
      expect((await tiles.read(org, 'entries/000.p/10')).bytes.length).toBeGreaterThan(0); // ends before it
      expect((await tiles.read(org, 'entries/001')).bytes.length).toBeGreaterThan(0);
    } finally {
      await restore();
    }
  });

  it('a warm server keeps the hash tiles it checked, and checks an entry bundle again when its bytes changed', async () => {
    const { tiles } = fresh();
    const before = Buffer.from((await tiles.read(org, '0/001')).bytes);
    const restore = await editRow('log_hashes', storedHashIndex(0, 400));
    try {
      expect(Buffer.from((await tiles.read(org, '0/001')).bytes)).toEqual(before);
      expect(before.subarray((400 - 256) * HASH_SIZE, (401 - 256) * HASH_SIZE)).not.toEqual(await storedTile(0, 1, 256).then((b) => b.subarray((400 - 256) * HASH_SIZE, (401 - 256) * HASH_SIZE)));
    } finally {
      await restore();
    }
    // A full entry bundle checked before: the same bytes again are served, edited ones are checked again.
    expect((await tiles.read(org, 'entries/000')).bytes.length).toBeGreaterThan(0);
    const restoreEntry = await editRow('log_entries', 10);
    try {
      await expect(tiles.read(org, 'entries/000')).rejects.toMatchObject({ code: 'TAMPERED' });
    } finally {
      await restoreEntry();
    }
    expect((await tiles.read(org, 'entries/000')).bytes.length).toBeGreaterThan(0);
  });

  it('a full entry bundle checked before is served from its bytes without the hash tile under it; that tile, edited, is TAMPERED', async () => {
    // No hash tiles kept (a log larger than the 4,096 tiles kept: past 1M entries), so each read of the
    // level-0 tile under a bundle would read and check its rows again.
    const log = new LogService(store, signer, { proofTiles: 0 });
    const tiles = new LogTiles(store, log);
    const checked = Buffer.from((await tiles.read(org, 'entries/000')).bytes);
    const restore = await editRow('log_hashes', storedHashIndex(0, 10));
    try {
      // The same entry bytes hashed to the leaves of a tree this server signed, and every later head extends it.
      expect(Buffer.from((await tiles.read(org, 'entries/000')).bytes)).toEqual(checked);
      await expect(tiles.read(org, '0/000')).rejects.toMatchObject({ code: 'TAMPERED' });
      // A bundle not checked before still needs the tile, and a partial one is always checked.
      await expect(new LogTiles(store, log).read(org, 'entries/000')).rejects.toMatchObject({ code: 'TAMPERED' });
      await expect(tiles.read(org, 'entries/000.p/11')).rejects.toMatchObject({ code: 'TAMPERED' });
    } finally {
      await restore();
    }
  });

  it('an append does not build on an edited frontier hash: the server does not sign a tree that forks its own', async () => {
    // The frontier of 600 leaves: (9, 0), (6, 8), (4, 36), (3, 74).
    const restore = await editRow('log_hashes', storedHashIndex(6, 8));
    try {
      const { log } = fresh();
      await expect(log.append(org, 'test', { i: 'after' })).rejects.toMatchObject({ code: 'TAMPERED' });
      expect((await store.log.head(org.id)).size).toBe(SIZE);
    } finally {
      await restore();
    }
  });

  it('log entries are shown only when they lead to the signed root: an entry rewritten with its hashes, or a hash beside the range, is TAMPERED', async () => {
    const { log } = fresh();
    const honest = await log.entries(org, 0, 100);
    expect(honest.items.map((e) => e.index)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(honest.items.map((e) => e.leafHash)).toEqual((await store.log.entries(org.id, 0, 100)).map((r) => Buffer.from(r.leafHash).toString('hex')));
    // Entry 10 rewritten with its leaf hash and its level-0 hash: it no longer leads to the signed root.
    await dropTriggers(store);
    const { rows } = await sql<{ entry: string; leaf_hash: Uint8Array }>`SELECT entry, leaf_hash FROM log_entries WHERE org_id = ${org.id} AND idx = 10`.execute(store.db);
    const original = rows[0]!;
    const forged = original.entry.replace('"i":', '"j":');
    const forgedLeaf = Buffer.from(leafHash(new TextEncoder().encode(forged)));
    await sql`UPDATE log_entries SET entry = ${forged}, leaf_hash = ${forgedLeaf} WHERE org_id = ${org.id} AND idx = 10`.execute(store.db);
    await sql`UPDATE log_hashes SET hash = ${forgedLeaf} WHERE org_id = ${org.id} AND hidx = ${storedHashIndex(0, 10)}`.execute(store.db);
    try {
      await expect(fresh().log.entries(org, 0, 100)).rejects.toMatchObject({ code: 'TAMPERED' });
      await expect(fresh().log.entries(org, 10, 11)).rejects.toMatchObject({ code: 'TAMPERED' });
      expect((await fresh().log.entries(org, 0, 10)).items).toHaveLength(10); // ends before it
    } finally {
      await sql`UPDATE log_entries SET entry = ${original.entry}, leaf_hash = ${Buffer.from(original.leaf_hash)} WHERE org_id = ${org.id} AND idx = 10`.execute(store.db);
      await sql`UPDATE log_hashes SET hash = ${Buffer.from(original.leaf_hash)} WHERE org_id = ${org.id} AND hidx = ${storedHashIndex(0, 10)}`.execute(store.db);
    }
    // A stored hash beside the range (the subtree of entries 128–255, which entries 0–99 are checked with).
    const restore = await editRow('log_hashes', storedHashIndex(7, 1));
    try {
      await expect(fresh().log.entries(org, 0, 100)).rejects.toMatchObject({ code: 'TAMPERED' });
    } finally {
      await restore();
    }
    expect(await fresh().log.entries(org, 0, 100)).toEqual(honest);
  });

  /** The root of the first `size` leaves, from the entry rows (the test's own view, not the server's). */
  async function rootOf(size: number): Promise<Uint8Array> {
    return rootOfLeaves((await store.log.entries(org.id, 0, size)).map((r) => r.leafHash));
  }
});
