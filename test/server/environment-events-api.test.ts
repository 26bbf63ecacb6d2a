import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/server/index.js';
import { createServices } from '../../src/services/index.js';
import type { SqlStore } from '../../src/store/index.js';
import { bearer } from '../helpers/app.js';
import { engines } from '../helpers/engines.js';
import { testSigner } from '../helpers/keys.js';
import { dropTriggers } from '../helpers/tamper.js';

// Issue 18: the events of `evident log environment` carry each artifact's verdict in that snapshot, and the
// page lists each of its snapshots' verdicts, the same as `get snapshot ENV#N` (what the swimlanes mark).

const fp = (c: string) => c.repeat(64);
const POLICY = '_schema: https://docs.kosli.com/schemas/policy/v1\nartifacts:\n  provenance:\n    required: true\n';

describe.each(engines())('GET …/environments/E/events: verdicts per snapshot on $name', (engine) => {
  let store: SqlStore;
  let app: FastifyInstance;
  let token: string;
  let cleanup: () => Promise<void>;
  const call = (method: 'GET' | 'POST' | 'PUT', url: string, payload?: object) =>
    app.inject({ method, url: `/api/v1/orgs/acme${url}`, headers: bearer(token), ...(payload ? { payload } : {}) });
  const report = (...artifacts: [string, number][]) =>
    call('PUT', '/environments/prod/snapshot', { artifacts: artifacts.map(([c, instances]) => ({ name: `img-${c}`, fingerprint: fp(c), instances })) });

  beforeAll(async () => {
    ({ store, cleanup } = await engine.open());
    const services = createServices(store, testSigner());
    const { org } = await services.auth.ensureOrg('acme');
    token = (await services.auth.issue(org, { name: 'admin', role: 'admin' })).secret;
    app = await buildApp({ services, defaultOrg: 'acme' });
    await call('POST', '/flows', { name: 'web' });
    await call('POST', '/flows/web/trails', { name: 't1' });
    await call('POST', '/flows/web/trails/t1/artifacts', { name: 'img-1', fingerprint: fp('1') });
    await call('POST', '/environments', { name: 'prod', type: 'k8s' });
    await report(['1', 1]); // #1: no policy yet
    await call('POST', '/policies', { name: 'prov', source: POLICY });
    await call('POST', '/environments/prod/policies', { policy: 'prov' }); // #2: the same set, judged
    await report(['1', 1], ['2', 1]); // #3: 2 has no provenance
    await call('POST', '/environments/prod/allowances', { fingerprint: fp('3'), reason: 'vendor image' });
    await report(['1', 1], ['2', 1], ['3', 2]); // #4: 3 allowed
    await report(['1', 1], ['3', 1]); // #5: 2 exits, 3 scales
  });
  afterAll(async () => {
    await app?.close();
    await cleanup?.();
  });

  it('gives each started or scaled artifact its verdict there, and null to an exit', async () => {
    const res = await call('GET', '/environments/prod/events');
    expect(res.statusCode).toBe(200);
    const items = res.json().items as { snapshot: number; type: string; fingerprint: string; compliance: string | null }[];
    expect(items.map((e) => [e.snapshot, e.type, e.fingerprint[0], e.compliance])).toEqual([
      [1, 'started', '1', 'no-policy'],
      [3, 'started', '2', 'non-compliant'],
      [4, 'started', '3', 'allowed'],
      [5, 'scaled', '3', 'allowed'],
      [5, 'exited', '2', null],
    ]);
  });

  it('lists every snapshot of the page with its policies and who is not plainly compliant, as get snapshot says', async () => {
    const { snapshots } = (await call('GET', '/environments/prod/events')).json() as {
      snapshots: { index: number; policies: { name: string; version: number }[]; compliant: boolean | null; non_compliant: string[]; allowed: string[] }[];
    };
    expect(snapshots.map((s) => [s.index, s.policies.map((p) => `${p.name}@${p.version}`), s.compliant, s.non_compliant.map((f) => f[0]), s.allowed.map((f) => f[0])])).toEqual([
      [1, [], null, [], []],
      [2, ['prov@1'], true, [], []],
      [3, ['prov@1'], false, ['2'], []],
      [4, ['prov@1'], false, ['2'], ['3']],
      [5, ['prov@1'], true, [], ['3']],
    ]);
    // The same verdicts as each snapshot's own page.
    for (const s of snapshots) {
      const snap = (await call('GET', `/snapshots/prod%23${s.index}`)).json() as { artifacts: { fingerprint: string; compliance?: { compliant: boolean; allowed: unknown } }[]; policies: unknown[] };
      if (snap.policies.length === 0) continue;
      expect(snap.artifacts.filter((a) => !a.compliance!.compliant).map((a) => a.fingerprint)).toEqual(s.non_compliant);
      expect(snap.artifacts.filter((a) => a.compliance!.allowed).map((a) => a.fingerprint)).toEqual(s.allowed);
    }
  });

  it('judges only the page it returns', async () => {
    // limit counts events: #5 has two, #4 one.
    const first = (await call('GET', '/environments/prod/events?limit=3')).json() as { snapshots: { index: number }[]; next_cursor: string; items: { snapshot: number }[] };
    expect(first.snapshots.map((s) => s.index)).toEqual([4, 5]);
    expect([...new Set(first.items.map((e) => e.snapshot))]).toEqual([4, 5]);
    const second = (await call('GET', `/environments/prod/events?limit=2&cursor=${encodeURIComponent(first.next_cursor)}`)).json() as { snapshots: { index: number; compliant: boolean | null }[] };
    // #2 (a policy attached) changes nothing that runs: it counts as one.
    expect(second.snapshots.map((s) => [s.index, s.compliant])).toEqual([[2, true], [3, false]]);
  });

  it('splits only a snapshot that alone has more events than the limit, newest events first', async () => {
    const first = (await call('GET', '/environments/prod/events?limit=1')).json() as { snapshots: { index: number }[]; next_cursor: string; items: { snapshot: number; type: string }[] };
    expect([first.snapshots.map((s) => s.index), first.items.map((e) => [e.snapshot, e.type])]).toEqual([[5], [[5, 'exited']]]);
    const second = (await call('GET', `/environments/prod/events?limit=1&cursor=${encodeURIComponent(first.next_cursor)}`)).json() as typeof first;
    expect([second.snapshots.map((s) => s.index), second.items.map((e) => [e.snapshot, e.type])]).toEqual([[5], [[5, 'scaled']]]);
    const third = (await call('GET', `/environments/prod/events?limit=1&cursor=${encodeURIComponent(second.next_cursor)}`)).json() as typeof first;
    expect(third.snapshots.map((s) => s.index)).toEqual([4]);
  });

  it('refuses a cursor it did not issue with 400 and says why', async () => {
    const c = (parts: unknown) => encodeURIComponent(Buffer.from(JSON.stringify(parts)).toString('base64url'));
    const cases = ['not-base64!', c(['x', '']), c(['0', '']), c(['-3', '']), c(['2.5', '']), c(['5', 'y']), c(['5', '0']), c(['5', '2']), c(['5', '9']), c(['99', '']), c(['99', '1']), c(['5']), c([5, ''])];
    for (const cursor of cases) {
      const res = await call('GET', `/environments/prod/events?cursor=${cursor}`);
      expect([cursor, res.statusCode]).toEqual([cursor, 400]);
      expect(res.json()).toMatchObject({ error: { code: 'INVALID_ARGUMENT', message: 'invalid cursor', details: [{ path: 'cursor' }] } });
    }
    // The cursor of a whole snapshot that a page ended before is still good.
    expect((await call('GET', `/environments/prod/events?cursor=${c(['5', ''])}`)).statusCode).toBe(200);
  });

  it("gives an artifact's history structured fields beside the server's wording", async () => {
    await call('POST', '/environments/prod/expectations', { fingerprint: fp('1'), description: 'deploy' });
    const [a] = (await call('GET', `/artifacts/web@${fp('1')}`)).json().items as { history: Record<string, unknown>[] }[];
    const pick = (h: Record<string, unknown>) => Object.fromEntries(Object.entries(h).filter(([k]) => k !== 'timestamp' && k !== 'entry_index'));
    expect(a!.history.map(pick)).toEqual([
      { event: 'Artifact created', kind: 'created' },
      { event: 'Started running in prod#1 environment', kind: 'started', environment: 'prod', snapshot: 1, instances: 1 },
      { event: 'Deployment #1 to prod environment', kind: 'expected', environment: 'prod', expectation: 1 },
    ]);
    expect(a!.history.filter((h) => h.kind !== 'started').every((h) => Number.isInteger(h.entry_index))).toBe(true);
    // An artifact that stopped: the exit names the first snapshot without it, and how many ran before.
    await call('POST', '/flows/web/trails/t1/artifacts', { name: 'img-2', fingerprint: fp('2') });
    const [b] = (await call('GET', `/artifacts/web@${fp('2')}`)).json().items as { history: Record<string, unknown>[] }[];
    expect(b!.history.filter((h) => h.kind === 'started' || h.kind === 'exited').map(pick)).toEqual([
      { event: 'Started running in prod#3 environment', kind: 'started', environment: 'prod', snapshot: 3, instances: 1 },
      { event: 'No longer running in prod#5 environment', kind: 'exited', environment: 'prod', snapshot: 5, instances: 0, previous_instances: 1 },
    ]);
  });

  it('refuses an exemption row edited behind the server instead of judging by it', async () => {
    await dropTriggers(store);
    // The attacker moves the exemption from 3 to 2, which would make 2 look allowed.
    await sql.raw(`UPDATE allowances SET fingerprint = '${fp('2')}'`).execute(store.db);
    const res = await call('GET', '/environments/prod/events');
    expect(res.json().error).toMatchObject({ code: 'TAMPERED' });
    expect(res.statusCode).toBe(500);
  });
});
