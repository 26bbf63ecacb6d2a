import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, testApp, type TestApp } from '../helpers/app.js';

// docs/web.md "Live updates": GET /api/v1/orgs/{org}/events.

interface Sse {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** Resolves with the next block (event or comment) whose text matches. */
  next(match: RegExp): Promise<string>;
  ended: Promise<void>;
  body(): string;
  close(): void;
}

function openSse(url: string, headers: Record<string, string>): Promise<Sse> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers: { accept: 'text/event-stream', ...headers } }, (res) => {
      let text = '';
      let consumed = 0;
      const waiters: { match: RegExp; resolve: (block: string) => void }[] = [];
      const pump = () => {
        for (;;) {
          const end = text.indexOf('\n\n', consumed);
          if (end < 0 || waiters.length === 0) return;
          const block = text.slice(consumed, end);
          consumed = end + 2;
          if (waiters[0]!.match.test(block)) waiters.shift()!.resolve(block);
        }
      };
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
        pump();
      });
      const ended = new Promise<void>((done) => res.on('close', () => done()));
      resolve({
        status: res.statusCode ?? 0, headers: res.headers, ended, body: () => text,
        next: (match) => new Promise((r) => { waiters.push({ match, resolve: r }); pump(); }),
        close: () => req.destroy(),
      });
    });
    req.on('error', reject);
  });
}

describe('live updates (Server-Sent Events)', () => {
  let t: TestApp;
  let base: string;
  beforeAll(async () => {
    t = await testApp({ liveEvents: { perClient: 2, heartbeatMs: 100 } });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const address = t.app.server.address();
    base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });
  afterAll(async () => t.close());

  const api = (method: 'POST' | 'PUT', url: string, payload: object) =>
    t.app.inject({ method, url: `/api/v1/orgs/acme${url}`, headers: bearer(t.adminToken), payload });

  it('streams new entries of the org to a page signed in by its session cookie', async () => {
    const signIn = await t.app.inject({ method: 'POST', url: '/api/v1/session', headers: bearer(t.adminToken) });
    const cookie = String(signIn.headers['set-cookie']).split(';')[0]!;
    const sse = await openSse(`${base}/api/v1/orgs/acme/events`, { cookie });
    expect(sse.status).toBe(200);
    expect(sse.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(sse.headers['cache-control']).toBe('no-store');
    expect(await sse.next(/^retry: 5000\nevent: hello/)).toContain('data: {"size":0}');
    expect((await api('POST', '/environments', { name: 'prod', type: 'k8s' })).statusCode).toBe(201);
    const created = await sse.next(/event: entries/);
    expect(JSON.parse(created.split('data: ')[1]!)).toEqual({ size: 1, entries: [{ index: 0, type: 'environment.created', environment: 'prod' }], more: 0 });
    expect(created).toContain('id: 1');
    await api('PUT', '/environments/prod/snapshot', { artifacts: [{ name: 'web', fingerprint: 'a'.repeat(64), instances: 1 }] });
    expect(await sse.next(/event: entries/)).toContain('"type":"snapshot.created","environment":"prod"');
    // A heartbeat comment keeps proxies from cutting the idle stream.
    expect(await sse.next(/^: heartbeat$/)).toBe(': heartbeat');
    sse.close();
    await sse.ended;
  });

  it('never tells one org about another org', async () => {
    const { org: globex } = await t.auth.ensureOrg('globex');
    const { secret } = await t.auth.issue(globex, { name: 'g', role: 'reader' });
    const refused = await t.app.inject({ method: 'GET', url: '/api/v1/orgs/acme/events', headers: bearer(secret) });
    expect(refused.statusCode).toBe(403);
    const sse = await openSse(`${base}/api/v1/orgs/globex/events`, bearer(secret));
    await sse.next(/event: hello/);
    await api('POST', '/environments', { name: 'secret-env', type: 'k8s' });
    await sse.next(/^: heartbeat$/);
    await sse.next(/^: heartbeat$/);
    expect(sse.body()).not.toContain('secret-env');
    sse.close();
  });

  it('bounds the streams of one client, and forgets a stream once its connection closes', async () => {
    await expect.poll(() => t.app.liveEvents.size).toBe(0);
    const a = await openSse(`${base}/api/v1/orgs/acme/events`, bearer(t.adminToken));
    const b = await openSse(`${base}/api/v1/orgs/acme/events`, bearer(t.adminToken));
    expect([a.status, b.status]).toEqual([200, 200]);
    const third = await openSse(`${base}/api/v1/orgs/acme/events`, bearer(t.adminToken));
    expect(third.status).toBe(429);
    await third.ended;
    expect(JSON.parse(third.body()).error.code).toBe('RATE_LIMITED');
    expect(t.app.liveEvents.size).toBe(2);
    a.close();
    await expect.poll(() => t.app.liveEvents.size).toBe(1);
    const again = await openSse(`${base}/api/v1/orgs/acme/events`, bearer(t.adminToken));
    expect(again.status).toBe(200);
    b.close();
    again.close();
    await expect.poll(() => t.app.liveEvents.size).toBe(0);
  });

  it('ends a stream whose token is revoked or whose session ends, at the next heartbeat', async () => {
    const acme = await t.auth.org('acme');
    const { token, secret } = await t.auth.issue(acme, { name: 'tab', role: 'reader' });
    const sse = await openSse(`${base}/api/v1/orgs/acme/events`, bearer(secret));
    await sse.next(/event: hello/);
    await t.auth.revoke(acme, token.id);
    expect(await sse.next(/event: signed-out/)).toContain('data: {}');
    await sse.ended;

    const signIn = await t.app.inject({ method: 'POST', url: '/api/v1/session', headers: bearer(t.adminToken) });
    const cookie = String(signIn.headers['set-cookie']).split(';')[0]!;
    const tab = await openSse(`${base}/api/v1/orgs/acme/events`, { cookie });
    await tab.next(/event: hello/);
    await t.app.inject({ method: 'DELETE', url: '/api/v1/session', headers: { cookie, 'x-evident-csrf': signIn.json().csrf } });
    await tab.next(/event: signed-out/);
    await tab.ended;
    await expect.poll(() => t.app.liveEvents.size).toBe(0);
  });

  it('refuses a caller without a token or session', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/orgs/acme/events' });
    expect(res.statusCode).toBe(401);
  });
});
