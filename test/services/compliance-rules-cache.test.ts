import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServiceBundle } from '../../src/services/index.js';
import type { OrgRecord } from '../../src/store/index.js';
import { engines } from '../helpers/engines.js';
import { openServices } from '../helpers/services.js';

const fp = (c: string) => c.repeat(64);
const PROVENANCE = '_schema: https://docs.kosli.com/schemas/policy/v1\nartifacts:\n  provenance:\n    required: true\n';

// ComplianceService keeps a snapshot's policy set and its environment's exemptions between reads, until the
// log names the environment again: an exemption given after a read must count at the next read.
describe.each(engines())("the compliance service's cached rules on $name", (engine) => {
  let services: ServiceBundle;
  let org: OrgRecord;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    ({ services, org, cleanup } = await openServices(engine));
    await services.flows.create(org, { name: 'web' });
    for (const env of ['prod', 'beta']) {
      await services.environments.create(org, { name: env, type: 'k8s' });
      await services.environments.report(org, env, [{ name: 'stray', fingerprint: fp('9'), instances: 1 }]);
    }
    await services.policies.create(org, { name: 'provenance', source: PROVENANCE });
    await services.policies.attach(org, 'prod', 'provenance');
  });
  afterAll(async () => cleanup());

  it('reuses the rules across unrelated changes and re-reads them after an entry names the environment', async () => {
    const view = await services.environments.snapshot(org, 'prod');
    const judge = async () => (await services.compliance.snapshot(org, view)).artifacts.get(fp('9'))!;
    expect((await judge()).compliant).toBe(false);
    // Unrelated entries: a flow, another environment's exemption and snapshot.
    await services.flows.create(org, { name: 'api' });
    await services.allowances.allow(org, 'beta', fp('9'), 'beta only', 'tester');
    await services.environments.report(org, 'beta', [{ name: 'other', fingerprint: fp('8'), instances: 1 }]);
    expect(await judge()).toMatchObject({ compliant: false, allowed: null });
    await services.allowances.allow(org, 'prod', fp('9'), 'vendor agent', 'tester');
    expect(await judge()).toMatchObject({ compliant: true, allowed: { reason: 'vendor agent' } });
    // Detaching makes a new snapshot; the old one keeps its policy set.
    await services.policies.detach(org, 'prod', 'provenance');
    expect((await services.compliance.snapshot(org, view)).policies.map((p) => p.name)).toEqual(['provenance']);
    expect((await services.compliance.snapshot(org, await services.environments.snapshot(org, 'prod'))).policies).toEqual([]);
  });
});
