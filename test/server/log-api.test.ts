import { createPublicKey } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromHex } from '../../src/core/index.js';
import { EvidentClient } from '../../src/client/index.js';
import { openCheckpoint, parseVerifierKey, rootOfLeaves, verifyConsistency, verifyInclusion } from '../../src/ledger/index.js';
import { bearer, testApp, type TestApp } from '../helpers/app.js';

describe('log endpoints', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await testApp({ bodyLimit: 64 * 1024 });
    const org = await t.auth.org('acme');
    await Promise.all(Array.from({ length: 1234 }, (_, i) => t.log.append(org, 'test', { i })));
  });
  afterAll(async () => t.close());

  const get = (url: string) => t.app.inject({ method: 'GET', url, headers: bearer(t.adminToken) });

  it('serves the verifier key and a checkpoint signed with it', async () => {
    const key = (await get('/api/v1/orgs/acme/log/key')).json();
    const res = await get('/api/v1/orgs/acme/log/checkpoint');
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    const cp = openCheckpoint(res.body, [parseVerifierKey(key.verifier_key)]);
    expect(cp.origin).toBe(key.origin);
    expect(cp.size).toBe(1234);
    // C2SP tlog-checkpoint: the signature line's key name is the origin (interop W1)
    expect(parseVerifierKey(key.verifier_key).name).toBe(key.origin);
    expect(res.body).toContain(`\n\u2014 ${key.origin} `);
    // The same key as PEM: openssl's SubjectPublicKeyInfo, the raw key after the 12-byte Ed25519 header
    const der = createPublicKey(key.public_key_pem).export({ format: 'der', type: 'spki' });
    expect(der.subarray(0, 12).toString('hex')).toBe('302a300506032b6570032100');
    expect(Buffer.from(der.subarray(12)).toString('base64')).toBe(Buffer.from(Buffer.from(key.verifier_key.split('+').slice(2).join('+'), 'base64').subarray(1)).toString('base64'));
  });

  it('pages through entries with next_cursor, end exclusive', async () => {
    const first = (await get('/api/v1/orgs/acme/log/entries?start=0')).json();
    expect(first.items).toHaveLength(1000);
    expect(first.next_cursor).toBe('1000');
    const rest = (await get(`/api/v1/orgs/acme/log/entries?cursor=${first.next_cursor}`)).json();
    expect(rest.items.map((e: { index: number }) => e.index)).toEqual(Array.from({ length: 234 }, (_, i) => 1000 + i));
    expect(rest.next_cursor).toBeNull();
    const range = (await get('/api/v1/orgs/acme/log/entries?start=5&end=8')).json();
    expect(range.items.map((e: { index: number }) => e.index)).toEqual([5, 6, 7]);
    expect((await get('/api/v1/orgs/acme/log/entries?start=9&end=8')).statusCode).toBe(400);
    expect((await get('/api/v1/orgs/acme/log/entries?start=-1')).statusCode).toBe(400);
  });

  it('gives inclusion proofs by index and by leaf hash, and consistency proofs, that verify', async () => {
    const cp = openCheckpoint((await get('/api/v1/orgs/acme/log/checkpoint')).body, [parseVerifierKey((await get('/api/v1/orgs/acme/log/key')).json().verifier_key)]);
    const byIndex = (await get('/api/v1/orgs/acme/log/proof/inclusion?index=777')).json();
    expect(byIndex).toMatchObject({ index: 777, tree_size: 1234 });
    verifyInclusion(777, 1234, fromHex(byIndex.leaf_hash), byIndex.hashes.map((h: string) => fromHex(h)), cp.root);
    const byLeaf = (await get(`/api/v1/orgs/acme/log/proof/inclusion?leaf_hash=${byIndex.leaf_hash}&tree_size=1000`)).json();
    expect(byLeaf).toMatchObject({ index: 777, tree_size: 1000 });
    const entries = [
      ...(await get('/api/v1/orgs/acme/log/entries?start=0&end=1000')).json().items,
    ].map((e: { leaf_hash: string }) => fromHex(e.leaf_hash));
    verifyInclusion(777, 1000, fromHex(byLeaf.leaf_hash), byLeaf.hashes.map((h: string) => fromHex(h)), rootOfLeaves(entries));
    const c = (await get('/api/v1/orgs/acme/log/proof/consistency?from=1000&to=1234')).json();
    verifyConsistency(1000, 1234, c.hashes.map((h: string) => fromHex(h)), rootOfLeaves(entries), cp.root);
    expect((await get('/api/v1/orgs/acme/log/proof/inclusion')).statusCode).toBe(400);
    expect((await get('/api/v1/orgs/acme/log/proof/inclusion?index=1&leaf_hash=' + 'a'.repeat(64))).statusCode).toBe(400);
    expect((await get('/api/v1/orgs/acme/log/proof/inclusion?leaf_hash=XYZ')).statusCode).toBe(400);
    expect((await get('/api/v1/orgs/acme/log/proof/inclusion?index=1234')).statusCode).toBe(400);
    expect((await get('/api/v1/orgs/acme/log/proof/consistency?from=2000')).statusCode).toBe(400);
  });

  it('documents every route in the OpenAPI document', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/openapi.json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json();
    expect(doc.openapi).toBe('3.1.0');
    expect(t.app.routeTable.length).toBeGreaterThanOrEqual(12);
    for (const route of t.app.routeTable) {
      // A wildcard (the tiles' paths) is the path parameter `*` to @fastify/swagger.
      const path = route.url.replace(/:([A-Za-z_]+)/g, '{$1}').replace(/\*$/, '{*}');
      const op = doc.paths[path]?.[route.method.toLowerCase()];
      expect(op, `${route.method} ${route.url}`).toBeDefined();
      expect(op.summary, `${route.method} ${route.url} summary`).toEqual(expect.any(String));
      if (path.startsWith('/api/v1/orgs')) expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['401', '403']));
    }
  });

  it('answers health and readiness, and unknown routes with the error shape', async () => {
    expect((await t.app.inject('/healthz')).json()).toEqual({ status: 'ok' });
    expect((await t.app.inject('/readyz')).json()).toEqual({ status: 'ready' });
    const missing = await t.app.inject('/api/v1/nothing');
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.code).toBe('NOT_FOUND');
  });

  it('refuses bodies over the limit and malformed JSON', async () => {
    const big = await t.app.inject({
      method: 'POST', url: '/api/v1/orgs/acme/tokens', headers: { ...bearer(t.adminToken), 'content-type': 'application/json' },
      payload: JSON.stringify({ name: 'x'.repeat(100 * 1024), role: 'reader' }),
    });
    expect(big.statusCode).toBe(413);
    expect(big.json().error.code).toBe('PAYLOAD_TOO_LARGE');
    const bad = await t.app.inject({ method: 'POST', url: '/api/v1/orgs/acme/tokens', headers: { ...bearer(t.adminToken), 'content-type': 'application/json' }, payload: '{"name":' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('INVALID_ARGUMENT');
  });

  it('works through a real socket with the typed client', async () => {
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const address = t.app.server.address() as { port: number };
    const client = new EvidentClient({ host: `http://127.0.0.1:${address.port}`, org: 'acme', apiToken: t.adminToken });
    expect((await client.whoami()).role).toBe('admin');
    const page = await client.logEntries(10, 12);
    expect(page.items.map((e) => e.index)).toEqual([10, 11]);
    const proof = await client.consistencyProof(1, 1234);
    expect(proof.hashes.length).toBeGreaterThan(0);
    await expect(new EvidentClient({ host: `http://127.0.0.1:${address.port}`, org: 'acme', apiToken: 'evd_x' }).whoami()).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    await expect(new EvidentClient({ host: 'http://127.0.0.1:1', org: 'acme' }).whoami()).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });
});
