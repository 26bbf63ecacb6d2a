import { afterEach, describe, expect, it } from 'vitest';
import { parseTrustProxy } from '../../src/cli/commands/server.js';
import { FailedAuthLimiter } from '../../src/server/access-policy.js';
import { startServer } from '../../src/server/index.js';
import { bearer, testApp, type TestApp } from '../helpers/app.js';
import { tempDir } from '../helpers/engines.js';

describe('access policy', () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  // Reliability report F7: 60 bad tokens from one address locked out a valid admin token from it.
  it('answers repeated failures from one (token prefix, address) with 429, and never refuses a valid token', async () => {
    t = await testApp({ failedAuthPerMinute: 3 });
    const whoami = (token: string, remoteAddress = '10.0.0.9', headers: Record<string, string> = {}) =>
      t!.app.inject({ url: '/api/v1/whoami', remoteAddress, headers: { ...bearer(token), ...headers } });
    for (let i = 0; i < 3; i++) expect((await whoami('evd_guessing' + i)).statusCode).toBe(401);
    const limited = await whoami('evd_guessing9');
    expect(limited.statusCode).toBe(429);
    expect(limited.json().error).toMatchObject({ code: 'RATE_LIMITED', details: { retry_after_secs: expect.any(Number) } });
    // The same address, a valid token: served, however many failures came before.
    for (let i = 0; i < 20; i++) await whoami('evd_guessing' + i);
    expect((await whoami(t.adminToken)).statusCode).toBe(200);
    // Another token prefix from that address, or the same prefix from elsewhere, has its own count.
    expect((await whoami('evd_otherone1')).statusCode).toBe(401);
    expect((await whoami('evd_guessing1', '10.0.0.10')).statusCode).toBe(401);
    // The scheme is case-insensitive (RFC 9110 §11.1).
    expect((await t.app.inject({ url: '/api/v1/whoami', headers: { authorization: `bearer ${t.adminToken}` } })).statusCode).toBe(200);
  });

  it('counts by X-Forwarded-For only when told to trust the proxy', async () => {
    const spoofed = (app: TestApp, i: number) =>
      app.app.inject({ url: '/api/v1/whoami', remoteAddress: '127.0.0.1', headers: { ...bearer('evd_sameprefix' + i), 'x-forwarded-for': `203.0.113.${i}` } });
    t = await testApp({ failedAuthPerMinute: 2 });
    const codes = [];
    for (let i = 0; i < 4; i++) codes.push((await spoofed(t, i)).statusCode);
    expect(codes).toEqual([401, 401, 429, 429]); // the header is ignored: one address
    await t.close();
    t = await testApp({ failedAuthPerMinute: 2, trustProxy: '127.0.0.1' });
    const trusted = [];
    for (let i = 0; i < 4; i++) trusted.push((await spoofed(t, i)).statusCode);
    expect(trusted).toEqual([401, 401, 401, 401]); // each client address counted on its own
  });

  it('reads --trust-proxy as true, false, a hop count or proxy addresses', () => {
    expect([undefined, 'false', 'true', '1', '10.0.0.5,10.0.0.0/8'].map(parseTrustProxy)).toEqual([undefined, false, true, 1, '10.0.0.5,10.0.0.0/8']);
  });

  it('lets a window pass', () => {
    let now = 0;
    const limiter = new FailedAuthLimiter(2, () => now);
    for (let i = 0; i < 3; i++) limiter.fail('a');
    expect(() => limiter.check('a')).toThrow(/too many failed authentications/);
    expect(() => limiter.check('b')).not.toThrow();
    now = 60_000;
    expect(() => limiter.check('a')).not.toThrow();
  });

  it('keeps a limited key when a flood of other keys fills its memory, and stays bounded', () => {
    let now = 0;
    const limiter = new FailedAuthLimiter(3, () => now, 100);
    for (let k = 0; k < 5; k++) limiter.fail('evd_attacker\u00001.2.3.4');
    expect(() => limiter.check('evd_attacker\u00001.2.3.4')).toThrow(/too many failed authentications/);
    for (let k = 0; k < 1000; k++) {
      now += 1;
      limiter.fail(`evd_other${k}\u00001.2.3.4`);
      expect(limiter.size).toBeLessThanOrEqual(100);
    }
    expect(() => limiter.check('evd_attacker\u00001.2.3.4')).toThrow(/too many failed authentications/);
    now += 60_000;
    limiter.fail('evd_late\u00001.2.3.4');
    expect(limiter.size).toBeLessThanOrEqual(100);
    expect(() => limiter.check('evd_attacker\u00001.2.3.4')).not.toThrow();
  });

  it('--insecure-local: loopback requests without a token act as admin of the default org; tokens still rule otherwise', async () => {
    t = await testApp({ insecureLocal: true });
    const who = await t.app.inject({ url: '/api/v1/orgs/acme/tokens', remoteAddress: '127.0.0.1' });
    expect(who.statusCode).toBe(200);
    expect((await t.app.inject({ url: '/api/v1/orgs/acme/tokens', remoteAddress: '10.1.2.3' })).statusCode).toBe(401);
    expect((await t.app.inject({ url: '/api/v1/whoami', remoteAddress: '127.0.0.1', headers: bearer('evd_wrong') })).statusCode).toBe(401);
    const off = await testApp();
    try {
      expect((await off.app.inject({ url: '/api/v1/orgs/acme/tokens', remoteAddress: '127.0.0.1' })).statusCode).toBe(401);
    } finally {
      await off.close();
    }
  });

  it('--insecure-local: a page of another site, or a DNS-rebound name, gets no admin rights from a browser on this machine', async () => {
    t = await testApp({ insecureLocal: true });
    const local = (headers: Record<string, string>, method: 'GET' | 'POST' = 'GET') =>
      t!.app.inject({ method, url: '/api/v1/orgs/acme/tokens', remoteAddress: '127.0.0.1', headers, ...(method === 'POST' ? { payload: { name: 'x', role: 'admin' } } : {}) });
    // This server's own pages (and curl, which sends no Origin): admin, as before.
    expect((await local({ host: '127.0.0.1:8080', origin: 'http://127.0.0.1:8080', 'sec-fetch-site': 'same-origin' })).statusCode).toBe(200);
    expect((await local({ host: 'localhost:8080' })).statusCode).toBe(200);
    expect((await local({ host: '[::1]:8080' })).statusCode).toBe(200);
    // A form or fetch from another site: refused, and nothing is created.
    const forged = await local({ host: '127.0.0.1:8080', origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' }, 'POST');
    expect(forged.statusCode).toBe(403);
    expect(forged.json().error.message).toMatch(/cross-origin/);
    expect((await local({ host: '127.0.0.1:8080', 'sec-fetch-site': 'cross-site' }, 'POST')).statusCode).toBe(403);
    // Another local port (same site, other origin): refused too.
    expect((await local({ host: 'localhost:8080', origin: 'http://localhost:3000' }, 'POST')).statusCode).toBe(403);
    // DNS rebinding: evil.example resolved to 127.0.0.1, so the browser calls it same-origin.
    const rebound = await local({ host: 'evil.example:8080', origin: 'http://evil.example:8080', 'sec-fetch-site': 'same-origin' });
    expect(rebound.statusCode).toBe(403);
    expect(rebound.json().error.message).toMatch(/loopback name/);
    const names = async () => ((await local({ host: 'localhost' })).json() as { items: { name: string }[] }).items.map((x) => x.name);
    expect(await names()).not.toContain('x');
    // The same POST from this server's own page is carried out.
    expect((await local({ host: '127.0.0.1:8080', origin: 'http://127.0.0.1:8080' }, 'POST')).statusCode).toBe(201);
    expect(await names()).toContain('x');
  });

  it('refuses --insecure-local unless the server listens on loopback', async () => {
    await expect(startServer({ port: 0, bind: '0.0.0.0', dataDir: tempDir(), insecureLocal: true })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
