import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServiceBundle } from '../../src/services/index.js';
import type { OrgRecord } from '../../src/store/index.js';
import { engines } from '../helpers/engines.js';
import { openServices } from '../helpers/services.js';
import { envelopeText, provenanceStatement } from '../helpers/provenance-files.js';

const fp = (c: string) => c.repeat(64);
const SCHEMA = '_schema: https://docs.kosli.com/schemas/policy/v1\n';
const TEMPLATE = 'version: 1\ntrail:\n  artifacts:\n  - name: app\n    attestations:\n    - name: provenance\n      type: provenance\n';

describe.each(engines())('provenance attestations on $name', (engine) => {
  let services: ServiceBundle;
  let org: OrgRecord;
  let cleanup: () => Promise<void>;
  const size = async () => services.log.size(org);
  const upload = async (text: string) => (await services.vault.put(org, (async function* () {
    yield Buffer.from(text);
  })(), { name: 'app.intoto.json' })).digest;
  const attest = async (text: string, extra: { fingerprint?: string; name?: string; trail?: string } = {}) =>
    services.evidenceAttestations.provenance(org, { flow: 'shop', trail: extra.trail ?? 't1', name: extra.name ?? 'provenance', envelope: await upload(text), fingerprint: extra.fingerprint });

  beforeAll(async () => {
    ({ services, org, cleanup } = await openServices(engine));
    await services.flows.create(org, { name: 'shop', template: TEMPLATE });
    await services.trails.begin(org, { flow: 'shop', name: 't1' });
    await services.artifacts.report(org, { flow: 'shop', trail: 't1', name: 'app', fingerprint: fp('a') });
    await services.artifacts.report(org, { flow: 'shop', trail: 't1', name: 'lib', fingerprint: fp('b') });
  });
  afterAll(async () => cleanup());

  it('binds an envelope to the artifacts of the trail that are its subjects, stores it as evidence, and completes a `type: provenance` template', async () => {
    const t1 = (await services.trails.get(org, 'shop', 't1')).trail;
    expect((await services.trails.compliance(org, 'shop', t1)).state).toBe('INCOMPLETE');
    const text = envelopeText(provenanceStatement({ 'out/app': fp('a'), 'out/other': fp('c') }));
    const [att, ...more] = await attest(text);
    expect(more).toEqual([]);
    expect(att).toMatchObject({ type: 'provenance', name: 'provenance', artifactFingerprint: fp('a'), compliant: true });
    expect(att!.summary).toMatchObject({ subject: 'out/app', subjects: 2, builder_id: 'https://evident.dev/test/builder', enveloped: true, signatures: 0 });
    expect(att!.evidence.map((e) => e.name)).toEqual(['app.intoto.json']);
    expect((await services.trails.compliance(org, 'shop', t1)).state).toBe('COMPLIANT');
  });

  it('takes a bare statement too, and records one attestation per matching artifact', async () => {
    const atts = await attest(JSON.stringify(provenanceStatement({ a: fp('a'), b: fp('b') })), { name: 'slsa' });
    expect(atts.map((a) => [a.artifactFingerprint, (a.summary as { enveloped: boolean }).enveloped])).toEqual([[fp('a'), false], [fp('b'), false]]);
  });

  it('with an ARTIFACT.NAME name, binds only to that artifact', async () => {
    const atts = await attest(envelopeText(provenanceStatement({ a: fp('a'), b: fp('b') })), { name: 'lib.provenance' });
    expect(atts.map((a) => [a.artifactName, a.artifactFingerprint])).toEqual([['lib', fp('b')]]);
    const before = await size();
    await expect(attest(envelopeText(provenanceStatement({ a: fp('a') })), { name: 'lib.provenance' })).rejects.toThrow(/no artifact named lib of trail t1/);
    expect(await size()).toBe(before);
  });

  it('refuses bad files with the path of each problem, and stores nothing', async () => {
    const before = await size();
    const refused = async (text: string, extra: { fingerprint?: string } = {}) => {
      const err = await attest(text, extra).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'INVALID_ARGUMENT' });
      return err as Error & { details: { path: string; message: string }[] };
    };
    expect((await refused('{"hello": "world"}')).details).toEqual([expect.objectContaining({ path: '/' })]);
    expect((await refused('not json')).message).toMatch(/not JSON/);
    expect((await refused(envelopeText(provenanceStatement({ a: fp('a') }), 'application/json'))).details).toEqual([expect.objectContaining({ path: '/payloadType' })]);
    const wrongPredicate = await refused(envelopeText(provenanceStatement({ a: fp('a') }, 'https://spdx.dev/Document')));
    expect(wrongPredicate.details).toEqual([expect.objectContaining({ path: '/payload/predicateType' })]);
    const noSha = provenanceStatement({ a: fp('a') });
    (noSha.subject as { digest: Record<string, string> }[])[0]!.digest = { sha512: 'f'.repeat(128) };
    expect((await refused(envelopeText(noSha))).details).toEqual([expect.objectContaining({ path: '/payload/subject/0/digest/sha256' })]);
    const badPredicate = provenanceStatement({ a: fp('a') });
    delete (badPredicate.predicate as Record<string, unknown>).runDetails;
    expect((await refused(JSON.stringify(badPredicate))).details).toEqual([expect.objectContaining({ path: '/predicate/runDetails' })]);
    // A subject mismatch: the given fingerprint is not a subject; no subject is an artifact of the trail.
    expect((await refused(envelopeText(provenanceStatement({ a: fp('a') })), { fingerprint: fp('b') })).message).toMatch(/not the SHA-256 of any subject/);
    expect((await refused(envelopeText(provenanceStatement({ x: fp('e') })))).message).toMatch(/no artifact of trail t1/);
    expect(await size()).toBe(before);
  });

  it('counts as provenance for artifacts.provenance: a running fingerprint never reported in a flow', async () => {
    await services.environments.create(org, { name: 'prod', type: 'k8s' });
    await services.environments.report(org, 'prod', [{ name: 'sidecar', fingerprint: fp('d'), instances: 1 }]);
    await services.policies.create(org, { name: 'prov', source: `${SCHEMA}artifacts:\n  provenance:\n    required: true\n` });
    await services.policies.attach(org, 'prod', 'prov');
    const reason = async () => {
      const c = await services.compliance.snapshot(org, await services.environments.snapshot(org, 'prod'));
      return c.artifacts.get(fp('d'))!.policies[0]!.rule_evaluations.find((e) => e.rule.path === 'artifacts.provenance')!.reason;
    };
    expect(await reason()).toBe('no_provenance');
    await attest(envelopeText(provenanceStatement({ sidecar: fp('d') })), { fingerprint: fp('d') });
    expect(await reason()).toBe('rule_satisfied');
  });
});
