import { APPROVERS, DEMO_FLOWS, type DemoVersion } from './catalogue.js';
import { junitXml, pullRequestJson, snykSarif, type ScanOutcome } from './evidence.js';
import { buildUrl, commitUrl, imageName } from './ids.js';
import type { Story } from './story.js';

const MINUTE = 60_000;

/** Flows whose image has nothing for a container scanner to read (a scratch image with one static binary). */
export const UNSCANNED_FLOWS: readonly string[] = ['version-reporter'];

/** How long before the build its commit was made: mostly minutes, sometimes hours, now and then days (lead time). */
function commitLead(story: Story): number {
  const r = story.random();
  if (r < 0.5) return (8 + Math.floor(story.random() * 50)) * MINUTE;
  if (r < 0.8) return (90 + Math.floor(story.random() * 1000)) * MINUTE;
  return (1440 + Math.floor(story.random() * 3000)) * MINUTE;
}

/**
 * One CI run of a service (seed 001: "each repository has a main CI pipeline that deploys into aws-beta"):
 * a trail named by the commit, the pull request, the image, its unit tests and its Snyk scan, then the
 * deployment to aws-beta. A run whose tests fail stops before deploying. Returns whether it deployed.
 */
export async function buildAndDeployToBeta(story: Story, v: DemoVersion): Promise<boolean> {
  const { services: s, org } = story;
  const flow = DEMO_FLOWS.find((f) => f.name === v.flow)!;
  const start = story.time(v.day, v.hour);
  const committed = new Date(start.getTime() - commitLead(story));
  const runId = story.nextRunId();
  const author = story.pick(APPROVERS);
  const trail = v.commit;

  story.at(start);
  await s.trails.begin(org, {
    flow: v.flow, name: trail, description: v.title, gitCommit: v.commit, commitUrl: commitUrl(v.flow, v.commit), originUrl: buildUrl(v.flow, runId),
  });
  const pr = story.nextPullRequest(v.flow);
  const prEvidence = await story.upload(`${v.flow}-pull-${pr}.json`, pullRequestJson(v, pr, author, committed.toISOString()));
  await s.attestations.pullRequest(org, {
    flow: v.flow, trail, name: 'pull-request', provider: 'github', repository: `cyber-dojo/${v.flow}`, evidence: [prEvidence],
    pullRequests: [{ url: `https://github.com/cyber-dojo/${v.flow}/pull/${pr}`, number: pr, title: v.title, state: 'closed', author, merged_at: committed.toISOString() }],
  });

  story.at(new Date(start.getTime() + 4 * MINUTE));
  await s.artifacts.report(org, {
    flow: v.flow, trail, name: v.flow, displayName: imageName(v.flow, v.commit), fingerprint: v.fingerprint, gitCommit: v.commit,
    commitUrl: commitUrl(v.flow, v.commit), buildUrl: buildUrl(v.flow, runId), commitTime: committed.toISOString(),
  });

  story.at(new Date(start.getTime() + 6 * MINUTE));
  const failing = v.twist === 'tests-fail';
  const junit = await story.upload('junit.xml', junitXml(v, start.toISOString().slice(0, 19), story.random, failing));
  await s.evidenceAttestations.junit(org, { flow: v.flow, trail, name: 'unit-tests', fingerprint: v.fingerprint, reports: [junit] });
  if (failing) return false;

  if (v.twist !== 'no-scan' && !UNSCANNED_FLOWS.includes(v.flow)) {
    story.at(new Date(start.getTime() + 8 * MINUTE));
    await scan(story, v, story.random() < 0.3 ? 'low' : 'clean');
  }

  story.at(new Date(start.getTime() + 11 * MINUTE));
  await s.environments.expect(org, 'aws-beta', v.fingerprint, `${v.flow} CI run ${runId}`);
  story.at(new Date(start.getTime() + 14 * MINUTE));
  const current = story.runningOf('aws-beta', v.flow)[0];
  const instances = v.twist === 'scaling-fix' ? 3 : (current?.instances ?? flow.instances);
  story.replace('aws-beta', { flow: v.flow, name: imageName(v.flow, v.commit), fingerprint: v.fingerprint, instances });
  await story.report('aws-beta');
  return true;
}

/** A Snyk container scan of the version's image, reported on its trail (a re-scan is a new record that counts from then on). */
export async function scan(story: Story, v: DemoVersion, outcome: ScanOutcome, description = ''): Promise<void> {
  const sarif = await story.upload('snyk.sarif', snykSarif(v, outcome));
  await story.services.evidenceAttestations.sarif(story.org, 'snyk', {
    flow: v.flow, trail: v.commit, name: 'snyk-scan', fingerprint: v.fingerprint, reports: [sarif], description,
  });
}
