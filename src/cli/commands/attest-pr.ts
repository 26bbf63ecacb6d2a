import type { Command } from 'commander';
import type { recordSchemas } from '../../client/index.js';
import { EvidentError } from '../../core/index.js';
import { action, type Ctx } from '../context.js';
import { commitDefaults, readJsonFile } from '../flags.js';
import { findPullRequests, fromAzure, fromBitbucket, fromGitHub, fromGitLab, type PrProvider } from '../pr-providers.js';
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
  /** Bitbucket (Kosli): an access token, or a user name with an app password; the workspace of --repository. */
  bitbucketAccessToken?: string;
  bitbucketUsername?: string;
  bitbucketPassword?: string;
  bitbucketWorkspace?: string;
  /** Azure DevOps (Kosli): a personal access token, the organisation URL, the project of --repository. */
  azureToken?: string;
  azureOrgUrl?: string;
  project?: string;
  fromFile?: string;
  assert?: boolean;
}

interface ProviderQuery { repository?: string; token?: string; baseUrl: string; parse: (json: unknown, commit: string) => recordSchemas.PullRequest[] }

/**
 * Bitbucket and Azure DevOps as Kosli takes them: `--bitbucket-workspace WS --repository REPO` (default
 * BITBUCKET_WORKSPACE/BITBUCKET_REPO_SLUG), `--azure-org-url URL --project P --repository REPO` (default
 * SYSTEM_COLLECTIONURI, SYSTEM_TEAMPROJECT, BUILD_REPOSITORY_NAME).
 */
function otherProvider(provider: 'bitbucket' | 'azure', opts: AttestPrOptions, env: NodeJS.ProcessEnv): ProviderQuery {
  const join = (owner: string | undefined, repo: string | undefined) => (repo && owner && !repo.includes('/') ? `${owner}/${repo}` : repo);
  if (provider === 'bitbucket') {
    const basic = opts.bitbucketUsername && opts.bitbucketPassword ? `Basic ${Buffer.from(`${opts.bitbucketUsername}:${opts.bitbucketPassword}`).toString('base64')}` : undefined;
    if (opts.bitbucketUsername && !opts.bitbucketPassword) throw new EvidentError('INVALID_ARGUMENT', '--bitbucket-username needs --bitbucket-password (an app password)');
    const token = opts.token ?? opts.bitbucketAccessToken;
    return {
      repository: join(opts.bitbucketWorkspace ?? env.BITBUCKET_WORKSPACE, opts.repository ?? env.BITBUCKET_REPO_SLUG),
      token: token ? `Bearer ${token}` : basic, baseUrl: opts.baseUrl ?? env.BITBUCKET_API_URL ?? 'https://api.bitbucket.org/2.0',
      parse: (json) => fromBitbucket(json),
    };
  }
  const org = (opts.baseUrl ?? opts.azureOrgUrl ?? env.SYSTEM_COLLECTIONURI)?.replace(/\/$/, '');
  if (!org) throw new EvidentError('INVALID_ARGUMENT', '--azure-org-url is required (https://dev.azure.com/ORG; default SYSTEM_COLLECTIONURI)');
  const token = opts.token ?? opts.azureToken ?? env.SYSTEM_ACCESSTOKEN;
  const repository = join(opts.project ?? env.SYSTEM_TEAMPROJECT, opts.repository ?? env.BUILD_REPOSITORY_NAME);
  return {
    repository, baseUrl: org,
    // A personal access token goes as the password of HTTP Basic with an empty user (Azure DevOps REST docs).
    token: token ? `Basic ${Buffer.from(`:${token}`).toString('base64')}` : undefined,
    parse: (json, commit) => fromAzure(json, commit, `${org}/${repository?.split('/').map(encodeURIComponent).join('/_git/')}`),
  };
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

function githubOrGitlab(provider: 'github' | 'gitlab', opts: AttestPrOptions, env: NodeJS.ProcessEnv): ProviderQuery {
  const org = provider === 'github' ? opts.githubOrg : opts.gitlabOrg;
  const repository = repositoryPath(provider, opts.repository, org, env);
  const token = opts.token ?? (provider === 'github' ? opts.githubToken ?? env.GITHUB_TOKEN : opts.gitlabToken ?? env.GITLAB_TOKEN ?? env.CI_JOB_TOKEN);
  const baseUrl = opts.baseUrl ?? (provider === 'github'
    ? apiV3(opts.githubBaseUrl) ?? env.GITHUB_API_URL ?? 'https://api.github.com'
    : apiV4(opts.gitlabBaseUrl) ?? env.CI_API_V4_URL ?? 'https://gitlab.com/api/v4');
  return { repository, token, baseUrl, parse: (json) => (provider === 'github' ? fromGitHub : fromGitLab)(json) };
}

const REPOSITORY_HELP: Record<PrProvider, string> = {
  github: 'OWNER/REPO, or REPO with --github-org', gitlab: 'project id or path, or PROJECT with --gitlab-org',
  bitbucket: 'WORKSPACE/REPO, or REPO with --bitbucket-workspace', azure: 'PROJECT/REPO, or REPO with --project',
};

export async function attestPullRequest(provider: PrProvider, opts: AttestPrOptions, ctx: Ctx, path?: string): Promise<void> {
  const env = process.env;
  const commit = opts.commit ?? commitDefaults().commit;
  if (!commit) throw new EvidentError('INVALID_ARGUMENT', '--commit is required (the commit whose pull requests to find)');
  const q = provider === 'github' || provider === 'gitlab' ? githubOrGitlab(provider, opts, env) : otherProvider(provider, opts, env);
  const repository = q.repository;
  if (!repository) throw new EvidentError('INVALID_ARGUMENT', `--repository is required (${REPOSITORY_HELP[provider]})`);
  const fingerprint = opts.fingerprint || (path && opts.artifactType) ? await resolveFingerprint(opts, path) : undefined;
  const prs = opts.fromFile
    ? q.parse(readJsonFile('--from-file', opts.fromFile), commit)
    : await findPullRequests({ provider, repository, commit, token: q.token, baseUrl: q.baseUrl });
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
  const pr = attest.command('pullrequest').description('Record the pull requests (GitHub, Bitbucket, Azure DevOps) or merge requests (GitLab) that contain a commit');
  registerOtherProviders(pr);
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

function registerOtherProviders(pr: Command): void {
  const common = (cmd: Command) => cmd
    .option('--token <token>', 'access token (same as the Kosli flag below)')
    .option('--from-file <file>', "read the provider's JSON answer from a file instead of calling the API")
    .option('--assert', 'exit 1 when no pull request contains the commit');
  common(attestationFlags(
    pr.command('bitbucket [path]').description('Find the Bitbucket Cloud pull requests containing the commit (GET /2.0/repositories/WS/REPO/commit/SHA/pullrequests), and record them'),
    { commit: 'the commit whose pull requests to find (default: from CI, or the git repository)' },
  )
    .option('--repository <repo>', 'REPO with --bitbucket-workspace, or WORKSPACE/REPO (default: BITBUCKET_REPO_SLUG)')
    .option('--bitbucket-workspace <ws>', 'the workspace of --repository (default: BITBUCKET_WORKSPACE)')
    .option('--bitbucket-access-token <token>', 'a repository, project or workspace access token (Bearer)')
    .option('--bitbucket-username <user>', 'with --bitbucket-password: HTTP Basic with an app password')
    .option('--bitbucket-password <password>', 'an app password')
    .option('--base-url <url>', 'API base URL (default: BITBUCKET_API_URL or https://api.bitbucket.org/2.0)'))
    .addHelpText('after', '\nExample:\n  evident attest pullrequest bitbucket --name pr --flow runner --trail $GIT_SHA --bitbucket-access-token $TOKEN --bitbucket-workspace acme --repository runner --commit $GIT_SHA')
    .action(action<AttestPrOptions>((o, ctx, args) => attestPullRequest('bitbucket', o, ctx, args[0])));
  common(attestationFlags(
    pr.command('azure [path]').description('Find the Azure DevOps pull requests containing the commit (pullrequestquery), and record them'),
    { commit: 'the commit whose pull requests to find (default: from CI, or the git repository)' },
  )
    .option('--repository <repo>', 'REPO with --project, or PROJECT/REPO (default: BUILD_REPOSITORY_NAME)')
    .option('--project <project>', 'the Azure DevOps project (default: SYSTEM_TEAMPROJECT)')
    .option('--azure-org-url <url>', 'https://dev.azure.com/ORG (default: SYSTEM_COLLECTIONURI)')
    .option('--azure-token <token>', 'a personal access token (default: SYSTEM_ACCESSTOKEN)')
    .option('--base-url <url>', 'same as --azure-org-url'))
    .addHelpText('after', '\nExample:\n  evident attest pullrequest azure --name pr --flow runner --trail $GIT_SHA --azure-token $PAT --azure-org-url https://dev.azure.com/acme --project app --repository runner --commit $GIT_SHA')
    .action(action<AttestPrOptions>((o, ctx, args) => attestPullRequest('azure', o, ctx, args[0])));
}
