import fs from 'node:fs';
import type { Command } from 'commander';
import { EvidentError } from '../../core/index.js';

// Flags and input handling shared by `evident snapshot ecs|lambda|s3`.


export interface AwsFlags {
  region?: string;
  endpoint?: string;
}

/**
 * --region and --endpoint; credentials come from the standard AWS chain. Kosli's --aws-key-id,
 * --aws-secret-key and --aws-region are taken too: they set the chain's own variables for this process
 * (a secret on a command line is visible to other users of the machine: prefer the variables).
 */
export function addAwsFlags(cmd: Command): Command {
  const into = (variable: string) => (value: string) => {
    process.env[variable] = value;
    return value;
  };
  return cmd
    .option('--aws-key-id <id>', 'Kosli: sets AWS_ACCESS_KEY_ID', into('AWS_ACCESS_KEY_ID'))
    .option('--aws-secret-key <key>', 'Kosli: sets AWS_SECRET_ACCESS_KEY', into('AWS_SECRET_ACCESS_KEY'))
    .option('--aws-region <region>', 'Kosli: same as --region', into('AWS_REGION'))
    .option('--region <region>', 'AWS region (default: AWS_REGION, AWS_DEFAULT_REGION or the AWS profile)')
    .option('--endpoint <url>', 'a different endpoint: LocalStack, an S3-compatible store, a proxy (env AWS_ENDPOINT_URL also works)');
}

export const AWS_AUTH_HELP = `
AWS credentials and region come from the standard AWS chain: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY
(/ AWS_SESSION_TOKEN), AWS_PROFILE and ~/.aws, SSO, web identity (EKS, GitHub OIDC), or the instance or
task role. The IAM permissions needed are listed in docs/reporters.md.`;

/** `--from-file` reads a document: the AWS flags then have nothing to talk to. */
export function refuseAwsFlagsWithFile(opts: AwsFlags & { fromFile?: string }): void {
  const live = (['region', 'endpoint'] as const).filter((k) => opts[k] !== undefined);
  if (opts.fromFile !== undefined && live.length > 0) {
    throw new EvidentError('INVALID_ARGUMENT', `--from-file reads a file: --${live.join(' and --')} do not apply to it`, {
      details: [{ path: '--from-file', message: `exclusive with --${live.join(', --')}` }],
    });
  }
}

/** A JSON document from a file or stdin (`-`), and the name its errors are reported under. */
export function readJsonInput(file: string): { doc: unknown; source: string } {
  const source = `--from-file ${file === '-' ? 'stdin' : file}`;
  let text: string;
  try {
    text = fs.readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (err) {
    throw new EvidentError('INVALID_ARGUMENT', `${source}: cannot read: ${(err as Error).message}`);
  }
  try {
    return { doc: JSON.parse(text), source };
  } catch (err) {
    throw new EvidentError('INVALID_ARGUMENT', `${source}: not valid JSON: ${(err as Error).message}`);
  }
}
