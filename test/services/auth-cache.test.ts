import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthService, hashSecret, type ServiceBundle } from '../../src/services/index.js';
import type { OrgRecord, Store } from '../../src/store/index.js';
import { engines } from '../helpers/engines.js';
import { openServices } from '../helpers/services.js';

// The token cache of AuthService (issue #21, twelfth round): requests that miss it together share one read
// of the tokens table, and a revocation made here is never undone by a read that was in flight.

/** Counts the store's token reads, and can hold them until `release()`. */
function countingStore(store: Store) {
  let reads = 0;
  let gate: Promise<void> | undefined;
  let open: () => void = () => undefined;
  const tokens = new Proxy(store.tokens, {
    get(target, prop, receiver) {
      if (prop !== 'findBySecretHash') return Reflect.get(target, prop, receiver) as unknown;
      return async (hash: string) => {
        reads++;
        const found = await target.findBySecretHash(hash);
        await gate;
        return found;
      };
    },
  });
  const counted = new Proxy(store, { get: (target, prop, receiver) => (prop === 'tokens' ? tokens : Reflect.get(target, prop, receiver) as unknown) });
  return {
    store: counted as Store,
    reads: () => reads,
    hold: () => { gate = new Promise<void>((r) => (open = r)); },
    release: () => { open(); gate = undefined; },
  };
}

describe.each(engines())('the token cache on $name', (engine) => {
  let services: ServiceBundle;
  let org: OrgRecord;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    ({ services, org, cleanup } = await openServices(engine));
  });
  afterAll(async () => cleanup());

  it('answers callers that miss it together with one read of the tokens table', async () => {
    const { secret } = await services.auth.issue(org, { name: 'ci', role: 'reporter' });
    const counting = countingStore(services.store);
    const auth = new AuthService(counting.store);
    const principals = await Promise.all(Array.from({ length: 50 }, () => auth.authenticate(secret)));
    expect(principals.every((p) => p.tokenName === 'ci' && p.org.id === org.id)).toBe(true);
    expect(counting.reads()).toBe(1);
    await auth.authenticate(secret);
    expect(counting.reads()).toBe(1);
    // Unknown secrets are read each time (nothing is cached for them), and each fails alone.
    const unknown = await Promise.allSettled([auth.authenticate('evd_nope'), auth.authenticate('evd_nope')]);
    expect(unknown.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(counting.reads()).toBe(2);
    // Stored hashes stay what they were: SHA-256 of the secret's UTF-8, hex.
    expect(hashSecret('evd_é')).toBe(createHash('sha256').update('evd_é', 'utf8').digest('hex'));
  });

  it('does not cache what a read in flight during a revocation found', async () => {
    const { token, secret } = await services.auth.issue(org, { name: 'soon-revoked', role: 'reporter' });
    const counting = countingStore(services.store);
    const auth = new AuthService(counting.store);
    counting.hold();
    const inFlight = auth.authenticate(secret);
    await new Promise((r) => setTimeout(r, 20));
    await auth.revoke(org, token.id);
    counting.release();
    // The read began before the revocation: its caller may get the token as it was, as before this cache.
    await inFlight.catch(() => undefined);
    await expect(auth.authenticate(secret)).rejects.toThrow(/revoked/);
    expect(counting.reads()).toBe(2);
  });
});
