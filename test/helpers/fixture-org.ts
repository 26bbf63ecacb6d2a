import type { Clock, ServiceBundle } from '../../src/services/index.js';
import type { OrgRecord } from '../../src/store/index.js';

// Seed 000's organisation: "which of our 32 pipelines last deployed?", "which don't have Snyk scanning?",
// "what should be running in production?", "is this commit in production?". Built through the services
// (every record a log entry), deterministic, with answers that are not all alike. Reused by other suites:
// read the facts below rather than re-deriving them.
//
// Flows svc-01 … svc-32; flow i:
// - trails: none for i >= 31; `t1` and `t2` when i % 4 == 0 (the latest is t2); else `t1`. Each trail reports
//   one artifact named like the flow, fingerprint fp(i, trail), git commit commit(i, trail).
// - template (i <= 8): each artifact needs `unit-tests` (junit) and `snyk-scan` (snyk).
// - snyk-scan (type snyk) on the latest trail's artifact when i % 3 != 0, non-compliant when i % 5 == 0;
//   flows with two trails also have one on t1 (so svc-12 has Snyk on t1 only: its latest trail lacks it).
// - unit-tests (type junit, compliant) on the latest trail's artifact when i is even.
// - tags: svc-01 … svc-04 carry {team: core, tier: '1'}.
// Environments (snapshots in this order, each later than the one before):
//   aws-beta#1: svc-01…10 (t1 artifacts)       aws-prod#1: svc-01…05
//   aws-beta#2: + svc-11…16                     aws-prod#2: + svc-06…08
//   aws-beta#3: svc-04, svc-08 on their t2 artifact; svc-09 stopped
//   aws-prod#3: svc-02 scaled from 1 to 3 instances (scaling is no deployment)
//   expectations on aws-prod: svc-06…08 (running) and svc-12 t2 (not running).
// Commit times: each artifact's commit was made commitTime(i, trail) (before the fixture's first entry), none
// when i % 7 == 0 (svc-07, 14, 21, 28).
// Deployments over later days (only with `history`, for DORA metrics: it changes the last deployments above):
//   aws-prod#4 (+1 day): svc-04 and svc-08 on their t2 artifact      aws-prod#5: policy `snyk` attached (needs snyk-scan)
//   aws-prod#6 (+2 days): + svc-09…12 (9 and 10 non-compliant)       aws-prod#7 (+1 day): svc-05 stopped
//   aws-prod#8 (+1 day): svc-05 again (non-compliant), svc-02 back to 1 instance (no deployment)

export const FLOW_COUNT = 32;
export const START = Date.parse('2024-03-01T09:00:00.000Z');

/** A clock that moves one minute at each reading: every log entry gets its own, increasing time. */
export class SteppingClock implements Clock {
  private t = START;
  now(): Date {
    const d = new Date(this.t);
    this.t += 60_000;
    return d;
  }

  /** Moves on by whole days (the fixture's later history). */
  skipDays(days: number): void {
    this.t += days * 86_400_000;
  }
}

const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');
export const flowName = (i: number) => `svc-${String(i).padStart(2, '0')}`;
export const fp = (i: number, trail: 1 | 2) => `${hex(i, 2)}${trail}`.padEnd(64, 'f');
export const commit = (i: number, trail: 1 | 2) => `${hex(i, 2)}${trail}c`.padEnd(40, 'a');
/** When the commit of flow i's artifact on a trail was made; null for i % 7 == 0. t2's commit is an hour after t1's. */
export const commitTime = (i: number, trail: 1 | 2): string | null =>
  i % 7 === 0 ? null : new Date(START - (40 - i) * 600_000 + (trail - 1) * 3_600_000).toISOString();
export const trailsOf = (i: number): ('t1' | 't2')[] => (i >= 31 ? [] : i % 4 === 0 ? ['t1', 't2'] : ['t1']);
export const latestTrail = (i: number): 't1' | 't2' | null => trailsOf(i).at(-1) ?? null;
const num = (t: 't1' | 't2') => (t === 't1' ? 1 : 2) as 1 | 2;

export const templateFor = (i: number) => `version: 1
trail:
  artifacts:
  - name: ${flowName(i)}
    attestations:
    - name: unit-tests
      type: junit
    - name: snyk-scan
      type: snyk
`;

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, k) => from + k);
const running = (flows: number[], trail: (i: number) => 1 | 2 = () => 1, instances: (i: number) => number = () => 1) =>
  flows.map((i) => ({ name: `${flowName(i)}:${trail(i)}`, fingerprint: fp(i, trail(i)), instances: instances(i) }));

/** The answers the fixture was built to give. */
export const FACTS = {
  /** Flow → [environment, snapshot] of its last deployment, for the flows ever deployed. */
  lastDeployment: new Map<string, [string, number]>([
    ...range(1, 5).filter((i) => i !== 4).map((i) => [flowName(i), ['aws-prod', 1]] as [string, [string, number]]),
    [flowName(4), ['aws-beta', 3]], [flowName(8), ['aws-beta', 3]],
    ...[6, 7].map((i) => [flowName(i), ['aws-prod', 2]] as [string, [string, number]]),
    ...[9, 10].map((i) => [flowName(i), ['aws-beta', 1]] as [string, [string, number]]),
    ...range(11, 16).map((i) => [flowName(i), ['aws-beta', 2]] as [string, [string, number]]),
  ]),
  /** Flows whose latest trail has no snyk attestation (flows without trails included). */
  missingSnyk: range(1, FLOW_COUNT).filter((i) => i >= 31 || i % 3 === 0).map(flowName),
};

export const SNYK_POLICY = '_schema: https://docs.kosli.com/schemas/policy/v1\nartifacts:\n  attestations:\n    - name: snyk-scan\n      type: snyk\n';

/**
 * Builds the org's 32 flows, two environments and their snapshots through `services` (give them a
 * SteppingClock); with `history` (that clock), aws-prod's later deployments too.
 */
export async function buildFixtureOrg(services: ServiceBundle, org: OrgRecord, options: { history?: SteppingClock } = {}): Promise<void> {
  for (const i of range(1, FLOW_COUNT)) {
    const flow = flowName(i);
    await services.flows.create(org, { name: flow, description: `service ${i}`, template: i <= 8 ? templateFor(i) : null });
    if (i <= 4) await services.flows.tag(org, flow, { set: { team: 'core', tier: '1' } });
    for (const trail of trailsOf(i)) {
      const n = num(trail);
      await services.trails.begin(org, { flow, name: trail, gitCommit: commit(i, n) });
      await services.artifacts.report(org, { flow, trail, name: flow, displayName: `${flow}:${n}`, fingerprint: fp(i, n), gitCommit: commit(i, n), commitTime: commitTime(i, n) });
      const latest = trail === latestTrail(i);
      if (i % 3 !== 0 || !latest) {
        await services.attestations.record(org, 'snyk', { flow, trail, name: 'snyk-scan', fingerprint: fp(i, n) }, i % 5 !== 0, { critical: i % 5 === 0 ? 1 : 0 });
      }
      if (latest && i % 2 === 0) {
        await services.attestations.record(org, 'junit', { flow, trail, name: 'unit-tests', fingerprint: fp(i, n) }, true, { failures: 0 });
      }
    }
  }
  await services.environments.create(org, { name: 'aws-beta', type: 'k8s' });
  await services.environments.create(org, { name: 'aws-prod', type: 'ecs' });
  const t2 = (i: number) => (i === 4 || i === 8 ? 2 : 1);
  await services.environments.report(org, 'aws-beta', running(range(1, 10)));
  await services.environments.report(org, 'aws-prod', running(range(1, 5)));
  await services.environments.report(org, 'aws-beta', running(range(1, 16)));
  await services.environments.report(org, 'aws-prod', running(range(1, 8)));
  await services.environments.report(org, 'aws-beta', running(range(1, 16).filter((i) => i !== 9), t2));
  await services.environments.report(org, 'aws-prod', running(range(1, 8), () => 1, (i) => (i === 2 ? 3 : 1)));
  for (const i of [6, 7, 8]) await services.environments.expect(org, 'aws-prod', fp(i, 1));
  await services.environments.expect(org, 'aws-prod', fp(12, 2), 'svc-12 release');
  if (options.history) await laterHistory(services, org, options.history);
}

async function laterHistory(services: ServiceBundle, org: OrgRecord, clock: SteppingClock): Promise<void> {
  const t2 = (i: number) => (i === 4 || i === 8 ? 2 : 1);
  clock.skipDays(1);
  await services.environments.report(org, 'aws-prod', running(range(1, 8), t2, (i) => (i === 2 ? 3 : 1)));
  await services.policies.create(org, { name: 'snyk', source: SNYK_POLICY });
  await services.policies.attach(org, 'aws-prod', 'snyk');
  clock.skipDays(2);
  await services.environments.report(org, 'aws-prod', running(range(1, 12), t2, (i) => (i === 2 ? 3 : 1)));
  clock.skipDays(1);
  await services.environments.report(org, 'aws-prod', running(range(1, 12).filter((i) => i !== 5), t2, (i) => (i === 2 ? 3 : 1)));
  clock.skipDays(1);
  await services.environments.report(org, 'aws-prod', running(range(1, 12), t2));
}
