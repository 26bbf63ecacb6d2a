import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, testApp, type TestApp } from '../helpers/app.js';

const fp = (c: string) => c.repeat(64);
const POLICY = '_schema: https://docs.kosli.com/schemas/policy/v1\nartifacts:\n  provenance:\n    required: true\n';

describe('policy, allowance and assert routes', () => {
  let t: TestApp;
  const call = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: object) =>
    t.app.inject({ method, url: `/api/v1/orgs/acme${url}`, headers: bearer(t.adminToken), ...(payload ? { payload } : {}) });

  beforeAll(async () => {
    t = await testApp();
    await call('POST', '/flows', { name: 'web' });
    await call('POST', '/flows/web/trails', { name: 't1' });
    await call('POST', '/flows/web/trails/t1/artifacts', { name: 'web', fingerprint: fp('1') });
    await call('POST', '/environments', { name: 'prod', type: 'k8s' });
    await call('PUT', '/environments/prod/snapshot', { artifacts: [{ name: 'web', fingerprint: fp('1'), instances: 1 }, { name: 'x', fingerprint: fp('2'), instances: 1 }] });
  });
  afterAll(async () => t.close());

  it('creates versions (201, then 200 for the same content) and refuses a malformed policy with 400 and line:column', async () => {
    expect((await call('POST', '/policies', { name: 'prov', source: POLICY })).statusCode).toBe(201);
    const same = await call('POST', '/policies', { name: 'prov', source: POLICY });
    expect([same.statusCode, same.json().created, same.json().version]).toEqual([200, false, 1]);
    const bad = await call('POST', '/policies', { name: 'bad', source: POLICY + '  bogus: 1\n' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.message).toMatch(/bad\.yml:5:3: artifacts\.bogus: unknown key/);
    expect(bad.json().error.details[0]).toMatchObject({ line: 5, column: 3 });
    expect((await call('GET', '/policies/bad')).statusCode).toBe(404);
    expect((await call('GET', '/policies')).json().items.map((p: { name: string }) => p.name)).toEqual(['prov']);
    expect((await call('GET', '/policies/prov@1')).json().source).toBe(POLICY);
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/schemas/environment-policy/v1' })).json().$id).toBe('/api/v1/schemas/environment-policy/v1');
  });

  it('attaches (a new snapshot), shows compliance on get snapshot and get environment, allows, asserts, detaches', async () => {
    const attached = await call('POST', '/environments/prod/policies', { policy: 'prov' });
    expect(attached.json()).toMatchObject({ changed: true, snapshot: 2, policies: [{ name: 'prov', version: 1 }] });
    let snap = (await call('GET', '/snapshots/prod')).json();
    expect(snap).toMatchObject({ index: 2, compliant: false, policies: [{ name: 'prov', version: 1 }] });
    const x = snap.artifacts.find((a: { fingerprint: string }) => a.fingerprint === fp('2'));
    expect(x.compliance.policies[0].rule_evaluations[0]).toMatchObject({ status: 'failed', reason: 'no_provenance' });
    expect((await call('GET', '/environments/prod')).json()).toMatchObject({ compliant: false, policies: [{ name: 'prov' }] });
    const assert = (await call('POST', '/assert/artifact', { fingerprint: fp('2'), environment: 'prod' })).json();
    expect(assert).toMatchObject({ compliant: false, failures: [{ reason: 'no_provenance', rule: 'artifacts.provenance' }] });
    expect((await call('POST', '/environments/prod/allowances', { fingerprint: fp('2'), reason: 'vendor' })).statusCode).toBe(201);
    expect((await call('GET', '/environments/prod/allowances')).json().items).toMatchObject([{ fingerprint: fp('2'), reason: 'vendor' }]);
    snap = (await call('POST', '/assert/snapshot', { snapshot: 'prod' })).json();
    expect(snap).toMatchObject({ compliant: true, failures: [] });
    expect((await call('DELETE', '/environments/prod/policies/prov')).json()).toMatchObject({ changed: true, snapshot: 3, policies: [] });
    expect((await call('DELETE', '/environments/prod/policies/prov')).statusCode).toBe(404);
    expect((await call('POST', '/assert/artifact', { fingerprint: 'abc' })).statusCode).toBe(400);
  });
});
