import fs from 'node:fs';
import path from 'node:path';
import http from 'node:http';
import { execFile, execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import {
  HASH_SIZE, decodeEntryBundle, leafHash, openCheckpoint, parseVerifierKey, rootOfLeaves, storedHashIndex,
} from '../../src/ledger/index.js';
import { bearer, testApp, type TestApp } from '../helpers/app.js';
import { dropTriggers } from '../helpers/tamper.js';
import { tempDir } from '../helpers/engines.js';

// The log as C2SP tlog-tiles (src/server/routes/tiles.ts): read back through inject(), and by an independent
// client — Go's golang.org/x/mod/sumdb/tlog over a real socket — that checks every tile against the checkpoint.

const SIZE = 600;
const GO = '/usr/bin/go';
const GOPATH = '/usr/share/gocode';

describe('the log as tiles', () => {
  let t: TestApp;
  let firstCheckpoint: string;
  beforeAll(async () => {
    t = await testApp();
    const org = await t.auth.org('acme');
    for (let i = 0; i < 300; i += 100) await Promise.all(Array.from({ length: 100 }, (_, j) => t.log.append(org, 'test', { i: i + j, note: 'é'.repeat((i + j) % 40) })));
    firstCheckpoint = await t.log.checkpoint(org);
    for (let i = 300; i < SIZE; i += 100) await Promise.all(Array.from({ length: 100 }, (_, j) => t.log.append(org, 'test', { i: i + j })));
  }, 60_000);
  afterAll(async () => t.close());

  const get = (url: string, token = t.adminToken) => t.app.inject({ method: 'GET', url: `/api/v1/orgs/acme/log/${url}`, headers: bearer(token) });

  async function allEntries(): Promise<string[]> {
    const out: string[] = [];
    for (let start = 0; start < SIZE; start += 1000) {
      out.push(...(await get(`entries?start=${start}`)).json().items.map((e: { entry: string }) => e.entry));
    }
    return out;
  }

  it('serves hash tiles whose hashes are the tree\'s, full tiles marked immutable', async () => {
    const entries = await allEntries();
    const leaves = entries.map((e) => leafHash(Buffer.from(e, 'utf8')));
    const full = await get('tile/0/001');
    expect(full.statusCode).toBe(200);
    expect(full.headers['content-type']).toBe('application/octet-stream');
    expect(full.headers['cache-control']).toBe('private, max-age=31536000, immutable');
    expect(full.rawPayload.length).toBe(256 * HASH_SIZE);
    expect(full.rawPayload.subarray(0, HASH_SIZE)).toEqual(Buffer.from(leaves[256]!));
    const partial = await get('tile/0/002.p/88');
    expect(partial.rawPayload.length).toBe(88 * HASH_SIZE);
    expect(partial.rawPayload.subarray(87 * HASH_SIZE)).toEqual(Buffer.from(leaves[599]!));
    // Level 1 holds the roots of each 256 leaves.
    const level1 = await get('tile/1/000.p/2');
    expect(level1.rawPayload.subarray(0, HASH_SIZE)).toEqual(Buffer.from(rootOfLeaves(leaves.slice(0, 256))));
    expect(level1.rawPayload.subarray(HASH_SIZE)).toEqual(Buffer.from(rootOfLeaves(leaves.slice(256, 512))));
    // A narrower width of an existing tile is the same prefix.
    expect((await get('tile/0/002.p/5')).rawPayload).toEqual(partial.rawPayload.subarray(0, 5 * HASH_SIZE));
  });

  it('serves entry bundles that hold the entries\' exact bytes', async () => {
    const entries = await allEntries();
    const bundle = await get('tile/entries/000');
    expect(bundle.statusCode).toBe(200);
    expect(decodeEntryBundle(bundle.rawPayload).map((b) => Buffer.from(b).toString('utf8'))).toEqual(entries.slice(0, 256));
    const last = await get('tile/entries/002.p/88');
    expect(decodeEntryBundle(last.rawPayload).map((b) => Buffer.from(b).toString('utf8'))).toEqual(entries.slice(512));
  });

  it('answers 404 for tiles the tree does not have yet, 400 for malformed paths, and needs a token', async () => {
    const missing = await get('tile/0/002');
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.message).toMatch(/has 88 so far: tile\/0\/002\.p\/88/);
    expect((await get('tile/0/003.p/1')).statusCode).toBe(404);
    expect((await get('tile/2/000.p/1')).statusCode).toBe(404);
    expect((await get('tile/entries/002.p/89')).statusCode).toBe(404);
    for (const bad of ['tile/0/2', 'tile/0/x000/002', 'tile/99/000', 'tile/0/000.p/256', 'tile/entries/000.p/0']) {
      const res = await get(bad);
      expect(res.statusCode, bad).toBe(400);
      expect(res.json().error.code).toBe('INVALID_ARGUMENT');
    }
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/orgs/acme/log/tile/0/000' })).statusCode).toBe(401);
  });

  it('refuses an entry bundle holding an entry longer than its 16-bit frame, naming the entry', async () => {
    const org = (await t.auth.ensureOrg('big')).org;
    const { secret } = await t.auth.issue(org, { name: 'admin', role: 'admin' });
    await t.log.append(org, 'test', { blob: 'x'.repeat(70_000) });
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/orgs/big/log/tile/entries/000.p/1', headers: bearer(secret) });
    expect(res.statusCode).toBe(413);
    expect(res.json().error.message).toMatch(/entry 0 is 700\d\d bytes/);
    // Its hash tile is served as usual.
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/orgs/big/log/tile/0/000.p/1', headers: bearer(secret) })).statusCode).toBe(200);
  });

  it('answers an edited hash row 500 TAMPERED, with nothing a cache would keep', async () => {
    const org = (await t.auth.ensureOrg('forged')).org;
    const { secret } = await t.auth.issue(org, { name: 'admin', role: 'admin' });
    await Promise.all(Array.from({ length: 300 }, (_, i) => t.log.append(org, 'test', { i })));
    await dropTriggers(t.store);
    await sql`UPDATE log_hashes SET hash = ${Buffer.alloc(HASH_SIZE)} WHERE org_id = ${org.id} AND hidx = ${storedHashIndex(0, 10)}`.execute(t.store.db);
    for (const tile of ['tile/0/000', 'tile/entries/000', 'tile/0/000.p/11', 'tile/entries/000.p/12']) {
      const res = await t.app.inject({ method: 'GET', url: `/api/v1/orgs/forged/log/${tile}`, headers: bearer(secret) });
      expect(res.statusCode, tile).toBe(500);
      expect(res.json().error.code).toBe('TAMPERED');
      expect(res.headers['cache-control'] ?? '').not.toMatch(/immutable/);
    }
  });

  // Debian's golang-go and golang-golang-x-mod-dev, installed by .ci/run.
  describe.skipIf(!fs.existsSync(GO) || !fs.existsSync(path.join(GOPATH, 'src/golang.org/x/mod/sumdb/tlog')))('read by Go\'s sumdb/tlog', () => {
    let bin: string;
    let url: string;
    let key: string;
    beforeAll(async () => {
      const dir = tempDir('evident-go-');
      bin = path.join(dir, 'tiles-client');
      const env = { ...process.env, GO111MODULE: 'off', GOPATH, GOCACHE: path.join(dir, 'cache'), GOFLAGS: '' };
      execFileSync(GO, ['build', '-o', bin, '.'], { cwd: path.resolve('test/fixtures/tiles-client'), env });
      url = await t.app.listen({ port: 0, host: '127.0.0.1' });
      key = (await get('key')).json().verifier_key as string;
    }, 120_000);

    // execFile, not execFileSync: the server answering the client lives on this event loop.
    const client = (prefix: string, ...args: string[]) => new Promise<{ ok: boolean; out: string }>((resolve) => {
      execFile(bin, [prefix, t.adminToken, key, ...args], (err, stdout) => resolve({ ok: !err, out: stdout }));
    });

    it('checks the checkpoint, proves every entry from tiles, and proves an earlier checkpoint consistent', async () => {
      const earlier = openCheckpoint(firstCheckpoint, [parseVerifierKey(key)]);
      const { ok, out } = await client(`${url}/api/v1/orgs/acme/log`, String(earlier.size), '1', '257');
      expect(out).toContain(`ok ${SIZE} ${SIZE} 3`);
      expect(ok).toBe(true);
      expect(out).toContain(`root ${earlier.size} ${Buffer.from(earlier.root).toString('base64')}`);
    }, 120_000);

    it('catches a tile changed on its way (a cache or mirror cannot lie)', async () => {
      // A mirror that flips one bit of one hash tile and passes everything else through.
      const mirror = http.createServer((req, res) => {
        const upstream = http.request(`${url}${req.url}`, { headers: { authorization: req.headers.authorization ?? '' } }, (up) => {
          const chunks: Buffer[] = [];
          up.on('data', (c: Buffer) => chunks.push(c));
          up.on('end', () => {
            const body = Buffer.concat(chunks);
            if (req.url!.endsWith('/tile/0/001')) body[100]! ^= 1;
            res.writeHead(up.statusCode!, { 'content-type': up.headers['content-type'] ?? 'text/plain' }).end(body);
          });
        });
        upstream.end();
      });
      await new Promise<void>((resolve) => mirror.listen(0, '127.0.0.1', resolve));
      try {
        const port = (mirror.address() as { port: number }).port;
        const { ok, out } = await client(`http://127.0.0.1:${port}/api/v1/orgs/acme/log`);
        expect(ok).toBe(false);
        expect(out).toMatch(/FAIL/);
      } finally {
        await new Promise((resolve) => mirror.close(resolve));
      }
    }, 120_000);
  });
});
