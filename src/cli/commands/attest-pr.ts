import type { Command } from 'commander';
import { EvidentError } from '../../core/index.js';
import { action, type Ctx } from '../context.js';
import { commitDefaults, readJsonFile } from '../flags.js';
import { findPullRequests, fromGitHub, fromGitLab } from '../pr-providers.js';
import { uploadAttachments } from '../attachments.js';
import { attestationFlags, type AttestationFlagValues } from './attestation-flags.js';
import { resolveFingerprint } from './fingerprint-input.js';

export interface AttestPrOptions extends AttestationFlagValues {
  repository?: string;
  token?: string;
  baseUrl?: string;
  /** Kosli's spellings: --github-token/--gitlab-token, --github-org/--gitlab-org, --github-base-url/--gitlab-base-url. */
  githubToken?: string;
  gitlabToken?: string;
  githubOrg?: string;
  gitlabOrg?: string;
  githubBaseUrl?: string;
  gitlabBaseUrl?: string;
  fromFile?: string;
  assert?: boolean;
}

/** `evident attest pullrequest github|gitlab`: finds the PRs/MRs containing the commit and records them. */
/**
 * The repository as the provider's API names it. Kosli takes `--github-org ORG --repository REPO` (REPO may be
 * GITHUB_REPOSITORY's `owner/repo`, whose last part is the name); Evident also takes `--repository OWNER/REPO`.
 */
export function repositoryPath(provider: 'github' | 'gitlab', repository: string | undefined, org: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  const repo = repository ?? (provider === 'github' ? env.GITHUB_REPOSITORY : env.CI_PROJECT_ID ?? env.CI_PROJECT_PATH);
  if (!repo || !org || /^\d+$/.test(repo)) return repo;
  return `${org}/${repo.split('/').pop()}`;
}

export async function attestPullRequest(provider: 'github' | 'gitlab', opts: AttestPrOptions, ctx: Ctx, path?: string): Promise<void> {
  const env = process.env;
  const commit = opts.commit ?? commitDefaults().commit;
  if (!commit) throw new EvidentError('INVALID_ARGUMENT', '--commit is required (the commit whose pull requests to find)');
  const org = provider === 'github' ? opts.githubOrg : opts.gitlabOrg;
  const repository = repositoryPath(provider, opts.repository, org, env);
  if (!repository) throw new EvidentError('INVALID_ARGUMENT', `--repository is required (${provider === 'github' ? 'OWNER/REPO, or REPO with --github-org' : 'project id or path, or PROJECT with --gitlab-org'})`);
  const token = opts.token ?? (provider === 'github' ? opts.githubToken ?? env.GITHUB_TOKEN : opts.gitlabToken ?? env.GITLAB_TOKEN ?? env.CI_JOB_TOKEN);
  const baseUrl = opts.baseUrl ?? (provider === 'github'
    ? apiV3(opts.githubBaseUrl) ?? env.GITHUB_API_URL ?? 'https://api.github.com'
    : apiV4(opts.gitlabBaseUrl) ?? env.CI_API_V4_URL ?? 'https://gitlab.com/api/v4');
  const fingerprint = opts.fingerprint || (path && opts.artifactType) ? await resolveFingerprint(opts, path) : undefined;
  const prs = opts.fromFile
    ? (provider === 'github' ? fromGitHub : fromGitLab)(readJsonFile('--from-file', opts.fromFile))
    : await findPullRequests({
        provider, repository, commit,
        token, baseUrl,
      });
  const body = {
    name: opts.name, provider, repository, pull_requests: prs, fingerprint, git_commit: commit,
    description: opts.description, annotations: opts.annotate, evidence: await uploadAttachments(ctx, opts.attachments),
    user_data: opts.userData ? readJsonFile('--user-data', opts.userData) : undefined,
  };
  if (ctx.globals.dryRun) return ctx.printer.info(`dry run: would record ${JSON.stringify(body)}`);
  const a = await ctx.client().attestPullRequest(opts.flow, opts.trail, body);
  ctx.printer.result(a, () => {
    ctx.printer.text(`${prs.length} pull request(s) found for ${commit.slice(0, 7)} in ${repository}; recorded ${a.name} (compliant: ${a.compliant})`);
    for (const pr of prs) ctx.printer.text(`  #${pr.number} ${pr.state ?? ''} ${pr.title ?? ''} ${pr.url}`);
  });
  if (opts.assert && prs.length === 0) throw new EvidentError('VERIFICATION_FAILED', `no pull request contains commit ${commit}`);
}

/** Kosli's --github-base-url is a GitHub Enterprise server; its REST API is under /api/v3 (as go-github's WithEnterpriseURLs). */
function apiV3(url: string | undefined): string | undefined {
  if (!url) return undefined;
  const base = url.replace(/\/$/, '');
  return base.endsWith('/api/v3') || new URL(base).hostname === 'api.github.com' ? base : `${base}/api/v3`;
}

/** Kosli's --gitlab-base-url is the server (https://gitlab.example.com); the REST API is under /api/v4. */
function apiV4(url: string | undefined): string | undefined {
  if (!url) return undefined;
  const base = url.replace(/\/$/, '');
  return base.endsWith('/api/v4') ? base : `${base}/api/v4`;
}

export function registerAttestPullRequest(attest: Command): void {
  const pr = attest.command('pullrequest').description('Record the pull requests (GitHub) or merge requests (GitLab) that contain a commit');
  for (const provider of ['github', 'gitlab'] as const) {
    attestationFlags(
      pr.command(`${provider} [path]`).description(`Find the ${provider === 'github' ? 'pull' : 'merge'} requests containing the commit through the ${provider} REST API, and record them`),
      { commit: 'the commit whose pull requests to find (default: from CI, or the git repository)' },
    )
      .option('--repository <repo>', provider === 'github' ? 'OWNER/REPO, or REPO with --github-org (default: GITHUB_REPOSITORY)' : 'project id or path, or PROJECT with --gitlab-org (default: CI_PROJECT_ID)')
      .option(`--${provider}-org <org>`, provider === 'github' ? 'the owner of --repository (Kosli)' : 'the group of --repository (Kosli)')
      .option('--token <token>', provider === 'github' ? 'GitHub token (default: GITHUB_TOKEN)' : 'GitLab token (default: GITLAB_TOKEN or CI_JOB_TOKEN)')
      .option(`--${provider}-token <token>`, 'same as --token (Kosli)')
      .option('--base-url <url>', provider === 'github' ? 'API base URL (default: GITHUB_API_URL or https://api.github.com)' : 'API base URL (default: CI_API_V4_URL or https://gitlab.com/api/v4)')
      .option(`--${provider}-base-url <url>`, provider === 'github' ? 'same as --base-url (Kosli; GitHub Enterprise: https://HOST/api/v3)' : 'the GitLab server (Kosli): https://HOST, or its /api/v4 URL')
      .option('--from-file <file>', "read the provider's JSON answer from a file instead of calling the API")
      .option('--assert', 'exit 1 when no pull request contains the commit')
      .addHelpText('after', `\nExample:\n  evident attest pullrequest ${provider} --name pr --flow runner --trail $GIT_SHA --commit $GIT_SHA --assert`)
      .action(action<AttestPrOptions>((o, ctx, args) => attestPullRequest(provider, o, ctx, args[0])));
  }
}
