import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/formats/index.js';
import { bearer, testApp, type TestApp } from '../helpers/app.js';

const FP = 'a'.repeat(63) + '1';
const FP2 = 'a'.repeat(63) + '2';
const COMMIT = '16d9990ad23a40eecaf087abac2a58a2d2a4b3f4';

describe('flows, trails, artifacts and generic attestations over HTTP', () => {
  let t: TestApp;
  let reporter: string;
  let reader: string;
  beforeAll(async () => {
    t = await testApp();
    const acme = await t.auth.org('acme');
    reporter = (await t.auth.issue(acme, { name: 'ci', role: 'reporter' })).secret;
    reader = (await t.auth.issue(acme, { name: 'r', role: 'reader' })).secret;
  });
  afterAll(async () => t.close());

  const post = (url: string, payload: unknown, token = reporter) => t.app.inject({ method: 'POST', url: `/api/v1/orgs/acme${url}`, headers: bearer(token), payload: payload as object });
  const get = (url: string, token = reader) => t.app.inject({ method: 'GET', url: `/api/v1/orgs/acme${url}`, headers: bearer(token) });

  it('records each write as exactly one log entry, whose text is the record', async () => {
    const before = await t.log.size(await t.auth.org('acme'));
    expect((await post('/flows', { name: 'runner', description: 'cyber-dojo runner' })).statusCode).toBe(201);
    expect((await post('/flows/runner/trails', { name: COMMIT, git_commit: COMMIT, commit_url: `https://github.com/cyber-dojo/runner/commit/${COMMIT}`, user_data: { pr: 12 } })).statusCode).toBe(201);
    const art = await post(`/flows/runner/trails/${COMMIT}/artifacts`, { name: 'runner', fingerprint: FP, git_commit: COMMIT, annotations: { team: 'core' } });
    expect(art.statusCode).toBe(201);
    expect(art.json()).toMatchObject({ name: 'runner', display_name: 'runner', fingerprint: FP, flow: 'runner', trail: COMMIT });
    const att = await post(`/flows/runner/trails/${COMMIT}/attestations/generic`, { name: 'runner.unit-test', compliant: true, fingerprint: FP });
    expect(att.statusCode).toBe(201);
    const org = await t.auth.org('acme');
    expect(await t.log.size(org)).toBe(before + 4);
    const { items } = await t.log.entries(org, before, before + 4);
    expect(items.map((e) => JSON.parse(e.entry).type)).toEqual(['flow.created', 'trail.begun', 'artifact.reported', 'attestation.reported']);
    expect(JSON.parse(items[2]!.entry)).toMatchObject({ fingerprint: FP, artifact: 'runner', flow: 'runner', trail: COMMIT, annotations: { team: 'core' } });
    for (const e of items) expect(canonicalJson(JSON.parse(e.entry))).toBe(e.entry);
    expect(art.json().entry_index).toBe(before + 2);
  });

  it('binds an attestation reported by ARTIFACT.NAME and commit before the artifact exists', async () => {
    await post('/flows', { name: 'saver' });
    await post('/flows/saver/trails', { name: 't1' });
    expect((await post('/flows/saver/trails/t1/attestations/generic', { name: 'saver.snyk', compliant: false, git_commit: COMMIT })).statusCode).toBe(201);
    const saver = await post('/flows/saver/trails/t1/artifacts', { name: 'saver', fingerprint: FP2, git_commit: COMMIT, commit_time: '2026-11-29T10:00:00+01:00' });
    expect(saver.json().commit_time).toBe('2026-11-29T09:00:00.000Z'); // kept in UTC
    const res = await get(`/artifacts/${FP2.slice(0, 64)}`);
    const [view] = res.json().items;
    expect(view.state).toBe('NON-COMPLIANT');
    expect(view.attestations.map((a: { name: string }) => a.name)).toEqual(['snyk']);
    expect(view.history.map((h: { event: string }) => h.event)).toEqual(['snyk evidence received', 'Artifact created']);
    // re-reporting adds a record; the latest counts
    await post('/flows/saver/trails/t1/attestations/generic', { name: 'saver.snyk', compliant: true, fingerprint: FP2 });
    expect((await get(`/artifacts/${FP2}`)).json().items[0].state).toBe('COMPLIANT');
  });

  it('finds artifacts by FLOW@FP, FLOW:COMMIT and unique prefix, and lists candidates for an ambiguous one', async () => {
    expect((await get(`/artifacts/${encodeURIComponent(`runner@${FP}`)}`)).json().items).toHaveLength(1);
    expect((await get(`/artifacts/${encodeURIComponent(`runner:${COMMIT}`)}`)).json().items[0].fingerprint).toBe(FP);
    expect((await get(`/artifacts/${FP.slice(0, 63)}1`)).statusCode).toBe(200);
    const ambiguous = await get('/artifacts/aaaaaaa');
    expect(ambiguous.statusCode).toBe(409);
    expect(ambiguous.json().error.details.candidates).toEqual([FP, FP2]);
    expect((await get('/artifacts/abcd')).statusCode).toBe(400);
    expect((await get('/artifacts/bbbbbbb')).statusCode).toBe(404);
    expect((await get(`/artifacts/${encodeURIComponent(`nosuch@${FP}`)}`)).json().error.message).toMatch(/flow "nosuch" does not exist/);
  });

  it('gives clear errors and writes nothing for bad input, unknown flows and trails, duplicates and readers', async () => {
    const org = await t.auth.org('acme');
    const before = await t.log.size(org);
    const bad = await post('/flows/runner/trails/x/artifacts', { name: 'a b', fingerprint: 'XYZ', git_commit: 'nope', commit_url: 'ftp://x', commit_time: '2026-11-29 10:00' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.details.map((d: { path: string }) => d.path).sort()).toEqual(['commit_time', 'commit_url', 'fingerprint', 'git_commit', 'name']);
    for (const commitTime of ['2026-13-01T00:00:00Z', '2026-11-29T10:00:00', 'yesterday']) {
      expect((await post(`/flows/runner/trails/${COMMIT}/artifacts`, { name: 'a', fingerprint: FP, commit_time: commitTime })).statusCode).toBe(400);
    }
    const noTrail = await post('/flows/runner/trails/missing/artifacts', { name: 'a', fingerprint: FP });
    expect(noTrail.statusCode).toBe(404);
    expect(noTrail.json().error.message).toMatch(/trail "missing" does not exist in flow runner/);
    expect((await post('/flows/nosuch/trails', { name: 't' })).json().error.message).toMatch(/flow "nosuch" does not exist/);
    // Kosli's create-or-update: the same flow again is 200 and appends nothing (the log size is checked below).
    expect((await post('/flows', { name: 'runner' })).statusCode).toBe(200);
    expect((await post('/flows', { name: 'x' }, reader)).statusCode).toBe(403);
    expect((await post('/flows', { name: 'x', extra: 1 })).statusCode).toBe(400);
    expect((await post(`/flows/runner/trails/${COMMIT}/attestations/generic`, { name: 'a.b.c', compliant: true })).statusCode).toBe(400);
    expect((await post(`/flows/runner/trails/${COMMIT}/attestations/generic`, { name: 'runner.x', compliant: true })).json().error.message).toMatch(/needs the artifact fingerprint or the git commit/);
    expect((await post('/flows', { name: 'tpl', template: 'a: [' })).statusCode).toBe(400);
    expect(await t.log.size(org)).toBe(before);
  });

  it('lists flows and trails a page at a time, and archives flows', async () => {
    for (let i = 0; i < 5; i++) await post('/flows', { name: `f${i}` });
    const names: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { items: { name: string }[]; next_cursor: string | null } = (await get(`/flows?limit=3${cursor ? `&cursor=${cursor}` : ''}`)).json();
      names.push(...page.items.map((f: { name: string }) => f.name));
      cursor = page.next_cursor;
    } while (cursor);
    expect(names).toEqual(['runner', 'saver', 'f0', 'f1', 'f2', 'f3', 'f4']);
    expect((await post('/flows/f0/archive', {})).json().archived_at).toEqual(expect.any(String));
    expect((await get('/flows')).json().items.map((f: { name: string }) => f.name)).not.toContain('f0');
    expect((await get('/flows?include_archived=true')).json().items.map((f: { name: string }) => f.name)).toContain('f0');
    expect((await post('/flows/f0/trails', { name: 't' })).statusCode).toBe(409);
    const trail = (await get(`/flows/runner/trails/${COMMIT}`)).json();
    expect(trail.artifacts).toHaveLength(1);
    expect(trail.attestations).toHaveLength(1);
    expect(trail.user_data).toEqual({ pr: 12 });
  });

  it('records approvals with the approver (default: the token), compliant iff approved', async () => {
    await post('/flows', { name: 'release' });
    await post('/flows/release/trails', { name: 'v1.4.0' });
    const byToken = await post('/flows/release/trails/v1.4.0/attestations/approval', { name: 'cab', decision: 'approved', comment: 'CAB #42' });
    expect(byToken.statusCode).toBe(201);
    expect(byToken.json()).toMatchObject({ type: 'approval', compliant: true, summary: { approver: expect.stringMatching(/^token ci \(tok_/), decision: 'approved', comment: 'CAB #42' } });
    const named = await post('/flows/release/trails/v1.4.0/attestations/approval', { name: 'cab', decision: 'rejected', approver: 'alice@example.com' });
    expect(named.json()).toMatchObject({ compliant: false, summary: { approver: 'alice@example.com', decision: 'rejected' } });
    expect((await post('/flows/release/trails/v1.4.0/attestations/approval', { name: 'cab', decision: 'maybe' })).statusCode).toBe(400);
  });

  it('searches commits and fingerprints across flows, and lists artifacts a page at a time', async () => {
    const byCommit = (await get(`/search?q=${COMMIT.slice(0, 7)}`)).json().items;
    expect(byCommit.map((a: { flow: string }) => a.flow).sort()).toEqual(['runner', 'saver']);
    expect(byCommit.every((a: { matched: string }) => a.matched === 'commit')).toBe(true);
    const byFp = (await get(`/search?q=${FP2.slice(0, 64)}`)).json().items;
    expect(byFp).toHaveLength(1);
    expect(byFp[0]).toMatchObject({ flow: 'saver', matched: 'fingerprint' });
    expect((await get('/search?q=zz')).statusCode).toBe(400);
    const first = (await get('/artifacts?limit=1')).json();
    expect(first.items).toHaveLength(1);
    const second = (await get(`/artifacts?limit=1&cursor=${first.next_cursor}`)).json();
    expect(second.items[0].fingerprint).not.toBe(first.items[0].fingerprint);
    expect((await get('/artifacts?flow=saver')).json().items.map((a: { flow: string }) => a.flow)).toEqual(['saver']);
    expect((await get('/artifacts?flow=nosuch')).statusCode).toBe(404);
  });
});
