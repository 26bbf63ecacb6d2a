import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fastCheckpoint } from '../../src/cli/fast-checkpoint.js';
import { EvidentClient } from '../../src/client/index.js';

// `log checkpoint` sends its request without loading the client (start-up, issue #21): the same request, the
// note verbatim on a 200, and on anything else the full client's answer (it asks again).

describe('log checkpoint without the client', () => {
  let server: http.Server;
  let host: string;
  const seen: { url?: string; auth?: string }[] = [];
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      seen.push({ url: req.url, auth: req.headers.authorization });
      if (req.headers.authorization !== 'Bearer good') {
        res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'UNAUTHENTICATED', message: 'no such token' } }));
        return;
      }
      res.writeHead(200, { 'content-type': 'text/plain' }).end('example.org/log\n7\nroot=\n\n— sig\n');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    host = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('asks for the org\'s checkpoint with the token and returns the note verbatim', async () => {
    expect(await fastCheckpoint({ host, org: 'a b', apiToken: 'good' })).toBe('example.org/log\n7\nroot=\n\n— sig\n');
    expect(seen.at(-1)).toEqual({ url: '/api/v1/orgs/a%20b/log/checkpoint', auth: 'Bearer good' });
    expect(await new EvidentClient({ host, org: 'a b', apiToken: 'good' }).checkpoint()).toBe('example.org/log\n7\nroot=\n\n— sig\n');
    expect(seen.at(-1)).toEqual({ url: '/api/v1/orgs/a%20b/log/checkpoint', auth: 'Bearer good' });
  });

  it('leaves every other answer, and a bad --host, to the client', async () => {
    expect(await fastCheckpoint({ host, org: 'a', apiToken: 'bad' })).toBeUndefined();
    expect(await fastCheckpoint({ host: 'not a url', org: 'a' })).toBeUndefined();
    expect(await fastCheckpoint({ host: 'ftp://127.0.0.1', org: 'a' })).toBeUndefined();
  });

  it('goes through --http-proxy like every other request (the server here doubles as the forward proxy)', async () => {
    // A forward proxy is asked in absolute form (RFC 9112 §3.2.2): the target's whole URL as the request target.
    const target = 'http://evident.invalid:1/';
    expect(await fastCheckpoint({ host: target, org: 'a', apiToken: 'good', proxy: host })).toBe('example.org/log\n7\nroot=\n\n— sig\n');
    expect(seen.at(-1)).toEqual({ url: 'http://evident.invalid:1/api/v1/orgs/a/log/checkpoint', auth: 'Bearer good' });
    expect(await fastCheckpoint({ host: target, org: 'a', proxy: 'ftp://x' })).toBeUndefined();
  });

  it('says it cannot reach the server as the client does (and leaves retries to it)', async () => {
    const closed = await new Promise<number>((r) => {
      const s = http.createServer().listen(0, '127.0.0.1', () => {
        const port = (s.address() as AddressInfo).port;
        s.close(() => r(port));
      });
    });
    const gone = `http://127.0.0.1:${closed}`;
    const mine = await fastCheckpoint({ host: gone, org: 'a' }).catch((e: unknown) => e as Error);
    const theirs = await new EvidentClient({ host: gone, org: 'a' }).checkpoint().catch((e: unknown) => e as Error);
    expect(mine).toMatchObject({ code: 'UNAVAILABLE', message: (theirs as Error).message });
    expect(await fastCheckpoint({ host: gone, org: 'a', maxRetries: 1 })).toBeUndefined();
  });
});
