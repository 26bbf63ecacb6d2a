import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, testApp, type TestApp } from '../helpers/app.js';
import { WEB_SESSIONS_PER_TOKEN } from '../../src/services/index.js';

// docs/web.md "Signing in": the web UI exchanges a token for an HttpOnly cookie once.

function cookieOf(setCookie: string | string[] | undefined): string {
  const header = [setCookie ?? []].flat()[0] ?? '';
  return header.split(';')[0]!;
}

describe('web UI sessions', () => {
  let t: TestApp;
  let now = new Date('2026-12-06T10:00:00.000Z');
  beforeAll(async () => {
    t = await testApp({ clock: { now: () => now } });
  });
  afterAll(async () => t.close());

  async function signIn(token = t.adminToken, headers: Record<string, string> = {}) {
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/session', headers: { ...bearer(token), ...headers } });
    expect(res.statusCode, res.body).toBe(201);
    return { cookie: cookieOf(res.headers['set-cookie']), res };
  }

  it('sets an HttpOnly, SameSite=Strict cookie limited to the API, stores only its hash, and answers who is signed in', async () => {
    const { cookie, res } = await signIn();
    const setCookie = String(res.headers['set-cookie']);
    expect(setCookie).toMatch(/^evident_session=evs_[A-Za-z0-9_-]{43}; Path=\/api\/v1; Max-Age=43200; HttpOnly; SameSite=Strict$/);
    expect(setCookie).not.toContain('Secure'); // plain HTTP here: a Secure cookie would never come back
    expect(res.headers['cache-control']).toBe('no-store');
    const body = res.json();
    expect(body).toMatchObject({ org: 'acme', role: 'admin', token_name: 'admin', expires_at: '2026-12-06T22:00:00.000Z', csrf: expect.any(String) });
    expect(res.body).not.toContain(t.adminToken);
    const secret = cookie.split('=')[1]!;
    const rows = await t.store.db.withTables<{ web_sessions: { id_hash: string } }>().selectFrom('web_sessions').selectAll().execute();
    expect(JSON.stringify(rows)).not.toContain(secret);
    const who = await t.app.inject({ method: 'GET', url: '/api/v1/session', headers: { cookie } });
    expect(who.statusCode).toBe(200);
    expect(who.json()).toEqual(body);
    // Every API route accepts the cookie in place of the token.
    const read = await t.app.inject({ method: 'GET', url: '/api/v1/orgs/acme/log/checkpoint', headers: { cookie: `other=1; ${cookie}` } });
    expect(read.statusCode).toBe(200);
  });

  it('marks the cookie Secure when the request came over TLS', async () => {
    const tls = await testApp({ trustProxy: true });
    try {
      const res = await tls.app.inject({ method: 'POST', url: '/api/v1/session', headers: { ...bearer(tls.adminToken), 'x-forwarded-proto': 'https' } });
      expect(String(res.headers['set-cookie'])).toMatch(/; HttpOnly; SameSite=Strict; Secure$/);
    } finally {
      await tls.close();
    }
  });

  it('refuses a sign-in without a token, with a bad token, or from another origin', async () => {
    expect((await t.app.inject({ method: 'POST', url: '/api/v1/session' })).statusCode).toBe(401);
    expect((await t.app.inject({ method: 'POST', url: '/api/v1/session', headers: bearer('evd_nope') })).statusCode).toBe(401);
    const cross = await t.app.inject({ method: 'POST', url: '/api/v1/session', headers: { ...bearer(t.adminToken), origin: 'https://evil.example' } });
    expect(cross.statusCode).toBe(403);
    expect(cross.headers['set-cookie']).toBeUndefined();
    expect((await signIn(t.adminToken, { origin: 'http://localhost:80' })).res.statusCode).toBe(201);
  });

  it('refuses state-changing cookie requests without the CSRF token or from another origin', async () => {
    const { cookie, res } = await signIn();
    const { csrf } = res.json();
    const payload = { name: 'from-ui', role: 'reader' };
    const url = '/api/v1/orgs/acme/tokens';
    const without = await t.app.inject({ method: 'POST', url, headers: { cookie }, payload });
    expect(without.statusCode).toBe(403);
    expect(without.json().error.message).toContain('x-evident-csrf');
    const wrong = await t.app.inject({ method: 'POST', url, headers: { cookie, 'x-evident-csrf': csrf.replace(/.$/, csrf.endsWith('a') ? 'b' : 'a') }, payload });
    expect(wrong.statusCode).toBe(403);
    const cross = await t.app.inject({ method: 'POST', url, headers: { cookie, 'x-evident-csrf': csrf, origin: 'https://evil.example' }, payload });
    expect(cross.statusCode).toBe(403);
    const site = await t.app.inject({ method: 'POST', url, headers: { cookie, 'x-evident-csrf': csrf, 'sec-fetch-site': 'cross-site' }, payload });
    expect(site.statusCode).toBe(403);
    const list = await t.app.inject({ method: 'GET', url, headers: bearer(t.adminToken) });
    expect(list.json().items.map((x: { name: string }) => x.name)).not.toContain('from-ui');
    // Another session's CSRF token does not fit this cookie.
    const other = (await signIn()).res.json().csrf;
    expect((await t.app.inject({ method: 'POST', url, headers: { cookie, 'x-evident-csrf': other }, payload })).statusCode).toBe(403);
    const ok = await t.app.inject({ method: 'POST', url, headers: { cookie, 'x-evident-csrf': csrf, origin: 'http://localhost:80' }, payload });
    expect(ok.statusCode).toBe(201);
  });

  it('signs out at once, clearing the cookie; sign-out needs the CSRF token too', async () => {
    const { cookie, res } = await signIn();
    const refused = await t.app.inject({ method: 'DELETE', url: '/api/v1/session', headers: { cookie } });
    expect(refused.statusCode).toBe(403);
    const out = await t.app.inject({ method: 'DELETE', url: '/api/v1/session', headers: { cookie, 'x-evident-csrf': res.json().csrf } });
    expect(out.statusCode).toBe(204);
    expect(String(out.headers['set-cookie'])).toMatch(/^evident_session=; Path=\/api\/v1; Max-Age=0; HttpOnly; SameSite=Strict$/);
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/session', headers: { cookie } })).statusCode).toBe(401);
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/whoami', headers: { cookie } })).statusCode).toBe(401);
  });

  it('expires after its lifetime, never outlives its token, and stops when the token is revoked', async () => {
    const { cookie } = await signIn();
    now = new Date('2026-12-06T21:59:59.000Z');
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/whoami', headers: { cookie } })).statusCode).toBe(200);
    now = new Date('2026-12-06T22:00:00.000Z');
    const expired = await t.app.inject({ method: 'GET', url: '/api/v1/session', headers: { cookie } });
    expect(expired.statusCode).toBe(401);
    expect(expired.json().error.message).toContain('expired');
    expect(String(expired.headers['set-cookie'])).toContain('Max-Age=0');

    const acme = await t.auth.org('acme');
    const short = await t.auth.issue(acme, { name: 'short', role: 'reader', expiresAt: '2026-12-06T23:00:00.000Z' });
    const s = await signIn(short.secret);
    expect(s.res.json().expires_at).toBe('2026-12-06T23:00:00.000Z');
    expect(String(s.res.headers['set-cookie'])).toContain('Max-Age=3600;');

    const revoked = await t.auth.issue(acme, { name: 'gone', role: 'reader' });
    const r = await signIn(revoked.secret);
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/whoami', headers: { cookie: r.cookie } })).statusCode).toBe(200);
    await t.auth.revoke(acme, revoked.token.id);
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/whoami', headers: { cookie: r.cookie } })).statusCode).toBe(401);
  });

  it('keeps a bounded number of sessions per token and counts bad cookies as failed authentications', async () => {
    const acme = await t.auth.org('acme');
    const many = await t.auth.issue(acme, { name: 'many', role: 'reader' });
    const first = await signIn(many.secret);
    for (let i = 0; i < WEB_SESSIONS_PER_TOKEN; i++) {
      now = new Date(now.getTime() + 1000);
      await signIn(many.secret);
    }
    expect(await t.store.webSessions.countForToken(many.token.id)).toBe(WEB_SESSIONS_PER_TOKEN);
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/whoami', headers: { cookie: first.cookie } })).statusCode).toBe(401);

    const limited = await testApp({ failedAuthPerMinute: 2 });
    try {
      const codes: number[] = [];
      for (let i = 0; i < 4; i++) codes.push((await limited.app.inject({ method: 'GET', url: '/api/v1/whoami', headers: { cookie: 'evident_session=evs_guess' } })).statusCode);
      expect(codes).toEqual([401, 401, 429, 429]);
    } finally {
      await limited.close();
    }
  });
});
