import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendFiles } from '../../src/core/index.js';
import { tempDir } from '../helpers/engines.js';

// Evidence uploads on node:http (src/core/http-upload.ts, issue #21): the multipart body must be what fetch sent
// for the same FormData of files, so that the server records the same names and bytes.

interface Seen { type: string; length: string | undefined; body: Buffer; proxied: boolean }

describe('sendFiles', () => {
  const seen: Seen[] = [];
  let server: http.Server;
  let base: string;
  let dir: string;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen.push({ type: req.headers['content-type'] ?? '', length: req.headers['content-length'], body: Buffer.concat(chunks), proxied: req.url!.startsWith('http://') });
        res.writeHead(req.url!.endsWith('/refuse') ? 413 : 201, { 'content-type': 'application/json' }).end('{"ok":true}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    dir = tempDir('evident-upload-');
    fs.writeFileSync(path.join(dir, 'a.xml'), '<testsuite/>\r\n--not-a-boundary\n');
    fs.writeFileSync(path.join(dir, 'empty'), '');
    fs.writeFileSync(path.join(dir, 'bin'), Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 7) % 256)));
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const boundaryOf = (type: string) => /boundary=(.+)$/.exec(type)![1]!;
  /** The body with its boundary replaced, so that two encodings of the same files compare equal. */
  const normal = (s: Seen) => s.body.toString('latin1').split(boundaryOf(s.type)).join('BOUNDARY');

  it("sends the bytes fetch sends for a FormData of the same files (names escaped alike), with a content-length", async () => {
    const files = [
      { path: path.join(dir, 'a.xml'), name: 'reports/a.xml' },
      { path: path.join(dir, 'empty'), name: 'we"ird\nname\r.txt' },
      { path: path.join(dir, 'bin'), name: 'bin' },
    ];
    const form = new FormData();
    for (const f of files) form.append('file', await fs.openAsBlob(f.path), f.name);
    await fetch(`${base}/evidence`, { method: 'POST', body: form });
    const answer = await sendFiles(new URL(`${base}/evidence`), 'POST', files, { headers: { authorization: 'Bearer t' } });
    expect(answer.status).toBe(201);
    expect(await answer.json()).toEqual({ ok: true });
    const [byFetch, byUs] = seen.slice(-2) as [Seen, Seen];
    expect(byUs.type).toMatch(/^multipart\/form-data; boundary=/);
    expect(normal(byUs)).toBe(normal(byFetch));
    expect(Number(byUs.length)).toBe(byUs.body.length);
    expect(byUs.proxied).toBe(false);
  });

  it('goes through --http-proxy when given one (the request in absolute form)', async () => {
    await sendFiles(new URL('http://evident.invalid/evidence'), 'POST', [{ path: path.join(dir, 'a.xml'), name: 'a.xml' }], { headers: {}, proxy: new URL(base) });
    expect(seen.at(-1)!.proxied).toBe(true);
    expect(seen.at(-1)!.body.toString()).toContain('<testsuite/>');
  });

  it('hands back a refusal as an answer (the caller turns it into an error), not as a failure to send', async () => {
    const answer = await sendFiles(new URL(`${base}/refuse`), 'POST', [{ path: path.join(dir, 'a.xml'), name: 'a.xml' }], { headers: {} });
    expect([answer.status, answer.ok]).toEqual([413, false]);
  });

  it('stops sending when the server answers before reading the body (a 413), and does not hold the connection', async () => {
    const big = path.join(dir, 'big');
    fs.writeFileSync(big, Buffer.alloc(8 * 1024 * 1024, 1));
    const early = http.createServer((_req, res) => res.writeHead(413, { 'content-type': 'application/json' }).end('{"error":{"code":"PAYLOAD_TOO_LARGE","message":"too large"}}'));
    // Nothing closes a connection on the server's side (no timeouts): a client that held it would hold close() past the test's timeout.
    early.keepAliveTimeout = 600_000;
    early.requestTimeout = 0;
    early.headersTimeout = 0;
    await new Promise<void>((resolve) => early.listen(0, '127.0.0.1', resolve));
    try {
      const answer = await sendFiles(new URL(`http://127.0.0.1:${(early.address() as AddressInfo).port}/evidence`), 'POST', [{ path: big, name: 'big' }], { headers: {} });
      expect(answer.status).toBe(413);
    } finally {
      // Resolves only once no connection is left open.
      await new Promise<void>((resolve) => early.close(() => resolve()));
    }
  });

  it('fails on a file it cannot read, and on a server it cannot reach, with the cause', async () => {
    await expect(sendFiles(new URL(`${base}/evidence`), 'POST', [{ path: path.join(dir, 'missing'), name: 'missing' }], { headers: {} })).rejects.toThrow(/ENOENT/);
    const err = await sendFiles(new URL('http://127.0.0.1:9/evidence'), 'POST', [{ path: path.join(dir, 'a.xml'), name: 'a.xml' }], { headers: {} }).catch((e: unknown) => e as Error);
    expect(err).toBeInstanceOf(Error);
    expect(((err as Error).cause as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
  });
});
