import { EvidentError } from '../../core/index.js';
import type { OrgRecord, Store } from '../../store/index.js';
import type { EnvironmentService, SnapshotView } from './environments.js';
import { projectionCheck } from './projection-check.js';
import { checkEnvironment, checkSnapshot, checkedLatestReports } from './snapshot-check.js';
import { describeSnapshots } from './snapshot-artifacts.js';

/** What the planner needs of a running artifact: the fields of `get snapshot --output json`. */
export interface PlanArtifact {
  name: string;
  fingerprint: string;
  flow: string | null;
  git_commit: string | null;
  commit_url: string | null;
  running_since: string;
}

/** What runs in one environment (a logical one is the union of its environments). */
export interface PlanSide {
  environment: string;
  artifacts: readonly PlanArtifact[];
}

/** One promotion, in the shape seed 001 feeds to GitHub Actions' `strategy.matrix.include`. */
export interface ReleasePlanItem {
  incoming_name: string;
  incoming_fingerprint: string;
  incoming_flow: string;
  incoming_commit_url: string | null;
  incoming_repo_name: string | null;
  incoming_commit_sha: string | null;
  /** The outgoing_ fields are all null when the flow has never run in TO (a first deployment). */
  outgoing_name: string | null;
  outgoing_fingerprint: string | null;
  outgoing_flow: string | null;
  outgoing_commit_url: string | null;
  outgoing_repo_name: string | null;
  outgoing_commit_sha: string | null;
  deployment_diff_url: string | null;
}

export interface UnchangedFlow { flow: string; name: string; fingerprint: string; git_commit: string | null }
export interface InProgressFlow { flow: string; environment: string; fingerprints: string[] }
export interface UnmatchedArtifact { environment: string; name: string; fingerprint: string }

export interface ReleasePlan {
  items: ReleasePlanItem[];
  unchanged: UnchangedFlow[];
  in_progress: InProgressFlow[];
  unmatched: UnmatchedArtifact[];
}

export interface PlanOptions {
  /**
   * Plan flows with a deployment in progress too. Such a flow's incoming is the fingerprint that started
   * last in FROM (where FROM's own deployment is heading), unless TO already runs it; its outgoing is the
   * fingerprint that started last in TO among the others.
   */
  allowInProgress?: boolean;
}

/**
 * Seed 001's release plan as a pure function: match FROM and TO by flow; for each flow with a new
 * version in FROM, the incoming artifact and the one it replaces in TO. A flow with more than one
 * fingerprint in either environment has a deployment in progress and is only planned when allowed.
 * Artifacts no flow reported cannot be matched and are listed, never guessed. Output sorted by flow.
 */
export function planRelease(from: PlanSide, to: PlanSide, options: PlanOptions = {}): ReleasePlan {
  const f = byFlow(from);
  const t = byFlow(to);
  const plan: ReleasePlan = { items: [], unchanged: [], in_progress: [], unmatched: [...f.unmatched, ...t.unmatched] };
  for (const flow of [...new Set([...f.flows.keys(), ...t.flows.keys()])].sort()) {
    for (const [side, groups] of [[from, f], [to, t]] as const) {
      const running = groups.flows.get(flow) ?? [];
      if (running.length > 1) plan.in_progress.push({ flow, environment: side.environment, fingerprints: running.map((a) => a.fingerprint).sort() });
    }
  }
  for (const [flow, inFrom] of [...f.flows].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const inTo = t.flows.get(flow) ?? [];
    const busy = inFrom.length > 1 || inTo.length > 1;
    if (busy && !options.allowInProgress) continue;
    const incoming = latestStarted(inFrom)!;
    if (inTo.some((a) => a.fingerprint === incoming.fingerprint)) {
      if (!busy) plan.unchanged.push({ flow, name: incoming.name, fingerprint: incoming.fingerprint, git_commit: incoming.git_commit });
      continue;
    }
    plan.items.push(item(flow, incoming, latestStarted(inTo)));
  }
  return plan;
}

/** Distinct fingerprints per flow (a logical environment may list one fingerprint once per member). */
function byFlow(side: PlanSide) {
  const flows = new Map<string, PlanArtifact[]>();
  const unmatched: UnmatchedArtifact[] = [];
  const seen = new Set<string>();
  for (const a of side.artifacts) {
    if (seen.has(a.fingerprint)) continue;
    seen.add(a.fingerprint);
    if (a.flow === null) unmatched.push({ environment: side.environment, name: a.name, fingerprint: a.fingerprint });
    else flows.set(a.flow, [...(flows.get(a.flow) ?? []), a]);
  }
  return { flows, unmatched };
}

/** The artifact that started running last (ties broken by fingerprint, so the plan is deterministic). */
function latestStarted(list: readonly PlanArtifact[]): PlanArtifact | undefined {
  const time = (a: PlanArtifact) => Date.parse(a.running_since) || 0;
  return [...list].sort((a, b) => time(b) - time(a) || (a.fingerprint < b.fingerprint ? -1 : 1))[0];
}

function item(flow: string, incoming: PlanArtifact, outgoing: PlanArtifact | undefined): ReleasePlanItem {
  const inRepo = parseCommitUrl(incoming.commit_url);
  const outRepo = outgoing ? parseCommitUrl(outgoing.commit_url) : null;
  const inSha = commitSha(incoming, inRepo);
  const outSha = outgoing ? commitSha(outgoing, outRepo) : null;
  return {
    incoming_name: incoming.name, incoming_fingerprint: incoming.fingerprint, incoming_flow: flow, incoming_commit_url: incoming.commit_url,
    incoming_repo_name: inRepo?.name ?? null, incoming_commit_sha: inSha,
    outgoing_name: outgoing?.name ?? null, outgoing_fingerprint: outgoing?.fingerprint ?? null, outgoing_flow: outgoing ? flow : null,
    outgoing_commit_url: outgoing?.commit_url ?? null, outgoing_repo_name: outRepo?.name ?? null, outgoing_commit_sha: outSha,
    deployment_diff_url: inRepo && outRepo && inSha && outSha ? compareUrl(outRepo, outSha, inRepo, inSha) : null,
  };
}

const SHA = /^[0-9a-f]{7,64}$/i;

function commitSha(a: PlanArtifact, repo: CommitUrl | null): string | null {
  return a.git_commit && SHA.test(a.git_commit) ? a.git_commit : repo?.sha ?? null;
}

export type GitProvider = 'github' | 'gitlab' | 'bitbucket' | 'azure-devops';

export interface CommitUrl {
  /** Null when the host is not one whose compare URL is known. */
  provider: GitProvider | null;
  /** The repository's web address, e.g. https://github.com/cyber-dojo/saver */
  url: string;
  /** Its last path segment, as seed 001's `repo_name`: saver */
  name: string;
  sha: string | null;
}

/**
 * Reads the repository and commit out of a commit URL. GitLab is recognised by gitlab.com or, on any host, by `/-/commit/`;
 * Azure DevOps by `/_git/`; GitHub by github.com, `github.*` (Enterprise Server) and `*.ghe.com` hosts;
 * Bitbucket by bitbucket.org. Other hosts give the repository name but no provider.
 */
export function parseCommitUrl(commitUrl: string | null): CommitUrl | null {
  if (!commitUrl) return null;
  let u: URL;
  try {
    u = new URL(commitUrl);
  } catch {
    return null;
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return null;
  const path = u.pathname.replace(/\/+$/, '');
  const m = /^(?<repoPath>\/.+?)(?<gitlabDash>\/-)?\/(?<commitWord>commits?)\/(?<ref>[^/]+)$/.exec(path);
  if (!m?.groups) return null;
  const { repoPath, gitlabDash, commitWord, ref } = m.groups as { repoPath: string; gitlabDash?: string; commitWord: string; ref: string };
  const host = u.hostname.toLowerCase();
  const twoSegments = /^\/[^/]+\/[^/]+$/.test(repoPath);
  let provider: GitProvider | null = null;
  if (gitlabDash || host === 'gitlab.com') provider = 'gitlab';
  else if (/\/_git\/[^/]+$/.test(repoPath) && commitWord === 'commit') provider = 'azure-devops';
  else if (host === 'bitbucket.org' && twoSegments && commitWord === 'commits') provider = 'bitbucket';
  else if ((host === 'github.com' || host.startsWith('github.') || host.endsWith('.ghe.com')) && twoSegments && commitWord === 'commit') provider = 'github';
  const last = repoPath.slice(repoPath.lastIndexOf('/') + 1).replace(/\.git$/, '');
  let name: string;
  try {
    name = decodeURIComponent(last);
  } catch {
    name = last;
  }
  // `u.host`, not the URL as written: a user name in it (https://org@dev.azure.com/…) is no part of the repository.
  return { provider, url: `${u.protocol}//${u.host}${repoPath}`, name, sha: SHA.test(ref) ? ref.toLowerCase() : null };
}

/** The provider's page of the commits between OLD (outgoing) and NEW (incoming); null unless one known repository. */
export function compareUrl(outgoing: CommitUrl, oldSha: string, incoming: CommitUrl, newSha: string): string | null {
  if (!incoming.provider || incoming.provider !== outgoing.provider || incoming.url.toLowerCase() !== outgoing.url.toLowerCase()) return null;
  if (!SHA.test(oldSha) || !SHA.test(newSha)) return null;
  const repo = incoming.url;
  switch (incoming.provider) {
    case 'github': return `${repo}/compare/${oldSha}...${newSha}`;
    case 'gitlab': return `${repo}/-/compare/${oldSha}...${newSha}`;
    // Bitbucket Cloud lists the newer revision first, separated by a carriage return.
    case 'bitbucket': return `${repo}/branches/compare/${newSha}%0D${oldSha}`;
    case 'azure-devops': return `${repo}/branchCompare?baseVersion=GC${oldSha}&targetVersion=GC${newSha}`;
  }
}

export interface PlanEnd { environment: string; snapshot: number | null; timestamp: string | null }
export type ReleasePlanReport = ReleasePlan & { from: PlanEnd; to: PlanEnd };

/** Plans a release between the latest snapshots of two environments (logical ones: their union now). */
export class ReleasePlanService {
  constructor(private readonly store: Store, private readonly environments: EnvironmentService) {}

  async plan(org: OrgRecord, fromEnv: string, toEnv: string, options: PlanOptions = {}): Promise<ReleasePlanReport> {
    if (fromEnv === toEnv) throw new EvidentError('INVALID_ARGUMENT', `a release goes from one environment to another: FROM and TO are both ${fromEnv}`);
    const views = await Promise.all([fromEnv, toEnv].map(async (name) => {
      // get() first: it accepts only a plain environment name (not a snapshot expression like aws-prod#3).
      const env = await this.environments.get(org, name);
      return this.environments.snapshot(org, env.name);
    }));
    // The plan gates a promotion: what runs where and which flow and commit each artifact came from are
    // checked against their log entries first (docs/log.md "Projections"), so an edited row fails loudly.
    await Promise.all(views.map((v) => this.checkView(org, v, 0)));
    const reports = await checkedLatestReports(projectionCheck(this.store), this.store, org, views.flatMap((v) => v.artifacts.map((a) => a.fingerprint)));
    const [from, to] = await describeSnapshots(this.store, org, views, reports);
    const end = (s: typeof from) => ({ environment: s!.environment, snapshot: s!.index, timestamp: s!.timestamp });
    return { from: end(from), to: end(to), ...planRelease(from!, to!, options) };
  }

  /** A snapshot's running set against its entry; a logical environment's, through each environment it includes. */
  private async checkView(org: OrgRecord, view: SnapshotView, depth: number): Promise<void> {
    const check = projectionCheck(this.store);
    await checkEnvironment(check, org, view.environment);
    if (view.snapshot) {
      await checkSnapshot(check, this.store, org, view.environment, view.snapshot, view.artifacts);
      return;
    }
    if (view.environment.type !== 'logical' || depth > 0) return;
    for (const name of view.environment.included ?? []) await this.checkView(org, await this.environments.snapshot(org, name), depth + 1);
  }
}
