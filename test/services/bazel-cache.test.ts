import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServices, type ServiceBundle } from '../../src/services/index.js';
import type { OrgRecord, SqlStore } from '../../src/store/index.js';
import { engines } from '../helpers/engines.js';
import { testSigner } from '../helpers/keys.js';

// Bazel's HTTP cache on both storage engines (issue #19): CAS uploads checked against their digest, AC
// uploads logged once, an AC row edited by whoever holds the database refused.

const sha256 = (b: string) => createHash('sha256').update(b).digest('hex');

async function* bytes(text: string): AsyncGenerator<Uint8Array> {
  yield Buffer.from(text);
}

async function readAll(stream: AsyncIterable<unknown>): Promise<string> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(c as Buffer);
  return Buffer.concat(parts).toString('utf8');
}

describe.each(engines())('Bazel cache on $name', (engine) => {
  let store: SqlStore;
  let cleanup: () => Promise<void>;
  let services: ServiceBundle;
  let org: OrgRecord;

  beforeAll(async () => {
    ({ store, cleanup } = await engine.open());
    services = createServices(store, testSigner());
    org = (await services.auth.ensureOrg('acme')).org;
  });
  afterAll(async () => cleanup());

  it('CAS: only bytes that hash to their digest; AC: logged once, checked against its entry', async () => {
    await expect(services.bazel.putCas(org, sha256('claimed'), bytes('other bytes'))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(await services.bazel.findCas(org, sha256('claimed'))).toBeUndefined();
    expect(await services.bazel.findCas(org, sha256('other bytes'))).toBeUndefined();
    expect(await services.bazel.putCas(org, sha256('out'), bytes('out'))).toEqual({ created: true });
    expect(await readAll((await services.bazel.getCas(org, sha256('out'))).body)).toBe('out');

    const key = sha256('action');
    const put = await services.bazel.putAc(org, key, bytes('result'), 'token ci (t1)');
    expect(put.created).toBe(true);
    const { items } = await services.log.entries(org, put.entryIndex!, put.entryIndex! + 1);
    expect(JSON.parse(items[0]!.entry)).toMatchObject({ type: 'bazel.action_result', key, sha256: sha256('result'), size: 6, uploaded_by: 'token ci (t1)' });
    const size = await services.log.size(org);
    expect((await services.bazel.putAc(org, key, bytes('another result'), 'token ci (t1)')).created).toBe(false);
    expect(await services.log.size(org)).toBe(size);
    expect(await readAll((await services.bazel.getAc(org, key)).body)).toBe('result');

    const r = await sql<{ entry: string }>`SELECT entry FROM cache_entries WHERE cache_key = ${`bazel-ac/${key}`}`.execute(store.db);
    const row = JSON.parse(r.rows[0]!.entry) as Record<string, unknown>;
    await sql`UPDATE cache_entries SET entry = ${JSON.stringify({ ...row, sha256: sha256('out'), size: 3 })} WHERE cache_key = ${`bazel-ac/${key}`}`.execute(store.db);
    for (const s of [services, createServices(store, testSigner())]) {
      await expect(s.bazel.getAc(org, key)).rejects.toMatchObject({ code: 'TAMPERED', message: expect.stringMatching(/its sha256/) });
    }
    await sql`UPDATE cache_entries SET entry = ${JSON.stringify({ ...row, entry_index: 999 })} WHERE cache_key = ${`bazel-ac/${key}`}`.execute(store.db);
    await expect(services.bazel.findAc(org, key)).rejects.toMatchObject({ code: 'TAMPERED', message: expect.stringMatching(/log entry 999 is not in the signed tree of \d+ entries/) });
    await sql`UPDATE cache_entries SET entry = ${JSON.stringify(row)} WHERE cache_key = ${`bazel-ac/${key}`}`.execute(store.db);
    expect((await services.bazel.findAc(org, key))!.sha256).toBe(sha256('result'));
  });
});
