import type { Command } from 'commander';
import { EvidentError } from '../../core/index.js';
import { action, type Ctx } from '../context.js';
import { commitDefaults, readJsonFile } from '../flags.js';
import { findPullRequests, fromGitHub, fromGitLab } from '../pr-providers.js';
import { uploadAttachments } from '../attachments.js';
import { attestationFlags, type AttestationFlagValues } from './attestation-flags.js';

export interface AttestPrOptions extends Omit<AttestationFlagValues, 'artifactType' | 'exclude'> {
  repository?: string;
  token?: string;
  baseUrl?: string;
  fromFile?: string;
  assert?: boolean;
}

/** `evident attest pullrequest github|gitlab`: finds the PRs/MRs containing the commit and records them. */
export async function attestPullRequest(provider: 'github' | 'gitlab', opts: AttestPrOptions, ctx: Ctx): Promise<void> {
  const env = process.env;
  const commit = opts.commit ?? commitDefaults().commit;
  if (!commit) throw new EvidentError('INVALID_ARGUMENT', '--commit is required (the commit whose pull requests to find)');
  const repository = opts.repository ?? (provider === 'github' ? env.GITHUB_REPOSITORY : env.CI_PROJECT_ID ?? env.CI_PROJECT_PATH);
  if (!repository) throw new EvidentError('INVALID_ARGUMENT', `--repository is required (${provider === 'github' ? 'OWNER/REPO' : 'project id or path'})`);
  const prs = opts.fromFile
    ? (provider === 'github' ? fromGitHub : fromGitLab)(readJsonFile('--from-file', opts.fromFile))
    : await findPullRequests({
        provider, repository, commit,
        token: opts.token ?? (provider === 'github' ? env.GITHUB_TOKEN : env.GITLAB_TOKEN ?? env.CI_JOB_TOKEN),
        baseUrl: opts.baseUrl ?? (provider === 'github' ? env.GITHUB_API_URL ?? 'https://api.github.com' : env.CI_API_V4_URL ?? 'https://gitlab.com/api/v4'),
      });
  const body = {
    name: opts.name, provider, repository, pull_requests: prs, fingerprint: opts.fingerprint, git_commit: commit,
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

export function registerAttestPullRequest(attest: Command): void {
  const pr = attest.command('pullrequest').description('Record the pull requests (GitHub) or merge requests (GitLab) that contain a commit');
  for (const provider of ['github', 'gitlab'] as const) {
    attestationFlags(
      pr.command(provider).description(`Find the ${provider === 'github' ? 'pull' : 'merge'} requests containing the commit through the ${provider} REST API, and record them`),
      { path: false, commit: 'the commit whose pull requests to find (default: from CI, or the git repository)' },
    )
      .option('--repository <repo>', provider === 'github' ? 'OWNER/REPO (default: GITHUB_REPOSITORY)' : 'project id or path (default: CI_PROJECT_ID)')
      .option('--token <token>', provider === 'github' ? 'GitHub token (default: GITHUB_TOKEN)' : 'GitLab token (default: GITLAB_TOKEN or CI_JOB_TOKEN)')
      .option('--base-url <url>', provider === 'github' ? 'API base URL (default: GITHUB_API_URL or https://api.github.com)' : 'API base URL (default: CI_API_V4_URL or https://gitlab.com/api/v4)')
      .option('--from-file <file>', "read the provider's JSON answer from a file instead of calling the API")
      .option('--assert', 'exit 1 when no pull request contains the commit')
      .addHelpText('after', `\nExample:\n  evident attest pullrequest ${provider} --name pr --flow runner --trail $GIT_SHA --commit $GIT_SHA --assert`)
      .action(action<AttestPrOptions>((o, ctx) => attestPullRequest(provider, o, ctx)));
  }
}
