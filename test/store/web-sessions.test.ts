import { describe, expect, it } from 'vitest';
import { engines } from '../helpers/engines.js';

// Migration 0025_web_sessions and its store on each engine (docs/web.md "Signing in").
describe.each(engines())('web sessions on $name', (engine) => {
  it('creates, finds with the token, trims per token, sweeps expired and deletes', async () => {
    const { store, cleanup } = await engine.open();
    try {
      const org = await store.orgs.create('acme', '2026-12-06T00:00:00.000Z');
      await store.tokens.create({ id: 'tok_1', orgId: org.id, name: 'ui', role: 'reader', secretHash: 'h', createdAt: '2026-12-06T00:00:00.000Z', createdBy: null, expiresAt: null });
      for (let i = 0; i < 4; i++) {
        await store.webSessions.create({ idHash: `s${i}`, tokenId: 'tok_1', createdAt: `2026-12-06T0${i}:00:00.000Z`, expiresAt: `2026-12-06T1${i}:00:00.000Z` });
      }
      expect(await store.webSessions.find('s1')).toMatchObject({ session: { tokenId: 'tok_1', expiresAt: '2026-12-06T11:00:00.000Z' }, token: { name: 'ui', orgName: 'acme', role: 'reader' } });
      expect(await store.webSessions.find('nope')).toBeUndefined();
      expect(await store.webSessions.countForToken('tok_1')).toBe(4);
      await store.webSessions.trimForToken('tok_1', 3);
      expect(await store.webSessions.find('s0')).toBeUndefined(); // the oldest went
      expect(await store.webSessions.deleteExpired('2026-12-06T11:00:00.000Z')).toBe(1);
      expect(await store.webSessions.delete('s2')).toBe(true);
      expect(await store.webSessions.delete('s2')).toBe(false);
      expect(await store.webSessions.countForToken('tok_1')).toBe(1);
    } finally {
      await cleanup();
    }
  });
});
