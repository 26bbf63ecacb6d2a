import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/server/index.js';
import { complianceOfTrail, createServices, type ServiceBundle } from '../../src/services/index.js';
import { encodeCursor, type OrgRecord, type SqlStore, type TrailRecord } from '../../src/store/index.js';
import { engines } from '../helpers/engines.js';
import { testSigner } from '../helpers/keys.js';
import { dropTriggers } from '../helpers/tamper.js';

// `get trail` pages a trail's attestations and takes its compliance from TrailStates (kept from checked rows,
// moved on by this process's own appends) — issue #21. Through the service and the route, on both engines:
// every attestation is seen exactly once across pages, a bad cursor is a 400, the kept compliance equals a
// recomputation from every row, and an edited row is still caught (TAMPERED).

const FP = 'e'.repeat(64);
const TEMPLATE = 'version: 1\ntrail:\n  attestations:\n    - name: review\n      type: generic\n  artifacts:\n    - name: app\n      attestations:\n        - name: scan\n          type: generic\n';
const N = 420;

describe.each(engines())('a trail of many attestations on $name', (engine) => {
  let store: SqlStore;
  let cleanup: () => Promise<void>;
  let services: ServiceBundle;
  let org: OrgRecord;
  let app: FastifyInstance;
  let token: string;
  const signer = testSigner();
  const fresh = () => createServices(store, signer);
  const get = (url: string) => app.inject({ method: 'GET', url: `/api/v1/orgs/acme${url}`, headers: { authorization: `Bearer ${token}` } });
  const trailOf = async () => (await services.trails.get(org, 'app', 't1')).trail;
  /** The compliance recomputed from every row of the trail, as before TrailStates. */
  const recomputed = async (trail: TrailRecord) => {
    const { artifacts, attestations } = await store.records.contentsOfTrails([trail.id]);
    return complianceOfTrail(trail, artifacts, attestations);
  };
  const attest = (s: ServiceBundle, i: number, compliant = true) => s.attestations.record(org, 'generic', {
    flow: 'app', trail: 't1', name: i % 3 === 0 ? 'app.scan' : `check-${i % 7}`, ...(i % 3 === 0 ? { fingerprint: FP } : {}),
  }, compliant, null);

  beforeAll(async () => {
    const opened = await engine.open();
    store = opened.store;
    cleanup = opened.cleanup;
    services = createServices(store, signer);
    org = (await services.auth.ensureOrg('acme')).org;
    token = (await services.auth.issue(org, { name: 'admin', role: 'admin' })).secret;
    app = await buildApp({ services, defaultOrg: 'acme' });
    await services.flows.create(org, { name: 'app', template: TEMPLATE });
    await services.flows.create(org, { name: 'other' });
    await services.trails.begin(org, { flow: 'app', name: 't1' });
    await services.trails.begin(org, { flow: 'other', name: 'o1' });
    await services.artifacts.report(org, { flow: 'app', trail: 't1', name: 'app', fingerprint: FP });
    // Concurrent appends share group commits: a few hundred entries in a few transactions.
    for (let i = 0; i < N; i += 60) await Promise.all(Array.from({ length: Math.min(60, N - i) }, (_, k) => attest(services, i + k, (i + k) % 50 !== 7)));
  }, 120_000);
  afterAll(async () => {
    await app?.close();
    await cleanup();
  });

  it('the service: pages of 37 show every attestation once, in order, with the whole trail\'s compliance', async () => {
    const s = fresh();
    const trail = await trailOf();
    const seen: number[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await s.trails.page(org, 'app', trail, cursor, 37);
      expect(page.attestations.length).toBeLessThanOrEqual(37);
      expect(page.attestationCount).toBe(N);
      expect(page.artifacts.map((a) => a.fingerprint)).toEqual([FP]);
      expect(page.compliance).toEqual(await recomputed(trail));
      seen.push(...page.attestations.map((a) => a.entryIndex));
      cursor = page.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(Math.ceil(N / 37));
    expect(new Set(seen).size).toBe(N);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect(seen).toEqual((await store.records.attestationsOfTrail(trail.id)).map((a) => a.entryIndex));
    // One read of the trail's rows for its compliance; every later page took it as kept.
    expect(s.trails.states.stats.reads).toBe(1);
    expect(s.trails.states.stats.hits).toBe(pages - 1);
  });

  it('the route: limit and cursor page the attestations; the old fields stay; a bad cursor or limit is a 400', async () => {
    const first = await get('/flows/app/trails/t1?limit=100');
    expect(first.statusCode).toBe(200);
    const body = first.json();
    expect(body).toMatchObject({ name: 't1', flow: 'app', attestation_count: N, external_urls: {} });
    expect(body.artifacts.map((a: { fingerprint: string }) => a.fingerprint)).toEqual([FP]);
    expect(body.compliance).toMatchObject({ state: 'NON-COMPLIANT' });
    expect(body.attestations).toHaveLength(100);
    const ids: number[] = body.attestations.map((a: { entry_index: number }) => a.entry_index);
    for (let cursor = body.next_cursor as string | null; cursor;) {
      const page = await get(`/flows/app/trails/t1?limit=100&cursor=${encodeURIComponent(cursor)}`);
      expect(page.statusCode).toBe(200);
      ids.push(...page.json().attestations.map((a: { entry_index: number }) => a.entry_index));
      cursor = page.json().next_cursor;
    }
    expect(ids).toHaveLength(N);
    expect(new Set(ids).size).toBe(N);
    // Without a limit: the default page of 100, like the other lists.
    expect((await get('/flows/app/trails/t1')).json().attestations).toHaveLength(100);
    const trailsPage = (await get('/flows/app/trails?limit=1')).json();
    for (const bad of ['garbage', encodeCursor(['12', '']), encodeCursor(['x', 'attestations']), encodeCursor(['-1', 'attestations']), trailsPage.next_cursor ?? encodeCursor(['1', ''])]) {
      const res = await get(`/flows/app/trails/t1?cursor=${encodeURIComponent(bad)}`);
      expect(res.statusCode, bad).toBe(400);
      expect(res.json().error).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/cursor/) });
    }
    expect((await get('/flows/app/trails/t1?limit=1001')).statusCode).toBe(400);
    expect((await get('/flows/app/trails/t1?limit=0')).statusCode).toBe(400);
  });

  it('this process\'s appends move the kept compliance on without reading the trail again; another process\'s make it read again', async () => {
    const trail = await trailOf();
    await services.trails.page(org, 'app', trail, null, 1);
    const before = { ...services.trails.states.stats };
    // The review the template requires, then a failing scan, then a passing one: COMPLIANT needs all of them folded right.
    await services.attestations.record(org, 'generic', { flow: 'app', trail: 't1', name: 'review' }, true, null);
    await Promise.all([attest(services, 3, false), attest(services, 4, true)]);
    const page = await services.trails.page(org, 'app', trail, null, 1);
    expect(services.trails.states.stats.reads).toBe(before.reads);
    expect(services.trails.states.stats.appended).toBe(before.appended + 3);
    expect(page.compliance).toEqual(await recomputed(trail));
    expect(page.attestationCount).toBe(N + 3);
    // Entries about other trails do not touch it.
    await services.attestations.record(org, 'generic', { flow: 'other', trail: 'o1', name: 'x' }, false, null);
    await services.trails.page(org, 'app', trail, null, 1);
    expect(services.trails.states.stats.reads).toBe(before.reads);
    // Another process appends to the trail: this one's map is not at that head, so it reads the rows again.
    await attest(fresh(), 6, true);
    const after = await services.trails.page(org, 'app', trail, null, 1);
    expect(services.trails.states.stats.reads).toBe(before.reads + 1);
    expect(after.compliance).toEqual(await recomputed(trail));
    expect(after.attestationCount).toBe(N + 4);
    // list flows takes the same kept state: the flow's latest trail and its compliance, without reading again.
    const flows = await services.flows.overview(org, {});
    expect(flows.items.find((f) => f.flow.name === 'app')!.compliance).toBe(after.compliance.state);
    // (The other flow's latest trail was not kept yet: read once, then kept too.)
    expect(services.trails.states.stats.reads).toBe(before.reads + 2);
    expect(await services.flows.overview(org, {})).toEqual(flows);
    expect(services.trails.states.stats.reads).toBe(before.reads + 2);
    expect((await fresh().flows.overview(org, { missingAttestationType: 'generic' })).items.map((f) => f.flow.name)).toEqual([]);
    // Another process appends, then this one appends on top: its entry's prev link is not the kept latest, so
    // the kept tally is dropped rather than moved on past an entry it never saw.
    await attest(fresh(), 8, false);
    await attest(services, 10, true);
    const both = await services.trails.page(org, 'app', trail, null, 1);
    expect(both.attestationCount).toBe(N + 6);
    expect(both.compliance).toEqual(await recomputed(trail));
  });

  it('an edited attestation row: TAMPERED for a fresh server (page, list flows) and for any page showing it; the kept compliance stays the verified one', async () => {
    const trail = await trailOf();
    const kept = (await services.trails.page(org, 'app', trail, null, 1)).compliance;
    const scan = await sql<{ entry_index: number | string; id: number }>`SELECT entry_index, id FROM attestations WHERE name = 'scan' ORDER BY id DESC LIMIT 1`.execute(store.db);
    const row = scan.rows[0]!;
    await dropTriggers(store);
    await sql.raw(`UPDATE attestations SET compliant = 1 - compliant WHERE id = ${row.id}`).execute(store.db);
    const caught = { code: 'TAMPERED', details: { table: 'attestations', entry_index: Number(row.entry_index), field: 'compliant' } };
    await expect(fresh().trails.page(org, 'app', trail, null, 1)).rejects.toMatchObject(caught);
    await expect(fresh().flows.overview(org, {})).rejects.toMatchObject(caught);
    await expect(fresh().trails.complianceStates(org, 'app', [trail])).rejects.toMatchObject(caught);
    // The warm process: the page that shows the row refuses it...
    const all = await store.records.attestationsOfTrail(trail.id);
    const before = all.filter((a) => a.id < row.id).at(-1)!;
    await expect(services.trails.page(org, 'app', trail, encodeCursor([String(before.id), 'attestations']), 5)).rejects.toMatchObject(caught);
    const res = await get(`/flows/app/trails/t1?limit=5&cursor=${encodeURIComponent(encodeCursor([String(before.id), 'attestations']))}`);
    expect(res.statusCode).toBe(500);
    expect(res.json().error.code).toBe('TAMPERED');
    // ...and a page without it shows the compliance checked before the edit, never the edited value.
    expect((await services.trails.page(org, 'app', trail, null, 1)).compliance).toEqual(kept);
    await sql.raw(`UPDATE attestations SET compliant = 1 - compliant WHERE id = ${row.id}`).execute(store.db);
    expect((await fresh().trails.page(org, 'app', trail, null, 1)).compliance).toEqual(kept);
  });
});
