import fs from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServices, type ServiceBundle } from '../../src/services/index.js';
import type { OrgRecord, SqlStore } from '../../src/store/index.js';
import { engines } from '../helpers/engines.js';
import { testSigner } from '../helpers/keys.js';

// issue #19: every turbo artifact upload is a `turbo.artifact` log entry, and what is served is what was
// logged. Whoever holds the disk edits the cache_entries row or the blob; the download must then fail,
// naming what was edited, and never hand out other bytes.

const BY = { team: 'acme', uploadedBy: 'token ci (t1)' };

async function* bytes(text: string): AsyncGenerator<Uint8Array> {
  yield Buffer.from(text);
}

async function readAll(stream: AsyncIterable<unknown>): Promise<string> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(c as Buffer);
  return Buffer.concat(parts).toString('utf8');
}

function findBlobFile(dir: string, digest: string): string | undefined {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      const hit = findBlobFile(p, digest);
      if (hit) return hit;
    } else if (e.name === digest.slice(2) && path.basename(dir) === digest.slice(0, 2)) return p;
  }
  return undefined;
}

describe.each(engines())('turbo artifacts recorded in the log on $name', (engine) => {
  let store: SqlStore;
  let dataDir: string;
  let cleanup: () => Promise<void>;
  let services: ServiceBundle;
  let org: OrgRecord;

  beforeAll(async () => {
    const opened = await engine.open();
    ({ store, dataDir, cleanup } = opened);
    services = createServices(store, testSigner());
    org = (await services.auth.ensureOrg('acme')).org;
  });
  afterAll(async () => cleanup());

  const rowOf = async (hash: string) => {
    const r = await sql<{ entry: string }>`SELECT entry FROM cache_entries WHERE cache_key = ${`turbo/${hash}`}`.execute(store.db);
    return JSON.parse(r.rows[0]!.entry) as Record<string, unknown>;
  };
  const setRow = async (hash: string, row: Record<string, unknown>) => {
    await sql`UPDATE cache_entries SET entry = ${JSON.stringify(row)} WHERE cache_key = ${`turbo/${hash}`}`.execute(store.db);
  };

  it('logs each upload once, with digest, size, team and uploader, and serves the logged bytes', async () => {
    const put = await services.turbo.put(org, 'h1', bytes('first artifact'), { durationMs: 7 }, BY);
    expect(put.created).toBe(true);
    const { items } = await services.log.entries(org, put.entryIndex!, put.entryIndex! + 1);
    const entry = JSON.parse(items[0]!.entry) as Record<string, unknown>;
    expect(entry).toMatchObject({ type: 'turbo.artifact', org: 'acme', hash: 'h1', size: 14, duration_ms: 7, team: 'acme', uploaded_by: 'token ci (t1)' });
    expect(entry.sha256).toMatch(/^[0-9a-f]{64}$/);
    const size = await services.log.size(org);
    // First writer wins, and a repeated upload is not logged again.
    expect((await services.turbo.put(org, 'h1', bytes('other bytes'), {}, BY)).created).toBe(false);
    expect(await services.log.size(org)).toBe(size);
    const got = await services.turbo.get(org, 'h1');
    expect(got.artifact).toMatchObject({ sha256: entry.sha256, size: 14, durationMs: 7, entryIndex: put.entryIndex });
    expect(await readAll(got.body)).toBe('first artifact');
  });

  it('refuses a row swapped to other bytes of the org, or to another entry', async () => {
    await services.turbo.put(org, 'good', bytes('the real build'), {}, BY);
    await services.turbo.put(org, 'evil', bytes('a backdoored one'), {}, BY);
    const good = await rowOf('good');
    const evil = await rowOf('evil');
    // The attacker points the row at the other blob (digest and size consistent with the vault).
    await setRow('good', { ...good, sha256: evil.sha256, size: evil.size });
    for (const s of [services, createServices(store, testSigner())]) {
      await expect(s.turbo.get(org, 'good')).rejects.toMatchObject({ code: 'TAMPERED', message: expect.stringMatching(/turbo artifact good .*refused: the cache_entries row of log entry \d+ was edited: its sha256/) });
      await expect(s.turbo.find(org, 'good')).rejects.toMatchObject({ code: 'TAMPERED' });
    }
    // ...or at the entry that logged the other artifact.
    await setRow('good', { ...evil, hash: 'good' });
    await expect(services.turbo.get(org, 'good')).rejects.toMatchObject({ code: 'TAMPERED', message: expect.stringMatching(/its hash is "good", the entry says "evil"/) });
    // ...or drops the entry index.
    const { entry_index: _, ...bare } = good;
    await setRow('good', bare);
    await expect(services.turbo.get(org, 'good')).rejects.toMatchObject({ code: 'TAMPERED', message: expect.stringMatching(/does not name the log entry/) });
    await expect(services.turbo.query(org, ['good'])).rejects.toMatchObject({ code: 'TAMPERED' });
    await setRow('good', good);
    expect(await readAll((await services.turbo.get(org, 'good')).body)).toBe('the real build');
  });

  it("keeps turbo's signature tag: logged, served back, and an edited or removed tag in the row is TAMPERED", async () => {
    const TAG = 'KhwSNYHBv8g+TCB0B74dhMWKPYVJCmWP+BJeDlOQWhQ=';
    const put = await services.turbo.put(org, 'signed1', bytes('signed artifact'), { tag: TAG, durationMs: 3 }, BY);
    const { items } = await services.log.entries(org, put.entryIndex!, put.entryIndex! + 1);
    expect(JSON.parse(items[0]!.entry)).toMatchObject({ type: 'turbo.artifact', hash: 'signed1', tag: TAG });
    expect((await services.turbo.get(org, 'signed1')).artifact.tag).toBe(TAG);
    // Unsigned uploads log a null tag and serve none.
    const unsigned = await services.turbo.put(org, 'plain1', bytes('plain artifact'), {}, BY);
    const plainEntry = await services.log.entries(org, unsigned.entryIndex!, unsigned.entryIndex! + 1);
    expect(JSON.parse(plainEntry.items[0]!.entry)).toMatchObject({ hash: 'plain1', tag: null });
    expect((await services.turbo.find(org, 'plain1'))!.tag).toBeNull();
    // Whoever holds the database swaps the tag (to one made with their own key), removes it, or adds one.
    const row = await rowOf('signed1');
    await setRow('signed1', { ...row, tag: 'AAAA' + TAG.slice(4) });
    await expect(services.turbo.get(org, 'signed1')).rejects.toMatchObject({ code: 'TAMPERED', message: expect.stringMatching(/its tag is "AAAA.*the entry says "KhwS/) });
    const { tag: _, ...untagged } = row;
    await setRow('signed1', untagged);
    await expect(services.turbo.find(org, 'signed1')).rejects.toMatchObject({ code: 'TAMPERED', message: expect.stringMatching(/its tag is null/) });
    const plainRow = await rowOf('plain1');
    await setRow('plain1', { ...plainRow, tag: TAG });
    await expect(services.turbo.find(org, 'plain1')).rejects.toMatchObject({ code: 'TAMPERED', message: expect.stringMatching(/the entry says null/) });
    await setRow('signed1', row);
    await setRow('plain1', plainRow);
    expect((await services.turbo.find(org, 'signed1'))!.tag).toBe(TAG);
    // A tag that is not base64 is refused before a byte is stored or logged.
    const size = await services.log.size(org);
    await expect(services.turbo.put(org, 'signed2', bytes('x'), { tag: 'not base64!' }, BY)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/x-artifact-tag/) });
    expect(await services.log.size(org)).toBe(size);
    expect(await services.turbo.find(org, 'signed2')).toBeUndefined();
  });

  it.skipIf(engine.name !== 'sqlite')('refuses a blob edited on disk (the bytes no longer hash to the logged digest)', async () => {
    await services.turbo.put(org, 'disk', bytes('bytes on the disk'), {}, BY);
    const row = await rowOf('disk');
    const file = findBlobFile(dataDir, String(row.sha256));
    expect(file).toBeDefined();
    fs.chmodSync(file!, 0o600);
    fs.writeFileSync(file!, 'bytes on the dusk');
    const got = await services.turbo.get(org, 'disk');
    await expect(readAll(got.body)).rejects.toMatchObject({ code: 'TAMPERED' });
    // A blob of another length is refused before a byte is served.
    fs.writeFileSync(file!, 'short');
    await expect(services.turbo.get(org, 'disk')).rejects.toMatchObject({ code: 'TAMPERED', message: expect.stringMatching(/turbo artifact disk .*refused|evidence sha256:/) });
  });
});
