import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, testApp, type TestApp } from '../helpers/app.js';

describe('API tokens and organisations', () => {
  let t: TestApp;
  let now = new Date('2026-11-22T00:00:00.000Z');
  beforeAll(async () => {
    t = await testApp({ clock: { now: () => now } });
  });
  afterAll(async () => t.close());

  it('refuses requests without a valid token, with the error shape of the API', async () => {
    for (const headers of [{}, { authorization: 'Bearer evd_nope' }, { authorization: 'Basic abc' }]) {
      const res = await t.app.inject({ method: 'GET', url: '/api/v1/orgs/acme/log/checkpoint', headers });
      expect(res.statusCode).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer');
      expect(res.json()).toEqual({ error: { code: 'UNAUTHENTICATED', message: expect.any(String) } });
    }
  });

  it('creates tokens shown once and stored only as SHA-256', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/orgs/acme/tokens', headers: bearer(t.adminToken), payload: { name: 'ci', role: 'reporter' } });
    expect(res.statusCode).toBe(201);
    const { token, secret } = res.json();
    expect(secret).toMatch(/^evd_[A-Za-z0-9_-]{43}$/);
    expect(token).toMatchObject({ name: 'ci', role: 'reporter', revoked_at: null });
    const row = await t.store.db.selectFrom('tokens').selectAll().where('id', '=', token.id).executeTakeFirstOrThrow();
    expect(JSON.stringify(row)).not.toContain(secret);
    const list = await t.app.inject({ method: 'GET', url: '/api/v1/orgs/acme/tokens?limit=1', headers: bearer(t.adminToken) });
    expect(list.json().items).toHaveLength(1);
    expect(list.json().next_cursor).toEqual(expect.any(String));
    expect(list.body).not.toContain(secret);
    const who = await t.app.inject({ method: 'GET', url: '/api/v1/whoami', headers: bearer(secret) });
    expect(who.json()).toEqual({ org: 'acme', role: 'reporter', token_id: token.id, token_name: 'ci' });
  });

  it('lets only admins manage tokens', async () => {
    const { secret } = await t.auth.issue(await t.auth.org('acme'), { name: 'reader', role: 'reader' });
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/orgs/acme/tokens', headers: bearer(secret), payload: { name: 'x', role: 'admin' } });
    expect(res.statusCode).toBe(403);
    expect(res.json().error.code).toBe('FORBIDDEN');
    const read = await t.app.inject({ method: 'GET', url: '/api/v1/orgs/acme/log/checkpoint', headers: bearer(secret) });
    expect(read.statusCode).toBe(200);
  });

  it('never lets a token reach another org, whether or not it exists', async () => {
    const { org: globex } = await t.auth.ensureOrg('globex');
    const { secret: globexToken } = await t.auth.issue(globex, { name: 'g', role: 'admin' });
    for (const url of ['/api/v1/orgs/acme', '/api/v1/orgs/acme/log/checkpoint', '/api/v1/orgs/acme/tokens', '/api/v1/orgs/nosuch/log/key']) {
      const res = await t.app.inject({ method: 'GET', url, headers: bearer(globexToken) });
      expect(res.statusCode, url).toBe(403);
    }
    const own = await t.app.inject({ method: 'GET', url: '/api/v1/orgs/globex', headers: bearer(globexToken) });
    expect(own.json()).toMatchObject({ name: 'globex' });
  });

  it('revokes tokens at once and honours expiry', async () => {
    const acme = await t.auth.org('acme');
    const { token, secret } = await t.auth.issue(acme, { name: 'short', role: 'member', expiresAt: '2026-11-23T00:00:00.000Z' });
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/whoami', headers: bearer(secret) })).statusCode).toBe(200);
    now = new Date('2026-11-24T00:00:00.000Z');
    const expired = await t.app.inject({ method: 'GET', url: '/api/v1/whoami', headers: bearer(secret) });
    expect(expired.statusCode).toBe(401);
    expect(expired.json().error.message).toMatch(/expired/);
    now = new Date('2026-11-22T12:00:00.000Z');
    const del = await t.app.inject({ method: 'DELETE', url: `/api/v1/orgs/acme/tokens/${token.id}`, headers: bearer(t.adminToken) });
    expect(del.statusCode).toBe(200);
    expect(del.json().revoked_at).toBe(now.toISOString());
    const revoked = await t.app.inject({ method: 'GET', url: '/api/v1/whoami', headers: bearer(secret) });
    expect(revoked.json().error.message).toMatch(/revoked/);
    const missing = await t.app.inject({ method: 'DELETE', url: '/api/v1/orgs/acme/tokens/tok_none', headers: bearer(t.adminToken) });
    expect(missing.statusCode).toBe(404);
  });

  it('reports every validation problem with its path', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/orgs/acme/tokens', headers: bearer(t.adminToken), payload: { role: 'king', extra: 1 } });
    expect(res.statusCode).toBe(400);
    const { error } = res.json();
    expect(error.code).toBe('INVALID_ARGUMENT');
    const paths = error.details.map((d: { path: string }) => d.path);
    expect(paths).toContain('body/name');
    expect(paths.some((p: string) => p.startsWith('body/role'))).toBe(true);
    const past = await t.app.inject({ method: 'POST', url: '/api/v1/orgs/acme/tokens', headers: bearer(t.adminToken), payload: { name: 'x', role: 'reader', expires_at: '2020-01-01T00:00:00Z' } });
    expect(past.statusCode).toBe(400);
    const badOrg = await t.app.inject({ method: 'GET', url: '/api/v1/orgs/..%2Fetc/log/key', headers: bearer(t.adminToken) });
    expect(badOrg.statusCode).toBe(400);
  });
});
