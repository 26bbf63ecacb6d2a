import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aggregateDora, doraWindow, type Clock, type DoraDeployment, type ServiceBundle } from '../../src/services/index.js';
import type { OrgRecord } from '../../src/store/index.js';
import { engines } from '../helpers/engines.js';
import { openServices } from '../helpers/services.js';

const fp = (c: string) => c.repeat(64);
const W1 = fp('1');
const W2 = fp('2');
const A1 = fp('3');
const X = fp('9');
const TESTS_POLICY = '_schema: https://docs.kosli.com/schemas/policy/v1\nartifacts:\n  attestations:\n    - name: unit-tests\n      type: junit\n';
const H = 3600;

/** A clock the test sets before each write: snapshots get the times the scenario needs. */
class SetClock implements Clock {
  t = Date.parse('2026-11-01T00:00:00Z');
  now(): Date {
    return new Date(this.t);
  }
  at(iso: string): void {
    this.t = Date.parse(iso);
  }
}

// prod, with W1 and W2 from flow web, A1 from flow api (no commit time) and X never reported into a flow:
//   #1 2026-11-02T00:00 (Monday, a bucket edge)  W1, X       deployments W1, X (no policy: not judged)
//   #2 2026-11-02T12:00                           W1 x3, X    a scale change: no deployment
//   #3 2026-11-02T18:00  policy `tests` attached              the same artifacts: no deployment
//   #4 2026-11-03T12:00                           A1, X       A1 (compliant; no commit time); W1 stopped
//   #5 2026-11-04T00:00                           A1, W1, X   W1 again (re-deployed after it stopped; compliant)
//   #6 2026-11-04T06:00                           A1, W2, X   W2 (no unit tests: non-compliant)
describe.each(engines())('DORA metrics on $name', (engine) => {
  let services: ServiceBundle;
  let org: OrgRecord;
  let cleanup: () => Promise<void>;
  const clock = new SetClock();
  const run = (...list: [string, string, number?][]) => list.map(([fingerprint, name, instances]) => ({ fingerprint, name, instances: instances ?? 1 }));
  /** The deployments page comes newest first; these assertions read it in log order. */
  const oldestFirst = (r: { deployments: DoraDeployment[] }) => [...r.deployments].reverse();
  const metrics = (q: Partial<Parameters<ServiceBundle['dora']['metrics']>[1]> = {}) =>
    services.dora.metrics(org, { environment: 'prod', since: '2026-11-02', until: '2026-11-05', ...q });

  beforeAll(async () => {
    ({ services, org, cleanup } = await openServices(engine, { clock }));
    for (const flow of ['web', 'api']) await services.flows.create(org, { name: flow });
    await services.trails.begin(org, { flow: 'web', name: 'r1' });
    await services.trails.begin(org, { flow: 'api', name: 'r1' });
    await services.artifacts.report(org, { flow: 'web', trail: 'r1', name: 'web', fingerprint: W1, gitCommit: 'a'.repeat(40), commitTime: '2026-11-01T22:00:00Z' });
    await services.artifacts.report(org, { flow: 'web', trail: 'r1', name: 'web2', fingerprint: W2, commitTime: '2026-11-03T12:00:00+02:00' });
    await services.artifacts.report(org, { flow: 'api', trail: 'r1', name: 'api', fingerprint: A1 });
    for (const [flow, name, f] of [['web', 'web.unit-tests', W1], ['api', 'api.unit-tests', A1]] as const) {
      await services.attestations.record(org, 'junit', { flow, trail: 'r1', name, fingerprint: f }, true, null);
    }
    await services.policies.create(org, { name: 'tests', source: TESTS_POLICY });
    await services.environments.create(org, { name: 'prod', type: 'k8s' });
    await services.environments.create(org, { name: 'all', type: 'logical', includedEnvironments: ['prod'] });
    clock.at('2026-11-02T00:00:00Z');
    await services.environments.report(org, 'prod', run([W1, 'web'], [X, 'stray']));
    clock.at('2026-11-02T12:00:00Z');
    await services.environments.report(org, 'prod', run([W1, 'web', 3], [X, 'stray']));
    clock.at('2026-11-02T18:00:00Z');
    await services.policies.attach(org, 'prod', 'tests');
    clock.at('2026-11-03T12:00:00Z');
    await services.environments.report(org, 'prod', run([A1, 'api'], [X, 'stray']));
    clock.at('2026-11-04T00:00:00Z');
    await services.environments.report(org, 'prod', run([A1, 'api'], [W1, 'web'], [X, 'stray']));
    clock.at('2026-11-04T06:00:00Z');
    await services.environments.report(org, 'prod', run([A1, 'api'], [W2, 'web2'], [X, 'stray']));
    clock.at('2026-11-10T00:00:00Z');
  });
  afterAll(async () => cleanup());

  it('counts a fingerprint that starts running, again after it stopped, not a scale change or a policy change; judges against the policies then', async () => {
    const r = await metrics();
    expect([r.since, r.until, r.bucket]).toEqual(['2026-11-02T00:00:00.000Z', '2026-11-05T00:00:00.000Z', 'day']);
    expect(oldestFirst(r).map((d) => [d.snapshot, d.artifact, d.flow, d.lead_time_seconds, d.compliant])).toEqual([
      [1, 'web', 'web', 2 * H, null],
      [1, 'stray', null, null, null],
      [4, 'api', 'api', null, true],
      [5, 'web', 'web', 50 * H, true],
      [6, 'web2', 'web', 20 * H, false],
    ]);
    expect(oldestFirst(r)[0]).toEqual({
      flow: 'web', artifact: 'web', fingerprint: W1, git_commit: 'a'.repeat(40), commit_time: '2026-11-01T22:00:00.000Z',
      deployed_at: '2026-11-02T00:00:00.000Z', snapshot: 1, lead_time_seconds: 7200, compliant: null,
    });
    expect(r.overall).toEqual({
      deployments: 5, deployments_per_day: 5 / 3,
      lead_time_seconds: { median: 20 * H, p90: 50 * H, count: 3, invalid: 0 },
      change_failure_rate: { non_compliant: 1, judged: 3, rate: 1 / 3 },
      // web2 started non-compliant in #6 and no compliant web deployment came after it.
      time_to_restore_seconds: { median: null, p90: null, count: 0, unrestored: 1 },
    });
    // The stray artifact counts overall only.
    expect(r.flows).toEqual([
      { flow: 'api', deployments: 1, deployments_per_day: 1 / 3, lead_time_seconds: { median: null, p90: null, count: 0, invalid: 0 }, change_failure_rate: { non_compliant: 0, judged: 1, rate: 0 }, time_to_restore_seconds: { median: null, p90: null, count: 0, unrestored: 0 } },
      { flow: 'web', deployments: 3, deployments_per_day: 1, lead_time_seconds: { median: 20 * H, p90: 50 * H, count: 3, invalid: 0 }, change_failure_rate: { non_compliant: 1, judged: 2, rate: 0.5 }, time_to_restore_seconds: { median: null, p90: null, count: 0, unrestored: 1 } },
    ]);
  });

  it('buckets by UTC day (a deployment at midnight opens its day) or ISO week, cut to the window; until is exclusive', async () => {
    const r = await metrics();
    expect(r.series).toEqual([
      { start: '2026-11-02T00:00:00.000Z', end: '2026-11-03T00:00:00.000Z', deployments: 2, lead_time_median_seconds: 2 * H, by_flow: { web: 1 } },
      { start: '2026-11-03T00:00:00.000Z', end: '2026-11-04T00:00:00.000Z', deployments: 1, lead_time_median_seconds: null, by_flow: { api: 1 } },
      { start: '2026-11-04T00:00:00.000Z', end: '2026-11-05T00:00:00.000Z', deployments: 2, lead_time_median_seconds: 20 * H, by_flow: { web: 2 } },
    ]);
    const upToMidnight = await metrics({ until: '2026-11-04T00:00:00Z' });
    expect(oldestFirst(upToMidnight).map((d) => d.snapshot)).toEqual([1, 1, 4]);
    const fromMidnight = await metrics({ since: '2026-11-04T00:00:00.000Z' });
    expect(oldestFirst(fromMidnight).map((d) => d.snapshot)).toEqual([5, 6]);
    const weeks = await metrics({ since: '2026-11-01T12:00:00Z', until: '2026-11-10', bucket: 'week' });
    expect(weeks.series.map((b) => [b.start, b.end, b.deployments])).toEqual([
      ['2026-11-01T12:00:00.000Z', '2026-11-02T00:00:00.000Z', 0],
      ['2026-11-02T00:00:00.000Z', '2026-11-09T00:00:00.000Z', 5],
      ['2026-11-09T00:00:00.000Z', '2026-11-10T00:00:00.000Z', 0],
    ]);
    // More than 31 days: weeks by default; the default window is the 30 days before now.
    expect((await metrics({ since: '2026-09-01' })).bucket).toBe('week');
    const byDefault = await services.dora.metrics(org, { environment: 'prod' });
    expect([byDefault.since, byDefault.until, byDefault.bucket, byDefault.overall.deployments]).toEqual(['2026-10-11T00:00:00.000Z', '2026-11-10T00:00:00.000Z', 'day', 5]);
  });

  it('keeps one flow with --flow: its deployments, nothing else', async () => {
    const r = await metrics({ flow: 'web' });
    expect(oldestFirst(r).map((d) => d.artifact)).toEqual(['web', 'web', 'web2']);
    expect(r.flows.map((f) => f.flow)).toEqual(['web']);
    expect(r.overall.deployments).toBe(3);
    expect(r.series.map((b) => b.deployments)).toEqual([1, 0, 2]);
  });

  // stage (policy `tests` from its first snapshot), flow late, each artifact deployed in its own snapshot:
  //   L1 no tests when deployed; a passing junit recorded after        -> still non-compliant
  //   L2 no tests when deployed; exempted after                        -> still non-compliant
  //   L3 no tests; exempted before it was deployed                     -> compliant
  //   L4 passing tests when deployed; a failing re-run recorded after  -> still compliant
  //   L5 committed after it was deployed (bad data)                    -> lead time invalid
  it('judges each deployment on what was recorded by its snapshot: later attestations and exemptions change nothing', async () => {
    const [L1, L2, L3, L4, L5] = [fp('a'), fp('b'), fp('c'), fp('d'), fp('e')] as const;
    await services.flows.create(org, { name: 'late' });
    await services.trails.begin(org, { flow: 'late', name: 'r1' });
    for (const [f, name] of [[L1, 'l1'], [L2, 'l2'], [L3, 'l3'], [L4, 'l4']] as const) {
      await services.artifacts.report(org, { flow: 'late', trail: 'r1', name, fingerprint: f, commitTime: '2026-11-05T00:00:00Z' });
    }
    await services.artifacts.report(org, { flow: 'late', trail: 'r1', name: 'l5', fingerprint: L5, commitTime: '2026-11-09T00:00:00Z' });
    await services.attestations.record(org, 'junit', { flow: 'late', trail: 'r1', name: 'l4.unit-tests', fingerprint: L4 }, true, null);
    await services.environments.create(org, { name: 'stage', type: 'k8s' });
    await services.policies.attach(org, 'stage', 'tests');
    await services.allowances.allow(org, 'stage', L3, 'known and accepted', 'tester');
    const deployed: [string, string][] = [];
    for (const [i, entry] of ([[L1, 'l1'], [L2, 'l2'], [L3, 'l3'], [L4, 'l4'], [L5, 'l5']] as [string, string][]).entries()) {
      deployed.push(entry);
      clock.at(`2026-11-06T0${i}:00:00Z`);
      await services.environments.report(org, 'stage', run(...deployed));
    }
    clock.at('2026-11-08T00:00:00Z');
    await services.attestations.record(org, 'junit', { flow: 'late', trail: 'r1', name: 'l1.unit-tests', fingerprint: L1 }, true, null);
    await services.allowances.allow(org, 'stage', L2, 'exempted afterwards', 'tester');
    await services.attestations.record(org, 'junit', { flow: 'late', trail: 'r1', name: 'l4.unit-tests', fingerprint: L4 }, false, null);
    clock.at('2026-11-10T00:00:00Z');

    const r = await metrics({ environment: 'stage', since: '2026-11-06', until: '2026-11-07' });
    expect(oldestFirst(r).map((d) => [d.artifact, d.compliant])).toEqual([['l1', false], ['l2', false], ['l3', true], ['l4', true], ['l5', false]]);
    expect(r.overall.change_failure_rate).toEqual({ non_compliant: 3, judged: 5, rate: 0.6 });
    // Today's evidence says otherwise for L1, L2 and L4: the deployments are judged as they started.
    const now = await services.compliance.evaluate(org, [[L1, 'l1'], [L2, 'l2'], [L4, 'l4']].map(([fingerprint, name]) => ({ fingerprint: fingerprint!, name: name! })),
      [await services.policies.get(org, 'tests')], await services.allowances.byFingerprint(org, await services.environments.get(org, 'stage')));
    expect(now.map((x) => x.compliant)).toEqual([true, true, false]);
    // L5's commit time is 2026-11-09, after its deployment: left out of the lead time figures, counted as invalid.
    expect(oldestFirst(r)[4]!.lead_time_seconds).toBeLessThan(0);
    expect(r.overall.lead_time_seconds).toEqual({ median: 25 * H, p90: 27 * H, count: 4, invalid: 1 });
    expect(r.series[0]!.lead_time_median_seconds).toBe(25 * H);
  });

  it('refuses bad input, naming each problem', async () => {
    await expect(metrics({ environment: 'nowhere' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(metrics({ flow: 'nope' })).rejects.toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining('nope') });
    await expect(metrics({ environment: 'all' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('logical') });
    await expect(metrics({ since: '2026-11-06' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', details: [{ path: 'since', message: expect.stringContaining('must be before until') }] });
    await expect(metrics({ since: 'yesterday', until: '2026-02-30', bucket: 'month' })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT', details: [{ path: 'until' }, { path: 'since' }, { path: 'bucket', message: 'must be day or week, not "month"' }],
    });
    await expect(metrics({ since: '2000-01-01', bucket: 'day' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('bucket=week') });
  });
});

describe('DORA figures (property)', () => {
  const window = doraWindow({ since: '2026-01-01', until: '2026-03-01' }, new Date());
  const deployment = fc.record({
    flow: fc.constantFrom(null, 'a', 'b', 'c'),
    at: fc.integer({ min: window.since.getTime(), max: window.until.getTime() - 1 }),
    lead: fc.option(fc.integer({ min: -86_400, max: 90 * 86_400 })),
    compliant: fc.constantFrom(true, false, null),
  }).map((d): DoraDeployment => ({
    flow: d.flow, artifact: 'x', fingerprint: fp('a'), git_commit: null, commit_time: null, deployed_at: new Date(d.at).toISOString(), snapshot: 1,
    lead_time_seconds: d.lead, compliant: d.compliant,
  }));

  it('median <= p90, negative lead times left out and counted as invalid; flows, the unreported and the buckets add up to the overall counts', () => {
    fc.assert(fc.property(fc.array(deployment, { maxLength: 60 }), fc.constantFrom('day', 'week'), (list, bucket) => {
      const r = aggregateDora(list, { ...window, bucket });
      for (const s of [r.overall, ...r.flows]) {
        if (s.lead_time_seconds.count > 0) expect(s.lead_time_seconds.median!).toBeLessThanOrEqual(s.lead_time_seconds.p90!);
        else expect([s.lead_time_seconds.median, s.lead_time_seconds.p90]).toEqual([null, null]);
        expect(s.change_failure_rate.non_compliant).toBeLessThanOrEqual(s.change_failure_rate.judged);
      }
      const unreported = list.filter((d) => d.flow === null).length;
      const sum = (f: (s: (typeof r.flows)[number]) => number) => r.flows.reduce((n, s) => n + f(s), 0);
      expect(sum((s) => s.deployments) + unreported).toBe(r.overall.deployments);
      expect(sum((s) => s.lead_time_seconds.count)).toBe(list.filter((d) => d.flow !== null && d.lead_time_seconds !== null && d.lead_time_seconds >= 0).length);
      expect(sum((s) => s.lead_time_seconds.invalid)).toBe(list.filter((d) => d.flow !== null && d.lead_time_seconds !== null && d.lead_time_seconds < 0).length);
      for (const s of [r.overall, ...r.flows]) if (s.lead_time_seconds.median !== null) expect(s.lead_time_seconds.median).toBeGreaterThanOrEqual(0);
      expect(sum((s) => s.change_failure_rate.judged)).toBe(list.filter((d) => d.flow !== null && d.compliant !== null).length);
      expect(r.series.reduce((n, b) => n + b.deployments, 0)).toBe(r.overall.deployments);
      for (const b of r.series) expect(Object.values(b.by_flow).reduce((n, c) => n + c, 0)).toBe(b.deployments - list.filter((d) => d.flow === null && d.deployed_at >= b.start && d.deployed_at < b.end).length);
      // Every change failure is either restored or not, per flow and overall.
      for (const s of [r.overall, ...r.flows]) {
        expect(s.time_to_restore_seconds.count + s.time_to_restore_seconds.unrestored).toBe(s.change_failure_rate.non_compliant);
        if (s.time_to_restore_seconds.count > 0) expect(s.time_to_restore_seconds.median!).toBeLessThanOrEqual(s.time_to_restore_seconds.p90!);
      }
    }));
  });

  it('time to restore: each failure to the next compliant deployment of its flow in a later snapshot; not judged neither fails nor restores', () => {
    const at = (h: number) => new Date(window.since.getTime() + h * 3_600_000).toISOString();
    const d = (snapshot: number, flow: string | null, artifact: string, h: number, compliant: boolean | null): DoraDeployment => ({
      flow, artifact, fingerprint: fp(artifact), git_commit: null, commit_time: null, deployed_at: at(h), snapshot, lead_time_seconds: null, compliant,
    });
    const r = aggregateDora([
      d(1, 'a', 'a1', 0, false), // restored by a3 (#3): 5 h
      d(2, 'a', 'a2', 2, false), // restored by a3 (#3): 3 h
      d(2, 'b', 'b1', 2, false), // b2 is in the same snapshot: not after it; b4 restores it (#5): 10 h
      d(2, 'b', 'b2', 2, true),
      d(3, 'a', 'a3', 5, true),
      d(4, 'a', 'a4', 6, null), // not judged: restores nothing
      d(4, null, 'x1', 6, false), // unreported: restored by the same artifact name only
      d(5, 'b', 'b4', 12, true),
      d(6, 'a', 'a5', 20, false), // nothing after it: unrestored
    ], window);
    expect(r.overall.time_to_restore_seconds).toEqual({ median: 5 * 3600, p90: 10 * 3600, count: 3, unrestored: 2 });
    expect(r.flows.map((f) => [f.flow, f.time_to_restore_seconds])).toEqual([
      ['a', { median: 3 * 3600, p90: 5 * 3600, count: 2, unrestored: 1 }],
      ['b', { median: 10 * 3600, p90: 10 * 3600, count: 1, unrestored: 0 }],
    ]);
  });
});
