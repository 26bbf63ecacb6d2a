import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { cacheEntrySigningBytes, ed25519InTotoKey, inTotoKeyId } from '../../src/formats/index.js';
import { testApp, type TestApp } from '../helpers/app.js';

// PUT/GET /api/v1/orgs/:org/cache/entries/:key: auth, 404, key format, size limit, objects first.

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const KEY = sha('key');

interface Producer { keyId: string; publicKey: string; privateKey: KeyObject }

function producer(): Producer {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const hex = publicKey.export({ format: 'der', type: 'spki' }).subarray(12).toString('hex');
  return { keyId: inTotoKeyId(ed25519InTotoKey(hex)), publicKey: `ed25519:${hex}`, privateKey };
}
const P = producer();

/** An entry signed by `by` (default P), as `evident run` signs them (pipeline/remote-cache.ts). */
function entry(over: Record<string, unknown> = {}, by: Producer = P) {
  const body: Record<string, unknown> = {
    v: 1, key: KEY, step: 'build', duration_secs: 1.5,
    outputs: [{ path: 'out/app.txt', sha256: sha('app'), size: 3, executable: false }],
    log: { sha256: sha('log'), size: 3 },
    producer: { key_id: by.keyId, public_key: by.publicKey },
    ...over,
  };
  return { ...body, signature: sign(null, cacheEntrySigningBytes(body), by.privateKey).toString('base64') };
}

describe('cache routes', () => {
  let t: TestApp;
  let auth: Record<string, string>;
  beforeEach(async () => {
    t = await testApp();
    auth = { authorization: `Bearer ${t.adminToken}` };
  });
  afterEach(() => t.close());

  const upload = async (text: string) => {
    const org = await t.auth.org('acme');
    await t.services.vault.put(org, (async function* () { yield new TextEncoder().encode(text); })());
  };

  it('stores an entry whose objects are in the vault and returns it; first writer per producer wins', async () => {
    const url = `/api/v1/orgs/acme/cache/entries/${KEY}`;
    expect((await t.app.inject({ method: 'GET', url, headers: auth })).statusCode).toBe(404);
    const missing = await t.app.inject({ method: 'PUT', url, headers: auth, payload: entry() });
    expect(missing.statusCode).toBe(400);
    expect(missing.json().error.message).toContain('was not uploaded');
    await upload('app');
    await upload('log');
    const put = await t.app.inject({ method: 'PUT', url, headers: auth, payload: entry() });
    expect(put.statusCode).toBe(201);
    const again = await t.app.inject({ method: 'PUT', url, headers: auth, payload: entry({ duration_secs: 9 }) });
    expect(again.statusCode).toBe(200);
    expect(again.json().entry.duration_secs).toBe(1.5);
    const got = await t.app.inject({ method: 'GET', url, headers: auth });
    expect(got.statusCode).toBe(200);
    expect(got.json().entries.map((e: { entry: unknown }) => e.entry)).toEqual([entry()]);
    expect((await t.app.inject({ method: 'HEAD', url, headers: auth })).statusCode).toBe(200);
  });

  it('refuses no token, a bad key, a key mismatch and an oversized entry', async () => {
    const url = `/api/v1/orgs/acme/cache/entries/${KEY}`;
    expect((await t.app.inject({ method: 'GET', url })).statusCode).toBe(401);
    expect((await t.app.inject({ method: 'PUT', url, payload: entry() })).statusCode).toBe(401);
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/orgs/acme/cache/entries/NOT-A-KEY', headers: auth })).statusCode).toBe(400);
    const other = await t.app.inject({ method: 'PUT', url: `/api/v1/orgs/acme/cache/entries/${sha('other')}`, headers: auth, payload: entry() });
    expect(other.statusCode).toBe(400);
    const big = entry({ step: 'build', outputs: Array.from({ length: 6000 }, (_, i) => ({ path: `out/${'x'.repeat(60)}${i}`, sha256: sha(String(i)), size: 1, executable: false })) });
    expect((await t.app.inject({ method: 'PUT', url, headers: auth, payload: big })).statusCode).toBe(413);
  });

  it('a reader may get but not put', async () => {
    const org = await t.auth.org('acme');
    const { secret } = await t.auth.issue(org, { name: 'r', role: 'reader' });
    const url = `/api/v1/orgs/acme/cache/entries/${KEY}`;
    const headers = { authorization: `Bearer ${secret}` };
    expect((await t.app.inject({ method: 'PUT', url, headers, payload: entry() })).statusCode).toBe(403);
    expect((await t.app.inject({ method: 'GET', url, headers })).statusCode).toBe(404);
  });

  it('refuses (422) an unsigned entry, a bad signature, and a key id that is not the carried key\'s: nobody can take another producer\'s slot', async () => {
    await upload('app');
    await upload('log');
    const url = `/api/v1/orgs/acme/cache/entries/${KEY}`;
    const put = (payload: unknown) => t.app.inject({ method: 'PUT', url, headers: auth, payload: payload as Record<string, unknown> });
    const forged = { ...entry(), signature: Buffer.alloc(64, 1).toString('base64') };
    const r1 = await put(forged);
    expect(r1.statusCode).toBe(422);
    expect(r1.json().error.message).toMatch(/bad signature/);
    const attacker = producer();
    // The attacker's own valid signature, claiming P's key id (with P's or its own public key).
    const claimP = entry({ producer: { key_id: P.keyId, public_key: attacker.publicKey } }, attacker);
    expect((await put(claimP)).statusCode).toBe(422);
    const claimPWithPKey = { ...entry({ producer: { key_id: P.keyId, public_key: P.publicKey } }, attacker) };
    expect((await put(claimPWithPKey)).statusCode).toBe(422);
    expect((await put({ ...entry(), signature: undefined })).statusCode).toBe(400);
    expect((await t.app.inject({ method: 'GET', url, headers: auth })).statusCode).toBe(404);
    // P's genuine entry is then stored (201), not answered with a squatter's.
    const genuine = await put(entry());
    expect(genuine.statusCode).toBe(201);
    expect(genuine.json().entry.producer.key_id).toBe(P.keyId);
  });

  it('?key_ids= returns the entries of those producers, however many others stored theirs first', async () => {
    await upload('app');
    await upload('log');
    const url = `/api/v1/orgs/acme/cache/entries/${KEY}`;
    for (let i = 0; i < 21; i++) expect((await t.app.inject({ method: 'PUT', url, headers: auth, payload: entry({}, producer()) })).statusCode).toBe(201);
    expect((await t.app.inject({ method: 'PUT', url, headers: auth, payload: entry() })).statusCode).toBe(201);
    const all = await t.app.inject({ method: 'GET', url, headers: auth });
    expect(all.json().entries).toHaveLength(20);
    expect(all.json().entries.some((e: { entry: { producer: { key_id: string } } }) => e.entry.producer.key_id === P.keyId)).toBe(false);
    const other = producer();
    const mine = await t.app.inject({ method: 'GET', url: `${url}?key_ids=${other.keyId},${P.keyId}`, headers: auth });
    expect(mine.statusCode).toBe(200);
    expect(mine.json().entries.map((e: { entry: { producer: { key_id: string } } }) => e.entry.producer.key_id)).toEqual([P.keyId]);
    expect((await t.app.inject({ method: 'GET', url: `${url}?key_ids=${other.keyId}`, headers: auth })).statusCode).toBe(404);
    expect((await t.app.inject({ method: 'GET', url: `${url}?key_ids=nothex`, headers: auth })).statusCode).toBe(400);
  });
});
