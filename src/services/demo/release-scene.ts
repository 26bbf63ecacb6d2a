import type { ReleasePlanItem } from '../records/index.js';
import { RELEASE_FLOW } from './catalogue.js';
import { approvalsJson } from './evidence.js';
import type { Story } from './story.js';

const MINUTE = 60_000;

export interface ReleaseOptions {
  number: number;
  start: Date;
  approver: string;
  comment?: string;
  /** False: stop after the deployment expectations (the deploy jobs are still running when the story ends). */
  deploy?: boolean;
}

export interface ReleaseOutcome {
  trail: string;
  items: ReleasePlanItem[];
  /** The aws-prod snapshots the deployment made. */
  snapshots: number[];
}

/** Flows deployed blue-green in aws-prod: the new version starts beside the old one, which is then scaled down and stopped. */
const BLUE_GREEN = ['runner'];

/**
 * Seed 001's release workflow, run the way docs/releases.md runs it with Evident: plan the promotions from
 * aws-beta to aws-prod, record them on a release trail, ONE approval for all of them, then a deployment
 * expectation per artifact and the parallel deployment, which the aws-prod reporter sees.
 */
export async function release(story: Story, options: ReleaseOptions): Promise<ReleaseOutcome | null> {
  const { services: s, org } = story;
  const t = (minutes: number) => new Date(options.start.getTime() + minutes * MINUTE);
  story.at(options.start);
  const plan = await s.releasePlans.plan(org, 'aws-beta', 'aws-prod');
  if (plan.items.length === 0) return null;
  const trail = `release-${options.number}`;
  const runId = story.nextRunId();
  await s.trails.begin(org, {
    flow: RELEASE_FLOW, name: trail, description: 'release from aws-beta to aws-prod',
    originUrl: `https://github.com/cyber-dojo/live-releases/actions/runs/${runId}`, userData: plan.items,
  });

  story.at(t(3));
  for (const item of plan.items) {
    await s.attestations.generic(org, {
      flow: RELEASE_FLOW, trail, name: `${item.incoming_flow}.promotion`, fingerprint: item.incoming_fingerprint, compliant: true,
      description: `${item.incoming_name} replaces ${item.outgoing_name ?? 'nothing (first deployment)'} in aws-prod`,
      annotations: item.deployment_diff_url ? { deployment_diff_url: item.deployment_diff_url } : null, userData: item,
    });
  }

  story.at(t(25));
  const approvals = await story.upload('approvals.json', approvalsJson(options.approver, runId, t(25).toISOString()));
  await s.attestations.approval(org, {
    flow: RELEASE_FLOW, trail, name: 'release-approval', decision: 'approved', approver: options.approver,
    comment: options.comment ?? `approved in GitHub environment production: ${plan.items.map((i) => i.incoming_repo_name).join(', ')}`,
    evidence: [approvals],
  }, options.approver);

  story.at(t(27));
  for (const item of plan.items) {
    await s.environments.expect(org, 'aws-prod', item.incoming_fingerprint, `${trail}: ${item.incoming_name} replaces ${item.outgoing_name ?? 'nothing'}`);
  }
  if (options.deploy === false) return { trail, items: plan.items, snapshots: [] };

  const snapshots = await deploy(story, plan.items, t);
  story.at(t(45));
  await s.attestations.generic(org, { flow: RELEASE_FLOW, trail, name: 'deployed', compliant: true, description: 'deploy jobs: success' });
  return { trail, items: plan.items, snapshots };
}

/** The deploy jobs run in parallel; the reporter sees them land together, blue-green services in three steps. */
async function deploy(story: Story, items: ReleasePlanItem[], t: (minutes: number) => Date): Promise<number[]> {
  const snapshots: number[] = [];
  const retiring: { fingerprint: string; instances: number }[] = [];
  for (const item of items) {
    const beta = story.runningOf('aws-beta', item.incoming_flow).find((r) => r.fingerprint === item.incoming_fingerprint)!;
    const old = story.runningOf('aws-prod', item.incoming_flow);
    const next = { ...beta, instances: Math.max(beta.instances, old[0]?.instances ?? 0) };
    if (BLUE_GREEN.includes(item.incoming_flow) && old.length > 0) {
      story.add('aws-prod', next);
      retiring.push(...old.map((o) => ({ fingerprint: o.fingerprint, instances: o.instances })));
    } else {
      story.replace('aws-prod', next);
    }
  }
  const record = async (minutes: number) => {
    story.at(t(minutes));
    const index = await story.report('aws-prod');
    if (index !== null && !snapshots.includes(index)) snapshots.push(index);
  };
  await record(35);
  if (retiring.length === 0) return snapshots;
  // Green is up: blue is drained to one task, then stopped (seed 002: "Scaled down from 3 to 1", "No longer running").
  if (retiring.some((r) => r.instances > 1)) {
    for (const r of retiring) story.scale('aws-prod', r.fingerprint, 1);
    await record(38);
  }
  for (const r of retiring) story.remove('aws-prod', r.fingerprint);
  await record(41);
  return snapshots;
}
