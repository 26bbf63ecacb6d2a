import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServiceBundle } from '../../src/services/index.js';
import type { OrgRecord } from '../../src/store/index.js';
import { engines } from '../helpers/engines.js';
import { openServices } from '../helpers/services.js';

const FP = 'c'.repeat(64);

// `assert artifact --flow F` judges the artifact by its report in F (and that trail), even when another flow
// reported the same fingerprint later: a shared base image is compliant in one pipeline and not in another.
describe.each(engines())('assert artifact --flow on $name', (engine) => {
  let services: ServiceBundle;
  let org: OrgRecord;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    ({ services, org, cleanup } = await openServices(engine));
    for (const flow of ['builder', 'deployer']) {
      await services.flows.create(org, { name: flow });
      await services.trails.begin(org, { flow, name: 'r1' });
    }
    await services.artifacts.report(org, { flow: 'builder', trail: 'r1', name: 'base', fingerprint: FP });
    await services.attestations.record(org, 'generic', { flow: 'builder', trail: 'r1', name: 'base.scan', fingerprint: FP }, true, null);
    // Reported later into deployer, whose trail fails.
    await services.artifacts.report(org, { flow: 'deployer', trail: 'r1', name: 'base', fingerprint: FP });
    await services.attestations.record(org, 'generic', { flow: 'deployer', trail: 'r1', name: 'smoke' }, false, null);
  });
  afterAll(async () => cleanup());

  it("uses the artifact's report in the given flow, not its latest report", async () => {
    const inBuilder = await services.asserts.artifact(org, { fingerprint: FP, flow: 'builder' }, { vsa: true });
    expect(inBuilder).toMatchObject({ compliant: true, scope: 'flow builder', failures: [], artifacts: [{ flow: 'builder', trail: 'r1' }] });
    const statement = JSON.parse(Buffer.from(inBuilder.vsa!.payload, 'base64').toString('utf8'));
    expect(statement.predicate).toMatchObject({ verificationResult: 'PASSED', resourceUri: `urn:evident:acme:artifact:${FP}` });

    const inDeployer = await services.asserts.artifact(org, { fingerprint: FP, flow: 'deployer' });
    expect(inDeployer).toMatchObject({ compliant: false, artifacts: [{ flow: 'deployer' }] });
    expect(inDeployer.failures.map((f) => f.reason)).toEqual(['non_compliant_in_trail']);
    // Without --flow: the latest report, deployer's.
    expect((await services.asserts.artifact(org, { fingerprint: FP })).compliant).toBe(false);
  });

  it('fails an artifact never reported in the flow', async () => {
    await services.flows.create(org, { name: 'other' });
    const r = await services.asserts.artifact(org, { fingerprint: FP, flow: 'other' });
    expect(r.compliant).toBe(false);
    expect(r.failures.map((f) => f.reason)).toContain('no_provenance');
    expect(r.failures[0]!.message).toBe('artifact was not reported in flow other');
  });
});
