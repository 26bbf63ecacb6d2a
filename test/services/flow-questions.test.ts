import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FlowSummary, type ServiceBundle } from '../../src/services/index.js';
import type { OrgRecord } from '../../src/store/index.js';
import { engines } from '../helpers/engines.js';
import { FACTS, FLOW_COUNT, SteppingClock, buildFixtureOrg, commit, flowName, fp } from '../helpers/fixture-org.js';
import { openServices } from '../helpers/services.js';

// Seed 000's questions, one service call each, on the fixture org of 32 flows.
describe.each(engines())("seed 000's questions on a 32-flow org on $name", (engine) => {
  let services: ServiceBundle;
  let org: OrgRecord;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    ({ services, org, cleanup } = await openServices(engine, { clock: new SteppingClock(), org: 'fixture' }));
    await buildFixtureOrg(services, org);
  }, 120_000);
  afterAll(async () => cleanup());

  const all = async (query: Parameters<ServiceBundle['flows']['overview']>[1] = {}) => {
    const out: FlowSummary[] = [];
    let cursor: string | null = null;
    do {
      const page = await services.flows.overview(org, { ...query, cursor, limit: 7 });
      expect(page.items.length).toBeLessThanOrEqual(7);
      out.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    return out;
  };

  it('which flows last deployed, where and when: the latest snapshot where one of their artifacts started running', async () => {
    const flows = await all();
    expect(flows.map((f) => f.flow.name)).toEqual(Array.from({ length: FLOW_COUNT }, (_, i) => flowName(i + 1)));
    const got = new Map(flows.filter((f) => f.lastDeployment).map((f) => [f.flow.name, [f.lastDeployment!.environment, f.lastDeployment!.snapshot]]));
    expect(got).toEqual(FACTS.lastDeployment);
    // svc-02 was scaled in aws-prod#3: scaling is not a deployment.
    expect(flows[1]!.lastDeployment).toMatchObject({ environment: 'aws-prod', snapshot: 1 });
    const sorted = await all({ sort: 'last-deployment' });
    expect(sorted).toHaveLength(FLOW_COUNT);
    expect(sorted.slice(0, 4).map((f) => f.flow.name)).toEqual(['svc-04', 'svc-08', 'svc-06', 'svc-07']);
    const times = sorted.filter((f) => f.lastDeployment).map((f) => f.lastDeployment!.at);
    expect(times).toEqual([...times].sort().reverse());
    expect(sorted.slice(FACTS.lastDeployment.size).every((f) => f.lastDeployment === null)).toBe(true);
  });

  it("shows each flow's latest trail compliance and sorts worst first", async () => {
    const flows = await all();
    const state = new Map(flows.map((f) => [f.flow.name, f.compliance]));
    expect([1, 2, 3, 4, 5, 6, 7, 8].map((i) => state.get(flowName(i)))).toEqual([
      'INCOMPLETE', 'COMPLIANT', 'INCOMPLETE', 'COMPLIANT', 'NON-COMPLIANT', 'INCOMPLETE', 'INCOMPLETE', 'COMPLIANT',
    ]);
    expect(flows.filter((f) => f.compliance === 'NON-COMPLIANT').map((f) => f.flow.name)).toEqual(['svc-05', 'svc-10', 'svc-20', 'svc-25']);
    expect(flows.find((f) => f.flow.name === 'svc-12')!.latestTrail!.name).toBe('t2');
    expect(state.get('svc-32')).toBeNull();
    const sorted = await all({ sort: 'compliance' });
    expect(sorted.map((f) => f.compliance ?? 'none')).toEqual([
      ...Array(4).fill('NON-COMPLIANT'), ...Array(4).fill('INCOMPLETE'), ...Array(22).fill('COMPLIANT'), 'none', 'none',
    ]);
    expect(sorted.slice(0, 4).map((f) => f.flow.name)).toEqual(['svc-05', 'svc-10', 'svc-20', 'svc-25']);
  });

  it('which flows lack an attestation type: none of that type in the latest trail', async () => {
    const lacking = await all({ missingAttestationType: 'snyk', sort: 'name' });
    expect(lacking.map((f) => f.flow.name)).toEqual(FACTS.missingSnyk);
    expect(lacking.map((f) => f.flow.name)).toContain('svc-12'); // Snyk on t1 only
    expect(lacking.map((f) => f.flow.name)).not.toContain('svc-05'); // a failing scan is still a scan
    expect((await all({ missingAttestationType: 'junit' })).map((f) => f.flow.name)).toEqual(
      Array.from({ length: FLOW_COUNT }, (_, i) => i + 1).filter((i) => i % 2 === 1 || i >= 31).map(flowName),
    );
    await expect(services.flows.overview(org, { missingAttestationType: 'snik' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/did you mean 'snyk'/) });
    await expect(services.flows.overview(org, { sort: 'name', cursor: 'nonsense' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('what should be running in aws-prod and what is', async () => {
    const d = await services.drift.drift(org, 'aws-prod');
    expect(d.in_sync).toBe(false);
    const byState = (s: string) => d.items.filter((i) => i.state === s).map((i) => i.fingerprint);
    expect(byState('running').sort()).toEqual([6, 7, 8].map((i) => fp(i, 1)));
    expect(byState('not-running')).toEqual([fp(12, 2)]);
    expect(byState('never-expected')).toHaveLength(5);
  });

  it('is this commit in production: where each of its artifacts runs, since which snapshot, and where it ran before', async () => {
    const [hit] = await services.artifacts.search(org, commit(1, 1).slice(0, 7));
    expect(hit).toMatchObject({ flow: 'svc-01', trail: 't1', matched: 'commit' });
    expect(hit!.places.running.map((r) => [r.environment, r.since, r.snapshot])).toEqual([['aws-beta', 1, 3], ['aws-prod', 1, 3]]);
    expect(hit!.places.exited).toEqual([]);
    const [gone] = await services.artifacts.search(org, commit(9, 1));
    expect(gone!.places.running).toEqual([]);
    expect(gone!.places.exited).toEqual([{ environment: 'aws-beta', snapshot: 3, at: expect.stringMatching(/^2024-03-01T/) }]);
    const [replaced] = await services.artifacts.search(org, commit(4, 1));
    // svc-04's first build left aws-beta in #3 (its second took over) and still runs in aws-prod since #1.
    expect(replaced!.places.running.map((r) => r.environment)).toEqual(['aws-prod']);
    expect(replaced!.places.exited.map((x) => `${x.environment}#${x.snapshot}`)).toEqual(['aws-beta#3']);
    const [second] = await services.artifacts.search(org, fp(4, 2).slice(0, 12));
    expect(second!.places.running).toEqual([expect.objectContaining({ environment: 'aws-beta', snapshot: 3, since: 3 })]);
    expect(await services.artifacts.search(org, commit(31, 1))).toEqual([]);
  });
});
