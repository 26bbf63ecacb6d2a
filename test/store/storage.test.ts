import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { EvidentError } from '../../src/core/index.js';
import { EMPTY_ROOT, appendLeaves, encodeEntryBundle, frontierIndexes, leafHash, storedHashIndex } from '../../src/ledger/index.js';
import type { SqlStore } from '../../src/store/index.js';
import { engines } from '../helpers/engines.js';

const enc = new TextEncoder();

/** Builds a valid append batch for `texts` on top of the head the store hands in. */
function batchOf(texts: string[]) {
  return async (head: { size: number }, ctx: { readHashes(i: readonly number[]): Promise<Map<number, Uint8Array>> }) => {
    const idx = frontierIndexes(head.size);
    const stored = await ctx.readHashes(idx);
    const frontier = idx.map((i) => stored.get(i)!);
    const entries = texts.map((t, i) => ({ index: head.size + i, leafHash: leafHash(enc.encode(t)), entry: t }));
    const next = appendLeaves(head.size, frontier, entries.map((e) => e.leafHash));
    return { entries, hashes: next.stored, root: next.root };
  };
}

// ONE storage suite, run against every engine (DESIGN.md §5).
describe.each(engines())('storage on $name', (engine) => {
  let store: SqlStore;
  let cleanup: () => Promise<void>;
  const at = '2026-11-22T00:00:00.000Z';

  beforeAll(async () => {
    const opened = await engine.open();
    store = opened.store;
    cleanup = opened.cleanup;
  });
  afterAll(async () => cleanup());

  it('creates organisations once, each with an empty log', async () => {
    const org = await store.orgs.create('acme', at);
    expect(org).toMatchObject({ name: 'acme', createdAt: at });
    expect(await store.orgs.get('acme')).toEqual(org);
    expect(await store.orgs.get('nobody')).toBeUndefined();
    await expect(store.orgs.create('acme', at)).rejects.toMatchObject({ code: 'CONFLICT' });
    const head = await store.log.head(org.id);
    expect(head.size).toBe(0);
    expect(Buffer.from(head.root)).toEqual(Buffer.from(EMPTY_ROOT));
  });

  it('stores tokens by secret hash, lists them a page at a time, revokes once', async () => {
    const org = await store.orgs.create('tokens-org', at);
    for (let i = 0; i < 5; i++) {
      await store.tokens.create({ id: `tok_${i}`, orgId: org.id, name: `t${i}`, role: 'reader', secretHash: `h${i}`, createdAt: at, createdBy: null, expiresAt: null });
    }
    await expect(
      store.tokens.create({ id: 'tok_x', orgId: org.id, name: 'dup', role: 'reader', secretHash: 'h0', createdAt: at, createdBy: null, expiresAt: null }),
    ).rejects.toMatchObject({ code: 'CONFLICT' });
    expect((await store.tokens.findBySecretHash('h3'))).toMatchObject({ id: 'tok_3', orgName: 'tokens-org', role: 'reader', revokedAt: null });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await store.tokens.list(org.id, cursor, 2);
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((t) => t.id));
      cursor = page.nextCursor;
    } while (cursor !== null);
    expect(seen).toEqual(['tok_0', 'tok_1', 'tok_2', 'tok_3', 'tok_4']);
    await expect(store.tokens.list(org.id, 'garbage', 2)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    const revoked = await store.tokens.revoke(org.id, 'tok_1', '2026-11-23T00:00:00.000Z');
    expect(revoked?.revokedAt).toBe('2026-11-23T00:00:00.000Z');
    const again = await store.tokens.revoke(org.id, 'tok_1', '2026-12-01T00:00:00.000Z');
    expect(again?.revokedAt).toBe('2026-11-23T00:00:00.000Z');
    const other = await store.orgs.create('other-org', at);
    expect(await store.tokens.revoke(other.id, 'tok_2', at)).toBeUndefined();
  });

  it('appends batches in sequence and reads entries, hashes and leaves back', async () => {
    const org = await store.orgs.create('log-org', at);
    await store.log.append(org.id, batchOf(['a', 'b', 'c']), at);
    const head = await store.log.append(org.id, batchOf(['d', 'e']), at);
    expect(head.size).toBe(5);
    const rows = await store.log.entries(org.id, 1, 4);
    expect(rows.map((r) => [r.index, r.entry])).toEqual([[1, 'b'], [2, 'c'], [3, 'd']]);
    expect(Buffer.from(rows[0]!.leafHash)).toEqual(Buffer.from(leafHash(enc.encode('b'))));
    const hashes = await store.log.readHashes(org.id, [storedHashIndex(0, 4), storedHashIndex(2, 0)]);
    expect(hashes.size).toBe(2);
    expect(await store.log.indexOfLeaf(org.id, leafHash(enc.encode('e')))).toBe(4);
    expect(await store.log.indexOfLeaf(org.id, leafHash(enc.encode('zzz')))).toBeUndefined();
  });

  it('frames entry bundles byte for byte as encodeEntryBundle over the stored bytes, and flags an entry too long for one', async () => {
    const org = await store.orgs.create('bundle-org', at);
    // Lengths around the uint16 frame's byte boundaries (a 0x00 low or high byte), non-ASCII, an empty entry.
    const texts = ['', 'a', 'é\u2028😀', 'x'.repeat(255), 'y'.repeat(256), 'z'.repeat(512), '{"k":"\\u0000"}', 'w'.repeat(0xffff)];
    await store.log.append(org.id, batchOf(texts), at);
    const all = await store.log.entryBundle(org.id, 0, texts.length);
    expect(all.count).toBe(texts.length);
    expect(all.longest).toBe(0xffff);
    expect(Buffer.from(all.bytes)).toEqual(Buffer.from(encodeEntryBundle((await store.log.entryBytes(org.id, 0, texts.length)).map((bytes, index) => ({ index, bytes })))));
    const part = await store.log.entryBundle(org.id, 2, 5);
    expect(part.count).toBe(3);
    expect(Buffer.from(part.bytes)).toEqual(Buffer.from(encodeEntryBundle(texts.slice(2, 5).map((t, i) => ({ index: 2 + i, bytes: enc.encode(t) })))));
    expect(await store.log.entryBundle(org.id, 20, 30)).toEqual({ count: 0, longest: 0, bytes: new Uint8Array(0) });
    await store.log.append(org.id, batchOf(['v'.repeat(0x10000)]), at);
    const long = await store.log.entryBundle(org.id, 7, 9);
    expect(long.count).toBe(2);
    expect(long.longest).toBe(0x10000); // the caller refuses it: not a bundle
  });

  // PostgreSQL sends a batch's texts as one, split at a record separator (log-append-pg.ts): every text must come
  // back as it went, whatever it holds, in batches of any size.
  it('stores entry texts exactly, whatever characters they hold', async () => {
    const org = await store.orgs.create('texts-org', at);
    const batches = [
      [''],
      ['{"a":"q\\"uote","b":"back\\\\slash","c":"\\u001e","d":"{,}","e":"NULL"}', 'NULL', '', 'é\u2028😀', '"', '\\', ' {} ', ','],
      ['one\x1etwo', '\x1e', 'plain'],
      ['\x1e\x1e'],
      ['last'],
    ];
    for (const texts of batches) await store.log.append(org.id, batchOf(texts), at);
    const all = batches.flat();
    const rows = await store.log.entries(org.id, 0, all.length + 5);
    expect(rows.map((r) => r.entry)).toEqual(all);
    for (const r of rows) expect(Buffer.from(r.leafHash)).toEqual(Buffer.from(leafHash(enc.encode(all[r.index]!))));
  });

  it('writes nothing when an append fails half-way', async () => {
    const org = await store.orgs.create('atomic-org', at);
    await store.log.append(org.id, batchOf(['x']), at);
    await expect(
      store.log.append(org.id, async (head, ctx) => {
        const batch = await batchOf(['y', 'z'])(head, ctx);
        batch.entries[1]!.index = 7; // out of sequence: the store must refuse the whole batch
        return batch;
      }, at),
    ).rejects.toBeInstanceOf(EvidentError);
    await expect(store.log.append(org.id, () => { throw new Error('builder failed'); }, at)).rejects.toThrow('builder failed');
    expect((await store.log.head(org.id)).size).toBe(1);
    expect(await store.log.entries(org.id, 0, 10)).toHaveLength(1);
  });

  // PostgreSQL writes most heads in the text of a simple query with the COMMIT (log-append-pg.ts).
  it('writes the head as given, whatever the time text holds', async () => {
    const org = await store.orgs.create('head-org', at);
    const odd = `2026-12-07T00:00:00.000Z'; UPDATE log_heads SET size = 0; --\\'`;
    const head = await store.log.append(org.id, batchOf(['h1', 'h2']), odd);
    expect(await store.log.head(org.id)).toEqual(head);
    expect(head.size).toBe(2);
    const row = await sql<{ updated_at: string; size: number | string }>`SELECT updated_at, size FROM log_heads WHERE org_id = ${org.id}`.execute(store.db);
    expect(row.rows[0]).toMatchObject({ updated_at: odd });
    expect(Number(row.rows[0]!.size)).toBe(2);
  });

  it('refuses UPDATE, DELETE (and TRUNCATE) of log entries and hashes at the database level', async () => {
    const org = await store.orgs.create('trigger-org', at);
    await store.log.append(org.id, batchOf(['one', 'two']), at);
    const attempts = [
      sql`UPDATE log_entries SET entry = 'forged' WHERE org_id = ${org.id}`,
      sql`DELETE FROM log_entries WHERE org_id = ${org.id}`,
      sql`UPDATE log_hashes SET hash = ${new Uint8Array(32)} WHERE org_id = ${org.id}`,
      sql`DELETE FROM log_hashes WHERE org_id = ${org.id}`,
    ];
    if (store.engine === 'postgres') attempts.push(sql`TRUNCATE log_entries`, sql`TRUNCATE log_hashes`);
    for (const attempt of attempts) {
      await expect(attempt.execute(store.db)).rejects.toThrow(/append-only/);
    }
    const rows = await store.log.entries(org.id, 0, 10);
    expect(rows.map((r) => r.entry)).toEqual(['one', 'two']);
  });

  it('numbers snapshots per environment, tracks when each run began, and keeps snapshots immutable', async () => {
    const org = await store.orgs.create('env-org', at);
    const ctx = await store.write(async (tx) => {
      const { SqlRecordWriter } = await import('../../src/store/records.js');
      const w = new SqlRecordWriter(tx).environments;
      const env = await w.insertEnvironment({ orgId: org.id, name: 'prod', type: 'k8s', description: '', included: null, includeScaling: true, createdAt: at, archivedAt: null, entryIndex: 0 });
      const a = { fingerprint: 'a'.repeat(64), name: 'a', instances: 2 };
      const b = { fingerprint: 'b'.repeat(64), name: 'b', instances: 1 };
      expect(await w.latestState(env.id)).toBeUndefined();
      const s1 = await w.insertSnapshot(org.id, env.id, [a], at, 1, undefined);
      const s2 = await w.insertSnapshot(org.id, env.id, [a, b], at, 2, await w.latestState(env.id));
      const state = await w.latestState(env.id);
      await w.archiveEnvironment(env.id, '2026-01-02T00:00:00.000Z', 3);
      return { env, s1, s2, state };
    });
    expect([ctx.s1.index, ctx.s2.index]).toEqual([1, 2]);
    expect(ctx.state?.snapshot.index).toBe(2);
    expect(ctx.state?.running.map((r) => [r.name, r.instances, r.sinceIndex])).toEqual([['a', 2, 1], ['b', 1, 2]]);
    expect((await store.environments.environment(org.id, 'prod'))?.archivedAt).toBe('2026-01-02T00:00:00.000Z');
    expect(await store.environments.snapshotTimes(ctx.env.id, [1, 2, 2, 7])).toEqual(new Map([[1, at], [2, at]]));
    const running = await store.environments.runningIn(ctx.s2.id);
    expect(running.map((r) => [r.name, r.sinceIndex])).toEqual([['a', 1], ['b', 2]]);
    expect((await store.environments.appearances(org.id, 'a'.repeat(64))).map((x) => x.index)).toEqual([1, 2]);
    await expect(sql`UPDATE snapshot_artifacts SET instances = 9`.execute(store.db)).rejects.toThrow(/append-only/);
    await expect(sql`DELETE FROM snapshots`.execute(store.db)).rejects.toThrow(/append-only/);
  });

  it('answers ping', async () => {
    await expect(store.ping()).resolves.toBeUndefined();
  });
});
