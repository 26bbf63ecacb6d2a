import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { BLOB_CHUNK_BYTES, DatabaseBlobStore, FilesystemBlobStore, openStore, type BlobStore, type SqlStore } from '../../src/store/index.js';
import { PG_URL, dropSchema, engines, freshSchema, tempDir } from '../helpers/engines.js';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const LIMIT = { maxBytes: 8 * 1024 * 1024 };

async function* chunks(...parts: (string | Uint8Array)[]): AsyncGenerator<Uint8Array> {
  for (const p of parts) yield typeof p === 'string' ? Buffer.from(p) : p;
}

async function* failing(after: Uint8Array): AsyncGenerator<Uint8Array> {
  yield after;
  throw new Error('client went away');
}

async function readAll(stream: Readable): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of stream) out.push(c as Buffer);
  return Buffer.concat(out);
}

/** Every file under the directory, relative: what a failed put must not add to. */
function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => path.relative(dir, path.join(e.parentPath, e.name))).sort();
}

/** A big input made of distinct 1 MiB+ chunks, so chunking boundaries are exercised. */
function bigBytes(n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + (i >> 12)) & 0xff;
  return b;
}

// ONE storage suite, run against every engine (DESIGN.md §5); on each, both blob stores.
describe.each(engines())('evidence blobs on $name', (engine) => {
  let store: SqlStore;
  let cleanup: () => Promise<void>;
  let dataDir: string;
  const kinds: Record<string, () => BlobStore> = {
    filesystem: () => new FilesystemBlobStore(path.join(dataDir, 'fs-blobs')),
    database: () => new DatabaseBlobStore(store.db, (work) => store.write(work)),
  };

  beforeAll(async () => {
    const opened = await engine.open();
    store = opened.store;
    cleanup = opened.cleanup;
    dataDir = opened.dataDir;
  });
  afterAll(async () => cleanup());

  it('selects the filesystem store on SQLite and the database store on PostgreSQL', () => {
    expect(store.blobs.kind).toBe(engine.name === 'sqlite' ? 'filesystem' : 'database');
  });

  describe.each(['filesystem', 'database'])('%s store', (kind) => {
    let blobs: BlobStore;
    beforeAll(() => {
      blobs = kinds[kind]!();
    });

    it('stores bytes once under their SHA-256, and reads them back verified', async () => {
      const first = await blobs.put(chunks('hello ', 'evidence'), LIMIT);
      expect(first).toEqual({ digest: sha256(Buffer.from('hello evidence')), size: 14, created: true });
      const again = await blobs.put(chunks('hello evid', 'ence'), LIMIT);
      expect(again).toEqual({ ...first, created: false });
      expect(await blobs.has(first.digest)).toBe(true);
      expect(await blobs.stat(first.digest)).toEqual({ digest: first.digest, size: 14 });
      const read = (await blobs.get(first.digest))!;
      expect(read.size).toBe(14);
      expect((await readAll(read.stream)).toString()).toBe('hello evidence');
      const empty = await blobs.put(chunks(), LIMIT);
      expect(empty.digest).toBe(sha256(new Uint8Array()));
      expect(await readAll((await blobs.get(empty.digest))!.stream)).toHaveLength(0);
    });

    it('streams a blob larger than one chunk, and keeps one copy of concurrent puts', async () => {
      const big = bigBytes(2 * BLOB_CHUNK_BYTES + 12345);
      const results = await Promise.all([1, 2, 3].map(() => blobs.put(Readable.from([big.subarray(0, 70_000), big.subarray(70_000)]), LIMIT)));
      expect(new Set(results.map((r) => r.digest))).toEqual(new Set([sha256(big)]));
      expect(results.filter((r) => r.created)).toHaveLength(1);
      expect((await readAll((await blobs.get(sha256(big)))!.stream)).equals(big)).toBe(true);
    });

    it('keeps nothing from a put that fails mid-stream or passes the limit', async () => {
      const before = kind === 'filesystem' ? filesUnder((blobs as FilesystemBlobStore).root) : [];
      const spoolBefore = fs.readdirSync(os.tmpdir()).filter((n) => n.startsWith('evident-spool-'));
      const tooBig = bigBytes(5 * 1024 * 1024 + 1);
      await expect(blobs.put(failing(Buffer.from('partial bytes')), LIMIT)).rejects.toThrow('client went away');
      await expect(blobs.put(chunks(tooBig), { maxBytes: 5 * 1024 * 1024 })).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE', message: expect.stringMatching(/5 MiB/) });
      await expect(blobs.put(chunks('12345', '6'), { maxBytes: 5 })).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
      expect(await blobs.has(sha256(Buffer.from('partial bytes')))).toBe(false);
      expect(await blobs.has(sha256(tooBig))).toBe(false);
      expect(await blobs.has(sha256(Buffer.from('123456')))).toBe(false);
      if (kind === 'filesystem') expect(filesUnder((blobs as FilesystemBlobStore).root)).toEqual(before);
      expect(fs.readdirSync(os.tmpdir()).filter((n) => n.startsWith('evident-spool-'))).toEqual(spoolBefore);
      // Exactly at the limit is allowed.
      await expect(blobs.put(chunks('12345'), { maxBytes: 5 })).resolves.toMatchObject({ size: 5 });
    });

    it('answers absent digests with undefined and refuses anything that is not a digest', async () => {
      const absent = 'f'.repeat(64);
      expect(await blobs.get(absent)).toBeUndefined();
      expect(await blobs.stat(absent)).toBeUndefined();
      expect(await blobs.has(absent)).toBe(false);
      for (const bad of ['../../etc/passwd', 'F'.repeat(64), 'a'.repeat(63), `${'a'.repeat(62)}/x`]) {
        await expect(blobs.get(bad)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      }
    });
  });

  it('detects a blob file changed on disk when it is read (TAMPERED)', async () => {
    const blobs = kinds.filesystem!() as FilesystemBlobStore;
    const small = await blobs.put(chunks('the scan found nothing'), LIMIT);
    const file = path.join(blobs.root, small.digest.slice(0, 2), small.digest.slice(2));
    expect(fs.statSync(file).mode & 0o777).toBe(0o400);
    fs.chmodSync(file, 0o600);
    fs.writeFileSync(file, 'the scan found 3 criticals');
    await expect(readAll((await blobs.get(small.digest))!.stream)).rejects.toMatchObject({ code: 'TAMPERED' });
    // Same length, one bit flipped, many chunks: the reader never gets the last chunk.
    const big = bigBytes(300_000);
    const put = await blobs.put(chunks(big), LIMIT);
    const bigFile = path.join(blobs.root, put.digest.slice(0, 2), put.digest.slice(2));
    fs.chmodSync(bigFile, 0o600);
    const forged = Buffer.from(big);
    forged[100] = forged[100]! ^ 1;
    fs.writeFileSync(bigFile, forged);
    const received: Buffer[] = [];
    const stream = (await blobs.get(put.digest))!.stream;
    await expect((async () => { for await (const c of stream) received.push(c as Buffer); })()).rejects.toMatchObject({ code: 'TAMPERED' });
    expect(Buffer.concat(received).length).toBeLessThan(big.length);
    // A symbolic link planted in place of a blob is not followed.
    const linked = await blobs.put(chunks('linked'), LIMIT);
    const linkedFile = path.join(blobs.root, linked.digest.slice(0, 2), linked.digest.slice(2));
    fs.rmSync(linkedFile);
    fs.symlinkSync('/etc/hostname', linkedFile);
    await expect(blobs.get(linked.digest)).rejects.toMatchObject({ code: 'TAMPERED' });
  });

  it('refuses UPDATE, DELETE (and TRUNCATE) of stored blobs and org claims at the database level', async () => {
    const blobs = kinds.database!();
    const org = await store.orgs.create('blob-trigger-org', '2026-11-22T00:00:00.000Z');
    const { digest } = await blobs.put(chunks('immutable evidence'), LIMIT);
    await store.orgBlobs.link([{ orgId: org.id, digest, size: 18, name: 'e.txt', createdAt: '2026-11-22T00:00:00.000Z' }]);
    const attempts = [
      sql`UPDATE blobs SET size = 1 WHERE digest = ${digest}`,
      sql`DELETE FROM blobs WHERE digest = ${digest}`,
      sql`UPDATE blob_chunks SET bytes = ${Buffer.from('forged')} WHERE digest = ${digest}`,
      sql`DELETE FROM blob_chunks WHERE digest = ${digest}`,
      sql`UPDATE org_blobs SET name = 'x' WHERE digest = ${digest}`,
      sql`DELETE FROM org_blobs WHERE digest = ${digest}`,
    ];
    if (store.engine === 'postgres') attempts.push(sql`TRUNCATE blob_chunks`, sql`TRUNCATE blobs CASCADE`, sql`TRUNCATE org_blobs`);
    for (const attempt of attempts) await expect(attempt.execute(store.db)).rejects.toThrow(/append-only/);
    expect((await readAll((await blobs.get(digest))!.stream)).toString()).toBe('immutable evidence');
  });

  it('detects blob chunks changed behind the server (TAMPERED)', async () => {
    const blobs = kinds.database!();
    const { digest } = await blobs.put(chunks('chunked evidence'), LIMIT);
    // Only someone bypassing the triggers can do this; the read must still notice.
    if (store.engine === 'postgres') {
      await sql`ALTER TABLE blob_chunks DISABLE TRIGGER USER`.execute(store.db);
      await sql`UPDATE blob_chunks SET bytes = ${Buffer.from('chunked evidencE')} WHERE digest = ${digest}`.execute(store.db);
      await sql`ALTER TABLE blob_chunks ENABLE TRIGGER USER`.execute(store.db);
    } else {
      await sql`DROP TRIGGER blob_chunks_no_update`.execute(store.db);
      await sql`UPDATE blob_chunks SET bytes = ${Buffer.from('chunked evidencE')} WHERE digest = ${digest}`.execute(store.db);
    }
    await expect(readAll((await blobs.get(digest))!.stream)).rejects.toMatchObject({ code: 'TAMPERED' });
  });

  it('keeps an org claim once per name, and finds the earliest', async () => {
    const org = await store.orgs.create('claims-org', '2026-11-22T00:00:00.000Z');
    const other = await store.orgs.create('claims-other', '2026-11-22T00:00:00.000Z');
    const digest = 'c'.repeat(64);
    const row = { orgId: org.id, digest, size: 3, name: 'b.txt', createdAt: '2026-11-22T00:00:01.000Z' };
    await store.orgBlobs.link([row, { ...row, name: 'a.txt', createdAt: '2026-11-22T00:00:02.000Z' }]);
    await store.orgBlobs.link([row]);
    expect(await store.orgBlobs.find(org.id, digest)).toEqual(row);
    expect(await store.orgBlobs.find(other.id, digest)).toBeUndefined();
  });
});

describe.runIf(PG_URL)('a PostgreSQL deployment choosing the filesystem store', () => {
  it('uses <dataDir>/blobs when asked', async () => {
    const schema = freshSchema();
    const dataDir = tempDir();
    const store = await openStore({ databaseUrl: PG_URL!, schema, dataDir, blobs: 'filesystem' });
    try {
      expect(store.blobs.kind).toBe('filesystem');
      const { digest } = await store.blobs.put(chunks('on disk'), LIMIT);
      expect(fs.existsSync(path.join(dataDir, 'blobs', digest.slice(0, 2), digest.slice(2)))).toBe(true);
    } finally {
      await store.close();
      await dropSchema(schema);
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
