import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ALLOWANCE_REASON, DEMO_FLOWS, DEMO_ORG, RELEASE_FLOW, createServices, seedDemo, type DemoSeedResult, type ServiceBundle,
} from '../../src/services/index.js';
import type { OrgRecord, SqlStore } from '../../src/store/index.js';
import { engines } from '../helpers/engines.js';
import { testSigner } from '../helpers/keys.js';

const NOW = new Date('2026-03-20T12:00:00.000Z');
const DAY = 86_400_000;
const RUNNER_FIX = '9af401c4350b21e3f1df17d6ad808da43d9646e75b6da902cc7c492bcfb9c625';
const SAVER_HOTFIX = 'cd8e30cf2027bce856d2b65c827afcbc0370f6e1a56c80514d4af2719df5c12f';
const SAVER_NEXT = 'b3237b0e615e7041c23433faeee0bacd6ec893e89ae8899536433e4d27a5b6ef';

describe.each(engines())('the demo organisation on $name', (engine) => {
  let opened: Awaited<ReturnType<typeof engine.open>>;
  let store: SqlStore;
  let s: ServiceBundle;
  let org: OrgRecord;
  let seeded: DemoSeedResult;

  beforeAll(async () => {
    opened = await engine.open();
    store = opened.store;
    const signer = testSigner();
    seeded = await seedDemo(store, signer, { now: NOW });
    s = createServices(store, signer);
    org = (await store.orgs.get(DEMO_ORG))!;
  }, 60_000);
  afterAll(async () => opened?.cleanup());

  const snapshots = async (env: string) => (await s.environments.snapshots(org, env, null, 1000)).page.items.sort((a, b) => a.index - b.index);
  const running = async (expr: string) => (await s.environments.snapshot(org, expr)).artifacts;

  it('has a dozen service flows and the release flow, two environments, and an admin token for the org', async () => {
    const flows = (await store.records.flows(org.id, null, 100, false)).items.map((f) => f.name).sort();
    expect(flows).toEqual([...DEMO_FLOWS.map((f) => f.name), RELEASE_FLOW].sort());
    expect(flows).toHaveLength(13);
    expect((await s.environments.list(org)).map((e) => e.name).sort()).toEqual(['aws-beta', 'aws-prod']);
    const principal = await s.auth.authenticate(seeded.token);
    expect(principal).toMatchObject({ org: { name: DEMO_ORG }, role: 'admin' });
  });

  it('spreads its log over the past six weeks, in time order, ending a few minutes before now', async () => {
    const times: number[] = [];
    for (let start = 0; start < seeded.entries; start = times.length) {
      const { items } = await s.log.entries(org, start);
      times.push(...items.map((e) => Date.parse(JSON.parse(e.entry).time)));
    }
    expect(times).toHaveLength(seeded.entries);
    expect(times.every((t, i) => i === 0 || t >= times[i - 1]!)).toBe(true);
    expect(times[0]!).toBeGreaterThanOrEqual(NOW.getTime() - 43 * DAY);
    expect(times[0]!).toBeLessThan(NOW.getTime() - 41 * DAY);
    expect(times.at(-1)!).toBeLessThan(NOW.getTime());
    expect(times.at(-1)!).toBeGreaterThan(NOW.getTime() - 60 * 60_000);
  });

  it('records many snapshots of both environments, stamped on the story clock, and deployments several times a week', async () => {
    const beta = await snapshots('aws-beta');
    const prod = await snapshots('aws-prod');
    expect(beta.length).toBeGreaterThan(40);
    expect(prod.length).toBeGreaterThan(20);
    expect(Date.parse(prod[0]!.createdAt)).toBeLessThan(NOW.getTime() - 40 * DAY);
    const started = (await s.environments.events(org, 'aws-prod')).items.filter((e) => e.type === 'started');
    expect(started.length).toBeGreaterThan(6 * 4);
  });

  it('has artifacts with commit, commit URL, build URL and a commit time before they were built', async () => {
    const [view] = await s.artifacts.find(org, `runner@${RUNNER_FIX}`);
    const a = view!.artifact;
    expect(a).toMatchObject({ gitCommit: '16d9990ad23a40eecaf087abac2a58a2d2a4b3f4', commitUrl: 'https://github.com/cyber-dojo/runner/commit/16d9990ad23a40eecaf087abac2a58a2d2a4b3f4' });
    expect(a.buildUrl).toMatch(/^https:\/\/github\.com\/cyber-dojo\/runner\/actions\/runs\/\d+$/);
    expect(Date.parse(a.commitTime!)).toBeLessThan(Date.parse(a.createdAt));
    expect(view!.attestations.map((x) => x.type).sort()).toEqual(['junit', 'snyk']);
    expect(view!.attestations.every((x) => x.evidence.length === 1)).toBe(true);
  });

  it('runs exactly one non-compliant artifact in aws-prod (a failed Snyk scan) and one allowed by exemption', async () => {
    const compliance = await s.compliance.snapshot(org, await s.environments.snapshot(org, 'aws-prod'));
    const failing = [...compliance.artifacts.values()].filter((a) => !a.compliant);
    expect(failing.map((a) => a.flow)).toEqual(['dashboard']);
    const failed = failing[0]!.policies.flatMap((p) => p.rule_evaluations).filter((r) => r.status === 'failed');
    expect(failed).toEqual([expect.objectContaining({ reason: 'non_compliant_attestation', rule: expect.objectContaining({ name: 'snyk-scan' }) })]);
    const allowed = compliance.artifacts.get(SAVER_HOTFIX)!;
    expect(allowed).toMatchObject({ compliant: true, allowed: { reason: ALLOWANCE_REASON } });
  });

  it('records each release on one trail with ONE approval covering every promoted artifact', async () => {
    const flow = (await store.records.flow(org.id, RELEASE_FLOW))!;
    const trails = (await store.records.trails(flow.id, null, 100)).items;
    expect(trails.length).toBeGreaterThan(10);
    const everInProd = new Set<string>();
    for (const snap of await snapshots('aws-prod')) for (const a of await running(`aws-prod#${snap.index}`)) everInProd.add(a.fingerprint);
    let widest = 0;
    for (const trail of trails) {
      const attestations = await s.attestations.ofTrail(org, RELEASE_FLOW, trail.name);
      expect(attestations.filter((x) => x.type === 'approval')).toHaveLength(1);
      const promoted = attestations.filter((x) => x.name === 'promotion');
      widest = Math.max(widest, promoted.length);
      const plan = trail.userData as { incoming_fingerprint: string }[];
      expect(promoted.map((p) => p.artifactFingerprint).sort()).toEqual(plan.map((i) => i.incoming_fingerprint).sort());
      const deployed = attestations.some((x) => x.name === 'deployed');
      for (const p of promoted) expect(everInProd.has(p.artifactFingerprint!)).toBe(deployed);
    }
    expect(widest).toBeGreaterThanOrEqual(3);
  });

  it('shows a blue-green deployment: two runners side by side in one aws-prod snapshot, then only the new one', async () => {
    const prod = await snapshots('aws-prod');
    let found = false;
    for (const [i, snap] of prod.entries()) {
      const runners = (await running(`aws-prod#${snap.index}`)).filter((a) => a.name.includes('/runner:'));
      if (runners.length !== 2 || !runners.some((r) => r.fingerprint === RUNNER_FIX && r.sinceIndex === snap.index)) continue;
      const next = (await running(`aws-prod#${prod[i + 1]!.index}`)).filter((a) => a.name.includes('/runner:'));
      expect(next).toEqual([expect.objectContaining({ fingerprint: RUNNER_FIX, instances: 3 })]);
      found = true;
      break;
    }
    expect(found).toBe(true);
  });

  it('records the scaling fix and scaling events: runner from 1 to 3 tasks, old runner scaled down from 3 to 1', async () => {
    const events = (await s.environments.events(org, 'aws-prod')).items;
    expect(events.find((e) => e.type === 'started' && e.fingerprint === RUNNER_FIX)).toMatchObject({ instances: 3 });
    expect(events.find((e) => e.type === 'scaled' && e.fingerprint === RUNNER_FIX)).toMatchObject({ previous_instances: 3, instances: 1 });
    expect(events.filter((e) => e.type === 'scaled' && e.name.includes('/web:')).map((e) => e.instances)).toEqual([4, 2]);
  });

  it('leaves a release to plan from aws-beta to aws-prod, already expected there (drift)', async () => {
    const plan = await s.releasePlans.plan(org, 'aws-beta', 'aws-prod');
    expect(plan.in_progress).toEqual([]);
    expect(plan.items.map((i) => i.incoming_flow).sort()).toEqual(['differ', 'saver']);
    expect(plan.items.find((i) => i.incoming_flow === 'saver')).toMatchObject({
      incoming_fingerprint: SAVER_NEXT, outgoing_fingerprint: SAVER_HOTFIX,
      deployment_diff_url: 'https://github.com/cyber-dojo/saver/compare/65827d7aa09d9d40eca4210dfeef4d162cf32c1f...6e191a0a86cf3d264955c4910bc3b9df518c4bcd',
    });
    const drift = await s.drift.drift(org, 'aws-prod');
    expect(drift.in_sync).toBe(false);
    expect(drift.items.filter((i) => i.state === 'not-running').map((i) => i.fingerprint)).toContain(SAVER_NEXT);
  });

  it('counts the unscanned saver hotfix as the change failure in aws-prod, not dashboard (compliant when deployed, vulnerable today)', async () => {
    const r = await s.dora.metrics(org, { environment: 'aws-prod', since: new Date(NOW.getTime() - 60 * DAY).toISOString(), until: NOW.toISOString() });
    expect(r.deployments.filter((d) => d.compliant === false).map((d) => d.fingerprint)).toEqual([SAVER_HOTFIX]);
    expect(r.deployments.find((d) => d.artifact.endsWith('/dashboard:dc87d57'))?.compliant).toBe(true);
    expect(r.overall.change_failure_rate).toEqual({ non_compliant: 1, judged: r.overall.deployments, rate: 1 / r.overall.deployments });
  });

  it('refuses to seed an organisation that exists', async () => {
    await expect(seedDemo(store, testSigner(), { now: NOW })).rejects.toMatchObject({ code: 'CONFLICT' });
  });
});
