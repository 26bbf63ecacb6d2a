import { EvidentError } from '../core/index.js';

// Kosli's `--repo OWNER/REPO` filters (list artifacts, log environment). Evident records no repository field on
// an artifact, but every artifact's commit URL names its repository: GitHub `…/OWNER/REPO/commit/SHA`, GitLab
// `…/GROUP/PROJECT/-/commit/SHA`, Bitbucket `…/WS/REPO/commits/SHA`, Azure DevOps `…/ORG/PROJECT/_git/REPO/commit/SHA`.

/** The repository a commit URL names (`OWNER/REPO`, GitLab `GROUP/…/PROJECT`, Azure `PROJECT/REPO`), or null. */
export function repositoryOf(commitUrl: string | null | undefined): string | null {
  if (!commitUrl) return null;
  let path: string;
  try {
    path = new URL(commitUrl).pathname;
  } catch {
    return null;
  }
  const m = /^\/(.+?)(?:\/-)?\/commits?\/[0-9a-fA-F]{7,64}\/?$/.exec(path);
  if (!m) return null;
  const azure = /^[^/]+\/([^/]+)\/_git\/([^/]+)$/.exec(m[1]!);
  return decodeURIComponent(azure ? `${azure[1]}/${azure[2]}` : m[1]!);
}

/** `--repo` values: OWNER/REPO (a full `https://host/OWNER/REPO` URL is taken too), compared without case. */
export function repoMatcher(repos: string[] | undefined): ((commitUrl: string | null | undefined) => boolean) | undefined {
  if (!repos || repos.length === 0) return undefined;
  const wanted = repos.flatMap((r) => r.split(',')).map((r) => r.trim().replace(/^https?:\/\/[^/]+\//, '').replace(/\.git$/, '').replace(/\/$/, '').toLowerCase()).filter(Boolean);
  for (const r of wanted) if (!/^[\w.-]+(\/[\w.-]+)+$/.test(r)) throw new EvidentError('INVALID_ARGUMENT', `--repo ${JSON.stringify(r)}: give OWNER/REPO`);
  return (url) => {
    const repo = repositoryOf(url)?.toLowerCase();
    return repo !== undefined && wanted.includes(repo);
  };
}

export const collectRepo = (v: string, p: string[] = []) => [...p, v];
