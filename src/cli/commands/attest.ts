import type { Command } from 'commander';
import { EvidentError } from '../../core/index.js';
import { action, type Ctx } from '../context.js';
import { collectRepeated } from '../arg-parsers.js';
import { ciWarning, commitDefaults, commitTime as gitCommitTime, collectAnnotation, parseBool, readJsonFile } from '../flags.js';
import { resolveFingerprint, type FingerprintFlags } from './fingerprint-input.js';
import { registerAttestPullRequest } from './attest-pr.js';
import { registerAttestReports } from './attest-reports.js';
import { uploadAttachments } from '../attachments.js';
import { attestationFlags, externalFlags, type AttestationFlagValues } from './attestation-flags.js';

export interface AttestArtifactOptions extends FingerprintFlags {
  name: string;
  flow: string;
  trail: string;
  displayName?: string;
  commit?: string;
  commitUrl?: string;
  commitTime?: string;
  buildUrl?: string;
  annotate?: Record<string, string>;
}

export async function attestArtifact(opts: AttestArtifactOptions, ctx: Ctx, [path]: string[]): Promise<void> {
  const ci = commitDefaults();
  const fingerprint = await resolveFingerprint(opts, path);
  // A --commit other than the checkout's: its time comes from git if the repository has it.
  const commitTime = opts.commitTime ?? (opts.commit && opts.commit !== ci.commit ? gitCommitTime(opts.commit) : ci.commitTime);
  const body = {
    name: opts.name, fingerprint, display_name: opts.displayName ?? path ?? null, git_commit: opts.commit ?? ci.commit,
    commit_url: opts.commitUrl ?? ci.commitUrl, build_url: opts.buildUrl ?? ci.buildUrl, annotations: opts.annotate,
    commit_time: commitTime,
  };
  const warning = ciWarning({ commit: body.git_commit, buildUrl: body.build_url });
  if (warning) ctx.printer.warn(warning);
  if (ctx.globals.dryRun) return ctx.printer.info(`dry run: would report artifact ${JSON.stringify(body)}`);
  const a = await ctx.client().reportArtifact(opts.flow, opts.trail, body);
  ctx.printer.result(a, () => ctx.printer.text(`Artifact ${a.display_name} (${a.fingerprint}) reported in ${a.flow}/${a.trail} (log entry ${a.entry_index})`));
}

export interface AttestGenericOptions extends AttestationFlagValues {
  compliant?: boolean;
}

export async function attestGeneric(opts: AttestGenericOptions, ctx: Ctx, [path]: string[]): Promise<void> {
  const fingerprint = opts.fingerprint || path ? await resolveFingerprint(opts, path) : undefined;
  const body = {
    name: opts.name, compliant: opts.compliant ?? true, fingerprint, git_commit: opts.commit ?? (opts.name.includes('.') ? commitDefaults().commit : undefined),
    description: opts.description, user_data: opts.userData ? readJsonFile('--user-data', opts.userData) : undefined, annotations: opts.annotate,
    evidence: await uploadAttachments(ctx, opts.attachments),
  };
  if (ctx.globals.dryRun) return ctx.printer.info(`dry run: would report attestation ${JSON.stringify(body)}`);
  const a = await ctx.client().attestGeneric(opts.flow, opts.trail, body);
  ctx.printer.result(a, () =>
    ctx.printer.text(`generic attestation ${a.artifact_name ? `${a.artifact_name}.` : ''}${a.name} (compliant: ${a.compliant}) reported in ${a.flow}/${a.trail} (log entry ${a.entry_index})`),
  );
}

export interface AttestApprovalOptions extends AttestGenericOptions {
  approver?: string;
  decision: string;
  comment?: string;
}

export async function attestApproval(opts: AttestApprovalOptions, ctx: Ctx, [path]: string[]): Promise<void> {
  const fingerprint = opts.fingerprint || path ? await resolveFingerprint(opts, path) : undefined;
  const body = {
    name: opts.name, decision: opts.decision as 'approved' | 'rejected', approver: opts.approver, comment: opts.comment, fingerprint,
    git_commit: opts.commit, description: opts.description, annotations: opts.annotate,
    user_data: opts.userData ? readJsonFile('--user-data', opts.userData) : undefined, evidence: await uploadAttachments(ctx, opts.attachments),
  };
  if (body.decision !== 'approved' && body.decision !== 'rejected') throw new EvidentError('INVALID_ARGUMENT', `--decision must be approved or rejected, not ${JSON.stringify(opts.decision)}`);
  if (ctx.globals.dryRun) return ctx.printer.info(`dry run: would record approval ${JSON.stringify(body)}`);
  const a = await ctx.client().attestApproval(opts.flow, opts.trail, body);
  const s = a.summary as { approver: string; decision: string };
  ctx.printer.result(a, () => ctx.printer.text(`approval ${a.name}: ${s.decision} by ${s.approver} in ${a.flow}/${a.trail} (log entry ${a.entry_index})`));
}

function artifactFlags(cmd: Command): Command {
  return externalFlags(cmd)
    .requiredOption('--flow <name>', 'the flow')
    .requiredOption('--trail <name>', 'the trail')
    .option('--annotate <key=value>', 'annotation, repeatable', collectAnnotation);
}

export function registerAttest(program: Command): Command {
  const attest = program.command('attest').description('Record an artifact or an attestation (each is one log entry)');
  registerAttestPullRequest(attest);
  registerAttestReports(attest);
  artifactFlags(
    attest
      .command('artifact [path]')
      .description('Report an artifact into a trail, by --fingerprint or by fingerprinting PATH with -t')
      .requiredOption('--name <name>', "the artifact's name in the flow template")
      .option('--fingerprint <sha256>', 'the artifact fingerprint (64 hex)')
      .option('-t, --artifact-type <type>', 'fingerprint PATH as file | dir | docker | oci')
      .option('-x, --exclude <glob>', 'with -t dir: paths to leave out, repeatable', collectRepeated)
      .option('--display-name <name>', 'name to show (default: PATH)')
      .option('--commit <sha>', 'git commit (default in GitHub Actions / GitLab CI: from their environment)')
      .option('--commit-url <url>', 'link to the commit (default in CI: from the environment)')
      .option('--commit-time <rfc3339>', 'when the commit was made, the start of DORA lead time (default: git show -s --format=%cI COMMIT, when the repository here has it)')
      .option('--build-url <url>', 'link to the build (default in CI: from the environment)'),
  )
    .addHelpText('after', '\nExamples:\n  evident attest artifact --fingerprint $FP --name runner --flow runner --trail $GIT_SHA\n  evident attest artifact dist/app.tar -t file --name app --flow app --trail $GIT_SHA')
    .action(action(attestArtifact));
  attestationFlags(attest.command('generic [path]').description('Report a generic attestation: a yes/no compliance fact about a trail or an artifact'))
    .option('--compliant [bool]', 'true or false; bare --compliant is true (default: true, as in Kosli)', parseBool('--compliant'))
    .addHelpText('after', '\nExamples:\n  evident attest generic --name manual-check --compliant=true --flow runner --trail $GIT_SHA\n  evident attest generic --name runner.lint --compliant=false --commit $GIT_SHA --flow runner --trail $GIT_SHA')
    .action(action(attestGeneric));
  attestationFlags(attest.command('approval [path]').description('Record a human approval (or rejection) of a trail or an artifact; compliant iff approved'))
    .option('--decision <decision>', 'approved | rejected', 'approved')
    .option('--approver <who>', "who approved (default: the API token's identity)")
    .option('--comment <text>', 'why')
    .addHelpText('after', '\nOne approval on a release trail covers every artifact of that release.\nExample:\n  evident attest approval --name release-approval --approver alice@example.com --comment "CAB #42" --flow release --trail v1.4.0')
    .action(action(attestApproval));
  return attest;
}
