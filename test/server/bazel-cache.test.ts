import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testApp, type TestApp } from '../helpers/app.js';

// Bazel's HTTP remote cache (issue #19): `/ac/<sha256>` and `/cas/<sha256>` through a real socket, with
// requests shaped as Bazel's HTTP client sends them (PUT with a content length and
// application/octet-stream or no type, credentials from the cache URL as Basic, or a bearer header from
// --remote_header). No bazel binary here, so the wire format is what is tested.

const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');

interface Answer { status: number; headers: http.IncomingHttpHeaders; body: Buffer }

describe('Bazel HTTP remote cache', () => {
  let t: TestApp;
  let port: number;
  let member: string;
  let reader: string;
  let globex: string;

  const send = (method: string, path: string, auth: string | undefined, body?: Buffer, contentType: string | null = 'application/octet-stream'): Promise<Answer> =>
    new Promise((resolve, reject) => {
      const headers: Record<string, string> = { host: `127.0.0.1:${port}`, connection: 'keep-alive' };
      if (auth !== undefined) headers.authorization = auth;
      if (body !== undefined) {
        headers['content-length'] = String(body.length);
        if (contentType !== null) headers['content-type'] = contentType;
      }
      const req = http.request({ host: '127.0.0.1', port, method, path, headers }, (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(parts) }));
      });
      req.on('error', reject);
      req.end(body);
    });
  const basic = (token: string, user = 'bazel') => `Basic ${Buffer.from(`${user}:${token}`).toString('base64')}`;
  const bearer = (token: string) => `Bearer ${token}`;

  beforeAll(async () => {
    t = await testApp();
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    port = (t.app.server.address() as AddressInfo).port;
    const acme = await t.auth.org('acme');
    member = (await t.auth.issue(acme, { name: 'ci', role: 'member' })).secret;
    reader = (await t.auth.issue(acme, { name: 'dev', role: 'reader' })).secret;
    const { org } = await t.auth.ensureOrg('globex');
    globex = (await t.auth.issue(org, { name: 'g', role: 'admin' })).secret;
  });
  afterAll(async () => t.close());

  it('CAS: stores bytes under their digest, refuses bytes that hash to anything else, serves them checked', async () => {
    const blob = randomBytes(70_000);
    const digest = sha256(blob);
    expect((await send('HEAD', `/cas/${digest}`, basic(reader))).status).toBe(404);
    expect((await send('GET', `/cas/${digest}`, basic(reader))).status).toBe(404);
    expect((await send('PUT', `/cas/${digest}`, basic(member), blob)).status).toBe(200);
    const head = await send('HEAD', `/cas/${digest}`, basic(reader));
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBe(String(blob.length));
    const got = await send('GET', `/cas/${digest}`, basic(reader));
    expect(got.status).toBe(200);
    expect(got.body.equals(blob)).toBe(true);
    // Other bytes under a digest they do not have: refused, and nothing under either digest appears.
    const lie = Buffer.from('not the bytes of that digest');
    const claimed = sha256('something else');
    const refused = await send('PUT', `/cas/${claimed}`, basic(member), lie);
    expect(refused.status).toBe(400);
    expect(JSON.parse(refused.body.toString()).error.message).toMatch(new RegExp(`hashes to sha256:${sha256(lie)}, not the sha256:${claimed}`));
    expect((await send('HEAD', `/cas/${claimed}`, basic(reader))).status).toBe(404);
    expect((await send('HEAD', `/cas/${sha256(lie)}`, basic(reader))).status).toBe(404);
    // The empty blob, and a PUT without a content type (both are Bazel's).
    expect((await send('PUT', `/cas/${sha256('')}`, basic(member), Buffer.alloc(0), null)).status).toBe(200);
    expect((await send('GET', `/cas/${sha256('')}`, basic(reader))).body.length).toBe(0);
    const plain = Buffer.from('no content type');
    expect((await send('PUT', `/cas/${sha256(plain)}`, bearer(member), plain, null)).status).toBe(200);
    expect((await send('GET', `/cas/${sha256(plain)}`, bearer(reader))).body.toString()).toBe('no content type');
    // Blobs are per org: another org's token sees none of them.
    expect((await send('GET', `/cas/${digest}`, basic(globex))).status).toBe(404);
  });

  it('AC: each upload is a bazel.action_result log entry; first writer wins; a swapped row is TAMPERED', async () => {
    const action = sha256('an Action message');
    const result = Buffer.from([0x0a, 0x0c, 0x0a, 0x04, 0x6f, 0x75, 0x74, 0x31, 0x12, 0x04, 0x08, 0x01, 0x10, 0x02]); // ActionResult-shaped protobuf
    const size = await t.log.size(await t.auth.org('acme'));
    expect((await send('PUT', `/bazel/acme/ac/${action}`, basic(member), result)).status).toBe(200);
    const acme = await t.auth.org('acme');
    const { items } = await t.log.entries(acme, size, size + 1);
    expect(JSON.parse(items[0]!.entry)).toMatchObject({ type: 'bazel.action_result', org: 'acme', key: action, sha256: sha256(result), size: result.length, uploaded_by: expect.stringMatching(/^token ci \(/) });
    const got = await send('GET', `/ac/${action}`, bearer(reader));
    expect(got.status).toBe(200);
    expect(got.body.equals(result)).toBe(true);
    expect((await send('HEAD', `/bazel/acme/ac/${action}`, basic(reader))).status).toBe(200);
    // A second upload of the key is accepted (Bazel must not fail) but neither stored nor logged.
    expect((await send('PUT', `/ac/${action}`, basic(member), Buffer.from('other result'))).status).toBe(200);
    expect(await t.log.size(acme)).toBe(size + 1);
    expect((await send('GET', `/ac/${action}`, basic(reader))).body.equals(result)).toBe(true);
    // Whoever holds the database points the row at other bytes of the org (a blob in its CAS).
    const other = Buffer.from('a poisoned action result');
    expect((await send('PUT', `/cas/${sha256(other)}`, basic(member), other)).status).toBe(200);
    const rows = await sql<{ entry: string }>`SELECT entry FROM cache_entries WHERE cache_key = ${`bazel-ac/${action}`}`.execute(t.store.db);
    const row = JSON.parse(rows.rows[0]!.entry) as Record<string, unknown>;
    await sql`UPDATE cache_entries SET entry = ${JSON.stringify({ ...row, sha256: sha256(other), size: other.length })} WHERE cache_key = ${`bazel-ac/${action}`}`.execute(t.store.db);
    const swapped = await send('GET', `/ac/${action}`, basic(reader));
    expect(swapped.status).toBe(500);
    expect(JSON.parse(swapped.body.toString()).error).toMatchObject({ code: 'TAMPERED', message: expect.stringMatching(/Bazel action result .* refused: the cache_entries row of log entry \d+ was edited: its sha256/) });
    expect((await send('HEAD', `/ac/${action}`, basic(reader))).status).toBe(500);
    await sql`UPDATE cache_entries SET entry = ${JSON.stringify(row)} WHERE cache_key = ${`bazel-ac/${action}`}`.execute(t.store.db);
    expect((await send('GET', `/ac/${action}`, basic(reader))).body.equals(result)).toBe(true);
  });

  it('maps bearer and basic credentials to Evident tokens and roles, the URL prefix to the org', async () => {
    const blob = Buffer.from('role checks');
    const digest = sha256(blob);
    expect((await send('PUT', `/cas/${digest}`, undefined, blob)).status).toBe(401);
    expect((await send('GET', `/cas/${digest}`, basic('evd_not_a_token'))).status).toBe(401);
    expect((await send('GET', `/cas/${digest}`, `Basic ${Buffer.from(member).toString('base64')}`)).status).toBe(401); // no user:password
    expect((await send('PUT', `/cas/${digest}`, basic(reader), blob)).status).toBe(403);
    expect((await send('PUT', `/ac/${digest}`, bearer(reader), blob)).status).toBe(403);
    expect((await send('PUT', `/bazel/globex/cas/${digest}`, basic(member), blob)).status).toBe(403);
    expect((await send('GET', `/bazel/globex/ac/${digest}`, basic(member))).status).toBe(403);
    expect((await send('PUT', `/bazel/acme/cas/${digest}`, basic(member, 'anyone'), blob)).status).toBe(200);
    expect((await send('GET', `/bazel/acme/cas/${digest}`, basic(reader))).body.equals(blob)).toBe(true);
    // Basic is taken only by the cache routes: a browser replays it on its own (CSRF), the API wants bearer tokens.
    expect((await send('GET', '/api/v1/orgs/acme/log/entries', basic(reader))).status).toBe(401);
    expect((await send('GET', '/api/v1/orgs/acme/log/entries', bearer(reader))).status).toBe(200);
    // Digests are 64 lowercase hex digits.
    expect((await send('GET', `/cas/${digest.toUpperCase()}`, basic(reader))).status).toBe(400);
    expect((await send('PUT', `/ac/${digest.slice(1)}`, basic(member), blob)).status).toBe(400);
  });
});
