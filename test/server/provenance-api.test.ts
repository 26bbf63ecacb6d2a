import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, testApp, type TestApp } from '../helpers/app.js';
import { envelopeText, provenanceStatement } from '../helpers/provenance-files.js';

// POST …/attestations/provenance: the body names an uploaded file; the server checks it and binds it.

const fp = (c: string) => c.repeat(64);

describe('the provenance attestation route', () => {
  let t: TestApp;
  const url = '/api/v1/orgs/acme/flows/shop/trails/t1/attestations/provenance';
  const put = async (text: string) => {
    const org = (await t.auth.ensureOrg('acme')).org;
    return (await t.services.vault.put(org, (async function* () {
      yield Buffer.from(text);
    })(), { name: 'p.json' })).digest;
  };
  const post = (payload: unknown) => t.app.inject({ method: 'POST', url, headers: bearer(t.adminToken), payload: payload as Record<string, unknown> });

  beforeAll(async () => {
    t = await testApp();
    const org = (await t.auth.ensureOrg('acme')).org;
    await t.services.flows.create(org, { name: 'shop' });
    await t.services.trails.begin(org, { flow: 'shop', name: 't1' });
    await t.services.artifacts.report(org, { flow: 'shop', trail: 't1', name: 'app', fingerprint: fp('a') });
  });
  afterAll(async () => t.close());

  it('answers 201 with one attestation per bound artifact, and 400 naming the problem for a bad file', async () => {
    const ok = await post({ name: 'app.provenance', envelope: await put(envelopeText(provenanceStatement({ app: fp('a') }))) });
    expect(ok.statusCode, ok.body).toBe(201);
    expect(ok.json().attestations).toEqual([expect.objectContaining({ type: 'provenance', name: 'provenance', artifact_fingerprint: fp('a'), compliant: true })]);
    const bad = await post({ name: 'p', envelope: await put(envelopeText(provenanceStatement({ app: fp('a') }), 'text/plain')) });
    expect(bad.statusCode).toBe(400);
    expect(JSON.stringify(bad.json())).toContain('/payloadType');
    expect((await post({ name: 'p' })).statusCode).toBe(400);
    const doc = (await t.app.inject('/api/v1/openapi.json')).json() as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths)).toContain('/api/v1/orgs/{org}/flows/{flow}/trails/{trail}/attestations/provenance');
  });
});
