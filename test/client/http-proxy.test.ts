import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRequest } from '../../src/core/http-proxy.js';
import { parseProxy, send, transferVia } from '../../src/core/index.js';
import { tempDir } from '../helpers/engines.js';

// Kosli's --http-proxy (src/client/http-proxy.ts): http:// targets in absolute form, https:// through CONNECT.

const listen = (server: net.Server) => new Promise<string>((resolve) => server.listen(0, '127.0.0.1', () => resolve(`127.0.0.1:${(server.address() as AddressInfo).port}`)));

describe('--http-proxy', () => {
  const seen: string[] = [];
  let target: http.Server;
  let proxy: http.Server;
  let targetHost: string;
  let proxyUrl: URL;

  beforeAll(async () => {
    target = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ path: req.url, type: req.headers['content-type'] ?? null, body: Buffer.concat(chunks).toString('utf8') })));
    });
    proxy = http.createServer((req, res) => {
      seen.push(`${req.method} ${req.url} ${req.headers['proxy-authorization'] ?? ''}`.trim());
      const forward = http.request(req.url!, { method: req.method, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      req.pipe(forward);
    });
    proxy.on('connect', (req, client: net.Socket) => {
      seen.push(`CONNECT ${req.url}`);
      const [host, port] = req.url!.split(':');
      const upstream = net.connect(Number(port), host, () => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        upstream.pipe(client).pipe(upstream);
      });
      upstream.on('error', () => client.destroy());
    });
    targetHost = await listen(target);
    proxyUrl = new URL(`http://user:p%40ss@${await listen(proxy)}`);
  });

  afterAll(() => {
    target.close();
    proxy.close();
  });

  it('asks the proxy for an http:// URL in absolute form, with Proxy-Authorization from the URL', async () => {
    const res = await send(new URL(`http://${targetHost}/api/v1/orgs/default/flows?limit=2`), { method: 'GET', headers: { authorization: 'Bearer t' }, timeoutMs: 5000, proxy: proxyUrl });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ path: '/api/v1/orgs/default/flows?limit=2' });
    expect(seen).toContain(`GET http://${targetHost}/api/v1/orgs/default/flows?limit=2 Basic ${Buffer.from('user:p@ss').toString('base64')}`);
  });

  it('streams an evidence upload through the proxy and hands back a Response', async () => {
    const form = new FormData();
    form.append('file', new Blob(['evidence bytes']), 'evidence.txt');
    const res = await transferVia(new URL(`http://${targetHost}/upload`), proxyUrl, { method: 'POST', headers: {} }, form);
    const body = (await res.json()) as { type: string; body: string };
    expect(res.status).toBe(200);
    expect(body.type).toMatch(/^multipart\/form-data; boundary=/);
    expect(body.body).toContain('evidence bytes');
    expect(seen).toContain(`POST http://${targetHost}/upload Basic ${Buffer.from('user:p@ss').toString('base64')}`);
  });

  it('tunnels an https:// server through CONNECT, TLS checked end to end (a self-signed server is refused)', async () => {
    const dir = tempDir('evident-proxy-tls-');
    // The server's certificate from the openssl command line (.ci/run installs it): Node cannot make one.
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=127.0.0.1'], { stdio: 'ignore' });
    const tlsServer = https.createServer({ key: fs.readFileSync(path.join(dir, 'key.pem')), cert: fs.readFileSync(path.join(dir, 'cert.pem')) }, (_req, res) => res.end('{}'));
    const host = await listen(tlsServer);
    try {
      await expect(send(new URL(`https://${host}/x`), { method: 'GET', headers: {}, timeoutMs: 5000, proxy: proxyUrl })).rejects.toMatchObject({ cause: expect.objectContaining({ code: expect.stringMatching(/SELF_SIGNED|UNABLE_TO_VERIFY|DEPTH_ZERO/) }) });
      expect(seen).toContain(`CONNECT ${host}`);
    } finally {
      tlsServer.close();
    }
  });

  it('refuses a proxy URL that is not http://', () => {
    expect(() => parseProxy('socks5://127.0.0.1:1080')).toThrow(/http:\/\/ proxy URL/);
    expect(() => parseProxy('not a url')).toThrow(/must be a URL/);
    expect(typeof openRequest).toBe('function');
  });
});
