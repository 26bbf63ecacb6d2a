import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FLOW_TEMPLATE_SCHEMA } from '../../src/formats/index.js';
import { bearer, testApp, type TestApp } from '../helpers/app.js';
import { FACTS, SteppingClock, buildFixtureOrg, commit, fp } from '../helpers/fixture-org.js';

describe('templates, tags, compliance and the questions over HTTP', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await testApp({ clock: new SteppingClock() });
    await buildFixtureOrg(t.services, await t.auth.org('acme'));
  }, 120_000);
  afterAll(async () => t.close());

  const post = (url: string, payload: unknown) => t.app.inject({ method: 'POST', url: `/api/v1/orgs/acme${url}`, headers: bearer(t.adminToken), payload: payload as object });
  const get = (url: string) => t.app.inject({ method: 'GET', url: `/api/v1/orgs/acme${url}`, headers: bearer(t.adminToken) });

  it('serves the JSON Schemas of flow templates and environment policies without a token', async () => {
    const flow = await t.app.inject({ method: 'GET', url: '/api/v1/schemas/flow-template/v1' });
    expect(flow.statusCode).toBe(200);
    expect(flow.headers['content-type']).toMatch(/^application\/schema\+json/);
    expect(flow.json()).toEqual(JSON.parse(JSON.stringify(FLOW_TEMPLATE_SCHEMA)));
    const policy = await t.app.inject({ method: 'GET', url: '/api/v1/schemas/environment-policy/v1' });
    expect(policy.statusCode).toBe(200);
    expect(policy.json().$id).toBe('/api/v1/schemas/environment-policy/v1');
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/schemas/flow-template/v2' })).statusCode).toBe(404);
  });

  it('refuses a bad template with 400 and the line and column, for a flow and for a trail override', async () => {
    const bad = await post('/flows', { name: 'web', template: 'version: 2\ntrail:\n  artifact: []\n' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.message).toMatch(/template\.yml:1:10: version: must be 1/);
    expect(bad.json().error.details).toEqual([
      expect.objectContaining({ path: 'version', line: 1, column: 10 }), expect.objectContaining({ line: 3, column: 3 }),
    ]);
    expect((await get('/flows/web')).statusCode).toBe(404);
    const trail = await post('/flows/svc-01/trails', { name: 'x', template: 'trail:\n  attestations:\n  - name: a\n' });
    expect(trail.statusCode).toBe(400);
    expect(trail.json().error.details[0]).toMatchObject({ line: 3, message: "missing 'type'" });
  });

  it('shows a trail and an artifact with their compliance, requirements and unexpected attestations', async () => {
    const trail = (await get('/flows/svc-01/trails/t1')).json();
    expect(trail.compliance.state).toBe('INCOMPLETE');
    // A flow's trail list says each trail's state too (the flow page's compliance column).
    const list = (await get('/flows/svc-01/trails')).json().items;
    expect(list.find((x: { name: string }) => x.name === 't1').compliance).toBe('INCOMPLETE');
    expect(list.every((x: { compliance?: string }) => ['COMPLIANT', 'NON-COMPLIANT', 'INCOMPLETE'].includes(x.compliance ?? ''))).toBe(true);
    expect(trail.compliance.artifacts).toEqual([expect.objectContaining({
      name: 'svc-01', fingerprint: fp(1, 1), status: 'COMPLETE', expected: true, state: 'INCOMPLETE',
      attestations: [
        expect.objectContaining({ attestation_name: 'unit-tests', status: 'MISSING', is_compliant: null }),
        expect.objectContaining({ attestation_name: 'snyk-scan', status: 'COMPLETE', is_compliant: true, attestation_id: expect.any(String) }),
      ],
      unexpected: [],
    })]);
    const [artifact] = (await get(`/artifacts/${fp(5, 1)}`)).json().items;
    expect(artifact.state).toBe('NON-COMPLIANT');
    expect(artifact.compliance.state).toBe('NON-COMPLIANT');
    expect(artifact.running).toEqual(['aws-beta#3', 'aws-prod#3']);
    const [plain] = (await get(`/artifacts/${fp(10, 1)}`)).json().items; // no template: every attestation unexpected
    expect(plain.compliance).toMatchObject({ state: 'NON-COMPLIANT', attestations: [], unexpected: [
      expect.objectContaining({ attestation_name: 'snyk-scan', is_compliant: false }), expect.objectContaining({ attestation_name: 'unit-tests', is_compliant: true }),
    ] });
  });

  it('tags a flow; tags are in get flow and list flows', async () => {
    const res = await post('/flows/svc-09/tags', { set: { team: 'edge' } });
    expect(res.statusCode).toBe(200);
    expect(res.json().tags).toEqual({ team: 'edge' });
    expect((await get('/flows/svc-09')).json().tags).toEqual({ team: 'edge' });
    const bad = await post('/flows/svc-09/tags', { set: { 'no spaces': 'x' } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.details[0].path).toBe('set.no spaces');
    expect((await post('/flows/svc-09/tags', { colour: 'x' })).statusCode).toBe(400);
  });

  it('lists flows with last deployment and compliance, sorted and filtered, a page at a time', async () => {
    const page = (await get('/flows?limit=5')).json();
    expect(page.items).toHaveLength(5);
    expect(page.next_cursor).toEqual(expect.any(String));
    expect(page.items[0]).toMatchObject({
      name: 'svc-01', latest_trail: 't1', compliance: 'INCOMPLETE', tags: { team: 'core', tier: '1' },
      last_deployment: { environment: 'aws-prod', snapshot: 1, at: expect.stringMatching(/^2024-03-01T/) },
    });
    const sorted = (await get('/flows?sort=last-deployment&limit=2')).json();
    expect(sorted.items.map((f: { name: string }) => f.name)).toEqual(['svc-04', 'svc-08']);
    const next = (await get(`/flows?sort=last-deployment&limit=2&cursor=${sorted.next_cursor}`)).json();
    expect(next.items.map((f: { name: string }) => f.name)).toEqual(['svc-06', 'svc-07']);
    const missing = (await get('/flows?missing_attestation_type=snyk&limit=100')).json();
    expect(missing.items.map((f: { name: string }) => f.name)).toEqual(FACTS.missingSnyk);
    expect(missing.items.at(-1)).toMatchObject({ name: 'svc-32', latest_trail: null, compliance: null, last_deployment: null });
    expect((await get('/flows?sort=newest')).statusCode).toBe(400);
    expect((await get('/flows?missing_attestation_type=custom:')).statusCode).toBe(400);
  });

  it('searches a commit: where each artifact runs now, since which snapshot, and where it ran before', async () => {
    const { items } = (await get(`/search?q=${commit(4, 1).slice(0, 8)}`)).json();
    expect(items).toEqual([expect.objectContaining({
      flow: 'svc-04', fingerprint: fp(4, 1), matched: 'commit',
      running: [{ environment: 'aws-prod', snapshot: 3, since: 1, since_at: expect.stringMatching(/^2024-03-01T/), instances: 1 }],
      exited: [{ environment: 'aws-beta', snapshot: 3, at: expect.stringMatching(/^2024-03-01T/) }],
    })]);
  });
});
