import type { Command } from 'commander';
import { action, type Ctx } from '../context.js';
import { sendSnapshot } from './snapshot-report.js';
import { AWS_AUTH_HELP, addAwsFlags, readJsonInput, refuseAwsFlagsWithFile, type AwsFlags } from './snapshot-aws-flags.js';
import { collectNames, collectPatterns } from '../flags.js';
import { registerSnapshotS3 } from './snapshot-aws-s3.js';

// services/ (fingerprinting, collectors, XML parsing: ~330 ms to load) is imported when a command runs, not when
// the program is built: `evident --version` and `evident run` do not need it (docs/performance.md).
const loadServices = () => import('../../services/index.js');

// `evident snapshot ecs|lambda|s3 ENV`: what runs on AWS, through the SDK or from the AWS CLI's JSON.

export interface SnapshotEcsOptions extends AwsFlags {
  clusters?: string[];
  cluster?: string[];
  clustersRegex?: string[];
  exclude?: string[];
  excludeRegex?: string[];
  services?: string[];
  service?: string[];
  servicesRegex?: string[];
  excludeServices?: string[];
  excludeServicesRegex?: string[];
  fromFile?: string;
}

export interface SnapshotLambdaOptions extends AwsFlags {
  functionNames?: string[];
  functionName?: string[];
  functionNamesRegex?: string[];
  exclude?: string[];
  excludeRegex?: string[];
  fromFile?: string;
}

const merged = (a?: string[], b?: string[]) => (a || b ? [...(a ?? []), ...(b ?? [])] : undefined);

export async function snapshotEcs(opts: SnapshotEcsOptions, ctx: Ctx, [env]: string[]): Promise<void> {
  refuseAwsFlagsWithFile(opts);
  const { collectEcs, compileNameFilter, parseEcsTasks } = await loadServices();
  const clusters = { include: merged(opts.clusters, opts.cluster), includeRegex: opts.clustersRegex, exclude: opts.exclude, excludeRegex: opts.excludeRegex };
  const services = { include: merged(opts.services, opts.service), includeRegex: opts.servicesRegex, exclude: opts.excludeServices, excludeRegex: opts.excludeServicesRegex };
  let state;
  if (opts.fromFile !== undefined) {
    const { doc, source } = readJsonInput(opts.fromFile);
    const c = compileNameFilter(clusters, ['--clusters', '--clusters-regex', '--exclude', '--exclude-regex']);
    const s = compileNameFilter(services, ['--services', '--services-regex', '--exclude-services', '--exclude-services-regex']);
    state = parseEcsTasks(doc, source, { ...(c.active ? { cluster: c.matches } : {}), ...(s.active ? { service: s.matches } : {}) });
  } else {
    state = await collectEcs({ region: opts.region, endpoint: opts.endpoint, clusters, services, onProgress: (m) => ctx.printer.info(m) });
    if (state.clusters.length === 0) ctx.printer.info('warning: no ECS cluster matched');
  }
  for (const s of state.skipped) ctx.printer.info(`warning: skipped container ${s.container || '?'} (${s.image || 'no image'}) of task ${s.task}: ${s.reason}`);
  if (state.runningTasks === 0) ctx.printer.info('warning: no RUNNING tasks found');
  await sendSnapshot(ctx, env!, state.artifacts);
}

export async function snapshotLambda(opts: SnapshotLambdaOptions, ctx: Ctx, [env]: string[]): Promise<void> {
  refuseAwsFlagsWithFile(opts);
  const { collectLambda, compileNameFilter, parseLambdaFunctions, LAMBDA_FILTER_FLAGS } = await loadServices();
  const functions = { include: merged(opts.functionNames, opts.functionName), includeRegex: opts.functionNamesRegex, exclude: opts.exclude, excludeRegex: opts.excludeRegex };
  let state;
  if (opts.fromFile !== undefined) {
    const { doc, source } = readJsonInput(opts.fromFile);
    const filter = compileNameFilter(functions, LAMBDA_FILTER_FLAGS);
    state = parseLambdaFunctions(doc, source, filter.matches);
  } else {
    const live = await collectLambda({ region: opts.region, endpoint: opts.endpoint, functions });
    for (const name of live.missing) ctx.printer.info(`warning: no function named ${name}`);
    state = live;
  }
  for (const s of state.skipped) ctx.printer.info(`note: skipped ${s.function}: ${s.reason}`);
  if (state.functions.length === 0) ctx.printer.info('warning: no Lambda function matched');
  await sendSnapshot(ctx, env!, state.artifacts);
}

const ECS_HELP = `
Reads the RUNNING tasks of the selected clusters (ListTasks, DescribeTasks; ListClusters unless clusters
are named) and reports each running container by its image digest: the fingerprint is the container's
imageDigest without "sha256:", the name its image as ECS reports it (digest dropped), and the instances the
number of running containers with that digest. A container without a digest yet (still pulling) is skipped
with a warning. Without cluster flags, every cluster of the region is read; without service flags, every
task, services' and standalone ones alike. Include and exclude flags cannot be combined. Regular
expressions match anywhere in the name.
${AWS_AUTH_HELP}

Examples:
  evident snapshot ecs aws-prod --clusters prod
  evident snapshot ecs aws-prod --clusters prod --services runner,saver
  evident snapshot ecs aws-prod --exclude-regex '^sandbox-' --region eu-central-1
  aws ecs describe-tasks --cluster prod \\
      --tasks $(aws ecs list-tasks --cluster prod --desired-status RUNNING --query taskArns --output text) \\
    | evident snapshot ecs aws-prod --from-file -`;

const LAMBDA_HELP = `
Reads the functions of the region (ListFunctions) and reports the $LATEST code of each as one instance,
named by the function name. The fingerprint is, as Kosli computes it, CodeSha256 decoded from base64 for a
Zip package (the SHA-256 of the .zip), and the image digest for an Image package (CodeSha256, which is the
digest Code.ResolvedImageUri pins). Include and exclude flags cannot be combined. Regular expressions match
anywhere in the name.
${AWS_AUTH_HELP}

Examples:
  evident snapshot lambda lambda-prod
  evident snapshot lambda lambda-prod --function-names checkout,payments
  evident snapshot lambda lambda-prod --exclude-regex '-test$'
  aws lambda list-functions | evident snapshot lambda lambda-prod --from-file -
  aws lambda get-function --function-name checkout > checkout.json
  evident snapshot lambda lambda-prod --from-file checkout.json`;

export function registerAwsReporters(snapshot: Command): void {
  const ecs = snapshot
    .command('ecs <env>')
    .description('Report the containers running in AWS ECS tasks, one artifact per image digest')
    .option('--clusters <names>', 'clusters to read, comma-separated (default: all)', collectNames)
    .option('--cluster <name>', 'a cluster to read, repeatable (the same as --clusters)', collectNames)
    .option('--clusters-regex <patterns>', 'clusters to read, by regular expression', collectPatterns)
    .option('--exclude <names>', 'clusters to leave out, comma-separated', collectNames)
    .option('--exclude-regex <patterns>', 'clusters to leave out, by regular expression', collectPatterns)
    .option('--services <names>', 'only the tasks of these services, comma-separated', collectNames)
    .option('--service <name>', 'only the tasks of this service, repeatable (the same as --services)', collectNames)
    .option('--services-regex <patterns>', 'only the tasks of services matching these regular expressions', collectPatterns)
    .option('--exclude-services <names>', 'leave out the tasks of these services', collectNames)
    .option('--exclude-services-regex <patterns>', 'leave out the tasks of services matching these regular expressions', collectPatterns)
    .option('--from-file <file>', 'read `aws ecs describe-tasks` JSON (or a list of such documents) instead of calling AWS; - for stdin');
  addAwsFlags(ecs).addHelpText('after', ECS_HELP).action(action(snapshotEcs));

  const lambda = snapshot
    .command('lambda <env>')
    .description('Report the code of AWS Lambda functions ($LATEST), one artifact per function')
    .option('--function-names <names>', 'functions to report, comma-separated (default: all)', collectNames)
    .option('--function-name <name>', 'a function to report, repeatable (the same as --function-names)', collectNames)
    .option('--function-names-regex <patterns>', 'functions to report, by regular expression', collectPatterns)
    .option('--exclude <names>', 'functions to leave out, comma-separated', collectNames)
    .option('--exclude-regex <patterns>', 'functions to leave out, by regular expression', collectPatterns)
    .option('--from-file <file>', 'read `aws lambda list-functions` or `get-function` JSON (or a list of them) instead of calling AWS; - for stdin');
  addAwsFlags(lambda).addHelpText('after', LAMBDA_HELP).action(action(snapshotLambda));

  registerSnapshotS3(snapshot);
}
