import { afterEach, describe, expect, it } from 'vitest';
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

  it('limits failed authentications per address, not successful requests', async () => {
    t = await testApp({ failedAuthPerMinute: 3 });
    for (let i = 0; i < 3; i++) expect((await t.app.inject({ url: '/api/v1/whoami', headers: bearer('evd_guess' + i) })).statusCode).toBe(401);
    const limited = await t.app.inject({ url: '/api/v1/whoami', headers: bearer(t.adminToken) });
    expect(limited.statusCode).toBe(429);
    expect(limited.json().error).toMatchObject({ code: 'RATE_LIMITED', details: { retry_after_secs: expect.any(Number) } });
  });

  it('lets a window pass, and keeps successful callers unlimited', () => {
    let now = 0;
    const limiter = new FailedAuthLimiter(2, () => now);
    limiter.fail('a');
    limiter.fail('a');
    expect(() => limiter.check('a')).toThrow(/too many failed authentications/);
    expect(() => limiter.check('b')).not.toThrow();
    now = 60_000;
    expect(() => limiter.check('a')).not.toThrow();
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

  it('refuses --insecure-local unless the server listens on loopback', async () => {
    await expect(startServer({ port: 0, bind: '0.0.0.0', dataDir: tempDir(), insecureLocal: true })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
