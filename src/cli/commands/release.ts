import type { Command } from 'commander';
import { EvidentError } from '../../core/index.js';
import type { releaseSchemas } from '../../client/index.js';
import { action, type Ctx } from '../context.js';

type Plan = releaseSchemas.ReleasePlan;

const short = (s: string | null, n: number) => (s ? s.slice(0, n) : '-');

function busyLines(plan: Plan): string[] {
  return plan.in_progress.map((p) => `  ${p.flow} in ${p.environment}: ${p.fingerprints.join(', ')}`);
}

function printTable(ctx: Ctx, plan: Plan): void {
  const { from, to } = plan;
  if (plan.items.length === 0) ctx.printer.text(`Nothing to release from ${from.environment} to ${to.environment}`);
  else {
    ctx.printer.table(
      ['FLOW', `OUTGOING (${to.environment})`, '', `INCOMING (${from.environment})`, 'DIFF'],
      plan.items.map((i) => [
        i.incoming_flow,
        i.outgoing_fingerprint ? `${short(i.outgoing_fingerprint, 12)} ${short(i.outgoing_commit_sha, 7)}` : '(first deployment)',
        '->',
        `${short(i.incoming_fingerprint, 12)} ${short(i.incoming_commit_sha, 7)}`,
        i.deployment_diff_url ?? '-',
      ]),
    );
  }
  ctx.printer.text(`Unchanged: ${plan.unchanged.length} flow(s)${plan.unchanged.length ? ` (${plan.unchanged.map((u) => u.flow).join(', ')})` : ''}`);
  if (plan.in_progress.length) ctx.printer.text(`Deployment in progress:\n${busyLines(plan).join('\n')}`);
  if (plan.unmatched.length) ctx.printer.text(`Not matched (no flow reported them):\n${plan.unmatched.map((u) => `  ${u.name} ${short(u.fingerprint, 12)} in ${u.environment}`).join('\n')}`);
}

export async function releasePlan(opts: { allowInProgress?: boolean }, ctx: Ctx, [from, to]: string[]): Promise<void> {
  const plan = await ctx.client().releasePlan(from!, to!, { allowInProgress: opts.allowInProgress });
  if (plan.in_progress.length && !opts.allowInProgress) {
    throw new EvidentError('CONFLICT', `deployment in progress, not planning a release (--allow-in-progress to plan anyway):\n${busyLines(plan).join('\n')}`);
  }
  if (ctx.globals.output === 'json') {
    // The warnings stdout cannot carry, since it holds the matrix only.
    if (plan.in_progress.length) ctx.printer.info(`warning: planned despite a deployment in progress:\n${busyLines(plan).join('\n')}`);
    for (const u of plan.unmatched) ctx.printer.info(`warning: ${u.name} (${u.fingerprint}) in ${u.environment} has no flow: not in the plan`);
    // One line: `echo "matrix=$(…)" >> $GITHUB_OUTPUT` takes a single line.
    return ctx.printer.text(JSON.stringify(plan.items));
  }
  printTable(ctx, plan);
}

export function registerReleaseCommands(program: Command): void {
  program
    .command('release')
    .description('Promote a known set of artifacts from one environment to another')
    .command('plan <from> <to>')
    .description(
      'Plan a release from FROM to TO (their latest snapshots), matching artifacts by flow: for each flow with a new version in FROM, ' +
      'the incoming artifact and the outgoing one it replaces in TO. Refuses (exit 1) when a flow has more than one fingerprint running ' +
      'in either environment (a deployment in progress). --output json prints only the list for GitHub Actions strategy.matrix.include.',
    )
    .option('--allow-in-progress', "plan flows with a deployment in progress too: the incoming is FROM's most recently started fingerprint, unless TO runs it")
    .addHelpText('after', [
      '',
      'Each JSON item: incoming_name, incoming_fingerprint, incoming_flow, incoming_commit_url, incoming_repo_name, incoming_commit_sha,',
      'the same six outgoing_ fields (null on a first deployment) and deployment_diff_url (the commit compare URL, or null).',
      'Artifacts with no flow are not planned (a warning on stderr). See docs/releases.md.',
      '',
      'Examples:',
      '  evident release plan aws-beta aws-prod',
      '  evident release plan aws-beta aws-prod --output json',
      '  # in GitHub Actions: a matrix of the promotions ("[]" when there is nothing to release);',
      '  # written to a file first, so that a refusal (exit 1) fails the step',
      '  evident release plan aws-beta aws-prod --output json > plan.json',
      '  echo "matrix=$(cat plan.json)" >> "$GITHUB_OUTPUT"',
    ].join('\n'))
    .action(action(releasePlan));
}
