import { EvidentError } from '../core/index.js';
import type { recordSchemas } from '../client/index.js';

type PullRequest = recordSchemas.PullRequest;

export interface PrQuery {
  provider: 'github' | 'gitlab';
  /** GitHub `owner/repo`; GitLab project id or `group/project` path. */
  repository: string;
  commit: string;
  token?: string;
  /** API base URL: https://api.github.com, or https://gitlab.com/api/v4 (self-hosted: your own). */
  baseUrl: string;
}

async function getJson(url: string, headers: Record<string, string>, what: string): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(url, { headers, signal: AbortSignal.timeout(30_000) });
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

export async function findPullRequests(q: PrQuery): Promise<PullRequest[]> {
  const base = q.baseUrl.replace(/\/$/, '');
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
