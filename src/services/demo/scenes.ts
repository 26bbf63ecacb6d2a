import { APPROVERS, DEMO_FLOWS, HOTFIX_RELEASE, RELEASE_DAYS, RELEASE_FLOW, RELEASE_FLOW_DESCRIPTION, demoVersions, type DemoVersion } from './catalogue.js';
import { buildAndDeployToBeta, scan } from './build-scene.js';
import { release } from './release-scene.js';
import type { Story } from './story.js';

/** Flow template (Kosli's `version: 1` format) of the flows that carry one. */
export const templateOf = (flow: string) => `version: 1
trail:
  attestations:
  - name: pull-request
    type: pull_request
  artifacts:
  - name: ${flow}
    attestations:
    - name: unit-tests
      type: junit
    - name: snyk-scan
      type: snyk
`;

export const PROD_POLICY = 'cyber-dojo-prod';
const POLICY_V1 = `_schema: https://docs.kosli.com/schemas/policy/v1
artifacts:
  attestations:
    - name: unit-tests
      type: junit
`;
// v2: every image also needs a passing Snyk scan, except version-reporter's scratch image (nothing to scan).
const POLICY_V2 = `_schema: https://docs.kosli.com/schemas/policy/v1
artifacts:
  attestations:
    - name: unit-tests
      type: junit
    - name: snyk-scan
      type: snyk
      if: \${{ flow.name != "version-reporter" }}
`;

export const ALLOWANCE_REASON = 'Hotfix for lost kata saves deployed during a Snyk outage; scanned clean by hand (JIRA CD-412), the next saver release carries the scan';

interface Scene {
  when: Date;
  run: () => Promise<unknown>;
}

/** Scene 1, day 0: the flows, the two environments and the production policy. */
async function setUp(story: Story): Promise<void> {
  const { services: s, org } = story;
  story.at(story.time(0, 7));
  for (const flow of DEMO_FLOWS) {
    await s.flows.create(org, { name: flow.name, description: flow.description, template: flow.template ? templateOf(flow.name) : null });
    await s.flows.tag(org, flow.name, { set: flow.tags });
  }
  await s.flows.create(org, { name: RELEASE_FLOW, description: RELEASE_FLOW_DESCRIPTION });
  await s.flows.tag(org, RELEASE_FLOW, { set: { team: 'platform', kind: 'release' } });
  await s.environments.create(org, { name: 'aws-beta', type: 'ecs', description: 'cyber-dojo beta: ECS cluster in eu-central-1, deployed to on every commit' });
  await s.environments.create(org, { name: 'aws-prod', type: 'ecs', description: 'cyber-dojo.org: ECS cluster in eu-central-1, deployed to by approved releases' });
  await s.policies.create(org, { name: PROD_POLICY, source: POLICY_V1, description: 'What every image running in aws-prod must have' });
  await s.policies.attach(org, 'aws-prod', PROD_POLICY);
}

/** Every scene after the set-up, in time order. */
function scenes(story: Story): Scene[] {
  const { services: s, org } = story;
  const versions = demoVersions();
  const version = (flow: string, n: number) => versions.find((v) => v.flow === flow && v.n === n)!;
  const list: Scene[] = versions.map((v: DemoVersion) => ({ when: story.time(v.day, v.hour), run: () => buildAndDeployToBeta(story, v) }));
  let releases = 0;
  const releaseAt = ([day, hour]: readonly [number, number], comment?: string): Scene => ({
    when: story.time(day, hour),
    run: async () => {
      const done = await release(story, { number: releases + 1, start: story.time(day, hour), approver: APPROVERS[(day + 1) % APPROVERS.length]!, comment });
      if (done) releases++;
    },
  });
  list.push(...RELEASE_DAYS.map((d) => releaseAt(d)));
  list.push(releaseAt(HOTFIX_RELEASE, 'Emergency release of the saver hotfix: Snyk is down (status.snyk.io incident), deploying unscanned; exemption to follow'));
  list.push(
    // Day 9: production now also needs a Snyk scan (policy v2); attaching it makes a snapshot of its own.
    {
      when: story.time(9, 12),
      run: async () => {
        await s.policies.create(org, { name: PROD_POLICY, source: POLICY_V2, description: 'What every image running in aws-prod must have: tests and a Snyk scan' });
        await s.policies.attach(org, 'aws-prod', PROD_POLICY);
      },
    },
    // Day 27: a company-wide coding dojo: web is scaled up for the day, then back (scaling makes snapshots, not deployments).
    { when: story.time(27, 8), run: () => scaleFlow(story, 'web', 4) },
    { when: story.time(28, 18), run: () => scaleFlow(story, 'web', 2) },
    // Day 35: the unscanned saver hotfix is exempted in aws-prod, with the reason.
    { when: story.time(HOTFIX_RELEASE[0], HOTFIX_RELEASE[1], 50), run: () => s.allowances.allow(org, 'aws-prod', version('saver', 5).fingerprint, ALLOWANCE_REASON, 'JonJagger') },
    // Today: the nightly re-scan finds a new critical CVE in the dashboard image already running in production.
    { when: story.beforeEnd(50), run: () => scan(story, version('dashboard', 2), 'critical', 'nightly re-scan of the images running in aws-prod') },
    // And a release is under way: approved, expected in aws-prod, the deploy jobs not finished yet.
    {
      when: story.beforeEnd(35),
      run: () => release(story, { number: releases + 1, start: story.beforeEnd(35), approver: 'JonJagger', deploy: false }),
    },
  );
  return list.sort((a, b) => a.when.getTime() - b.when.getTime());
}

async function scaleFlow(story: Story, flow: string, instances: number): Promise<void> {
  for (const r of story.runningOf('aws-prod', flow)) story.scale('aws-prod', r.fingerprint, instances);
  await story.report('aws-prod');
}

/** Plays the whole story, scene after scene, each at its time. */
export async function playStory(story: Story): Promise<void> {
  await setUp(story);
  for (const scene of scenes(story)) {
    story.at(scene.when);
    await scene.run();
  }
}
