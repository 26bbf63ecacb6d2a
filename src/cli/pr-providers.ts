import { EvidentError } from '../core/index.js';
import type { recordSchemas } from '../client/index.js';

type PullRequest = recordSchemas.PullRequest;

export type PrProvider = 'github' | 'gitlab' | 'bitbucket' | 'azure';

export interface PrQuery {
  provider: PrProvider;
  /**
   * GitHub `owner/repo`; GitLab project id or `group/project` path; Bitbucket `workspace/repo-slug`;
   * Azure DevOps `project/repository`.
   */
  repository: string;
  commit: string;
  /** The Authorization header's value (Bearer, Basic…), or GitLab's private token. */
  token?: string;
  /**
   * API base URL: https://api.github.com, https://gitlab.com/api/v4, https://api.bitbucket.org/2.0, or the Azure
   * DevOps organisation URL https://dev.azure.com/ORG (self-hosted: your own).
   */
  baseUrl: string;
}

async function getJson(url: string, headers: Record<string, string>, what: string, body?: unknown): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(url, body === undefined ? { headers, signal: AbortSignal.timeout(30_000) }
      : { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(30_000) });
  } catch (err) {
    throw new EvidentError('UNAVAILABLE', `cannot reach ${what} at ${new URL(url).origin}: ${(err as Error).message}`);
  }
  if (res.status === 401 || res.status === 403) throw new EvidentError('UNAUTHENTICATED', `${what} refused the token (${res.status}); check its scopes`);
  if (res.status === 404) throw new EvidentError('NOT_FOUND', `${what}: repository or commit not found (404) — ${url}`);
  if (!res.ok) throw new EvidentError('UNAVAILABLE', `${what} answered ${res.status} for ${url}`);
  try {
    return await res.json();
  } catch {
    throw new EvidentError('VERIFICATION_FAILED', `${what} sent a body that is not JSON`);
  }
}

function list(value: unknown, what: string): Record<string, unknown>[] {
  if (!Array.isArray(value)) throw new EvidentError('VERIFICATION_FAILED', `${what}: expected a JSON array of pull requests`);
  return value.filter((x): x is Record<string, unknown> => typeof x === 'object' && x !== null);
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** GitHub REST: GET /repos/{owner}/{repo}/commits/{sha}/pulls ("List pull requests associated with a commit"). */
export function fromGitHub(json: unknown): PullRequest[] {
  return list(json, 'GitHub').map((pr) => ({
    url: str(pr.html_url) ?? '', number: Number(pr.number), title: str(pr.title), state: pr.merged_at ? 'merged' : str(pr.state),
    author: str((pr.user as Record<string, unknown> | undefined)?.login), merged_at: str(pr.merged_at) ?? null,
  }));
}

/** GitLab REST: GET /projects/:id/repository/commits/:sha/merge_requests. */
export function fromGitLab(json: unknown): PullRequest[] {
  return list(json, 'GitLab').map((mr) => ({
    url: str(mr.web_url) ?? '', number: Number(mr.iid), title: str(mr.title), state: str(mr.state),
    author: str((mr.author as Record<string, unknown> | undefined)?.username), merged_at: str(mr.merged_at) ?? null,
  }));
}

const obj = (v: unknown): Record<string, unknown> => (typeof v === 'object' && v !== null && !Array.isArray(v) ? v as Record<string, unknown> : {});

/**
 * Bitbucket Cloud: GET /2.0/repositories/{workspace}/{repo_slug}/commit/{commit}/pullrequests, a page
 * `{values: [...], next?}` of pull requests (state OPEN | MERGED | DECLINED | SUPERSEDED).
 */
export function fromBitbucket(json: unknown): PullRequest[] {
  return list(obj(json).values, 'Bitbucket').map((pr) => {
    const state = str(pr.state)?.toLowerCase();
    return {
      url: str(obj(obj(pr.links).html).href) ?? '', number: Number(pr.id), title: str(pr.title), state,
      author: str(obj(pr.author).nickname) ?? str(obj(pr.author).display_name),
      // Bitbucket gives no merge time: the last update of a merged pull request is when it was merged.
      merged_at: state === 'merged' ? str(pr.updated_on) ?? null : null,
    };
  });
}

/**
 * Azure DevOps: POST {org}/{project}/_apis/git/repositories/{repo}/pullrequestquery with a `commit` query answers
 * `{results: [{SHA: [pull requests]}]}` (status active | completed | abandoned). The web page of a pull request is
 * {org}/{project}/_git/{repo}/pullrequest/{id}.
 */
export function fromAzure(json: unknown, commit: string, web: string): PullRequest[] {
  const results = list(obj(json).results, 'Azure DevOps');
  const prs = results.flatMap((r) => list(r[commit] ?? [], 'Azure DevOps'));
  return prs.map((pr) => {
    const completed = str(pr.status) === 'completed';
    return {
      url: `${web}/pullrequest/${Number(pr.pullRequestId)}`, number: Number(pr.pullRequestId), title: str(pr.title),
      state: completed ? 'merged' : str(pr.status), author: str(obj(pr.createdBy).uniqueName) ?? str(obj(pr.createdBy).displayName),
      merged_at: completed ? str(pr.closedDate) ?? null : null,
    };
  });
}

const TWO_PARTS = /^[\w.-]+\/[\w.-]+$/;

/** Bitbucket answers in pages; a commit is in few pull requests, so 10 pages (500) is more than enough. */
async function bitbucket(q: PrQuery, base: string): Promise<PullRequest[]> {
  if (!TWO_PARTS.test(q.repository)) throw new EvidentError('INVALID_ARGUMENT', `--repository must be WORKSPACE/REPO (or REPO with --bitbucket-workspace), not ${JSON.stringify(q.repository)}`);
  const headers: Record<string, string> = { accept: 'application/json' };
  if (q.token) headers.authorization = q.token;
  const prs: PullRequest[] = [];
  let url: string | undefined = `${base}/repositories/${q.repository}/commit/${q.commit}/pullrequests?pagelen=50`;
  for (let page = 0; url && page < 10; page++) {
    const json = await getJson(url, headers, 'Bitbucket');
    prs.push(...fromBitbucket(json));
    const next = str(obj(json).next);
    // Follow only links to the same API: a page must not send the token elsewhere.
    url = next && new URL(next).origin === new URL(base).origin ? next : undefined;
  }
  return prs;
}

async function azure(q: PrQuery, base: string): Promise<PullRequest[]> {
  if (!TWO_PARTS.test(q.repository)) throw new EvidentError('INVALID_ARGUMENT', `--repository must be PROJECT/REPO (or REPO with --project), not ${JSON.stringify(q.repository)}`);
  const [project, repo] = q.repository.split('/') as [string, string];
  const headers: Record<string, string> = { accept: 'application/json' };
  if (q.token) headers.authorization = q.token;
  const url = `${base}/${encodeURIComponent(project)}/_apis/git/repositories/${encodeURIComponent(repo)}/pullrequestquery?api-version=7.1`;
  const json = await getJson(url, headers, 'Azure DevOps', { queries: [{ type: 'commit', items: [q.commit] }] });
  return fromAzure(json, q.commit, `${base}/${encodeURIComponent(project)}/_git/${encodeURIComponent(repo)}`);
}

export async function findPullRequests(q: PrQuery): Promise<PullRequest[]> {
  const base = q.baseUrl.replace(/\/$/, '');
  if (q.provider === 'bitbucket') return bitbucket(q, base);
  if (q.provider === 'azure') return azure(q, base);
  if (q.provider === 'github') {
    if (!/^[\w.-]+\/[\w.-]+$/.test(q.repository)) throw new EvidentError('INVALID_ARGUMENT', `--repository must be OWNER/REPO, not ${JSON.stringify(q.repository)}`);
    const headers: Record<string, string> = { accept: 'application/vnd.github+json', 'x-github-api-version': '2022-11-28' };
    if (q.token) headers.authorization = `Bearer ${q.token}`;
    return fromGitHub(await getJson(`${base}/repos/${q.repository}/commits/${q.commit}/pulls`, headers, 'GitHub'));
  }
  const headers: Record<string, string> = {};
  if (q.token) headers['private-token'] = q.token;
  return fromGitLab(await getJson(`${base}/projects/${encodeURIComponent(q.repository)}/repository/commits/${q.commit}/merge_requests`, headers, 'GitLab'));
}
