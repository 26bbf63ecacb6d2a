import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { testApp, type TestApp } from '../helpers/app.js';

// PUT/GET /api/v1/orgs/:org/cache/entries/:key: auth, 404, key format, size limit, objects first.

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const KEY = sha('key');

function entry(over: Record<string, unknown> = {}) {
  return {
    v: 1, key: KEY, step: 'build', duration_secs: 1.5,
    outputs: [{ path: 'out/app.txt', sha256: sha('app'), size: 3, executable: false }],
    log: { sha256: sha('log'), size: 3 },
    producer: { key_id: sha('producer'), public_key: `ed25519:${sha('pub')}` },
    signature: 'c2lnbmF0dXJl',
    ...over,
  };
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
});
