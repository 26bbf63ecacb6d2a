import type { Command } from 'commander';
import type { S3Progress } from '../../services/index.js';
import { action, intFlag, type Ctx } from '../context.js';
import { sendSnapshot } from './snapshot-report.js';
import { AWS_AUTH_HELP, addAwsFlags, type AwsFlags } from './snapshot-aws-flags.js';
import { collectNames, collectPatterns } from '../flags.js';

// services/ (fingerprinting, collectors, XML parsing: ~330 ms to load) is imported when a command runs, not when
// the program is built: `evident --version` and `evident run` do not need it (docs/performance.md).
const services = () => import('../../services/index.js');

// `evident snapshot s3 ENV --bucket B [--prefix P]`: the objects under a prefix as one artifact.

export interface SnapshotS3Options extends AwsFlags {
  bucket: string;
  prefix?: string;
  include?: string[];
  exclude?: string[];
  includeRegex?: string[];
  excludeRegex?: string[];
  name?: string;
  concurrency?: number;
  pathStyle?: boolean;
}

const MiB = 1024 * 1024;

/** A progress line on stderr at most once a second, so a large bucket shows it is moving. */
function progressPrinter(ctx: Ctx, where: string): (p: S3Progress) => void {
  let last = Date.now();
  return (p) => {
    const now = Date.now();
    if (now - last < 1000) return; // a quick run says nothing until its summary line
    last = now;
    ctx.printer.info(`${where}: ${p.objects}/${p.totalObjects} objects, ${(p.bytes / MiB).toFixed(1)}/${(p.totalBytes / MiB).toFixed(1)} MiB hashed`);
  };
}

export async function snapshotS3(opts: SnapshotS3Options, ctx: Ctx, [env]: string[]): Promise<void> {
  const where = `s3://${opts.bucket}/${opts.prefix ?? ''}`;
  const { collectS3 } = await services();
  const report = await collectS3({
    bucket: opts.bucket, prefix: opts.prefix, include: opts.include, exclude: opts.exclude, includeRegex: opts.includeRegex, excludeRegex: opts.excludeRegex,
    name: opts.name, concurrency: opts.concurrency, region: opts.region, endpoint: opts.endpoint,
    // Most S3-compatible stores (MinIO, Ceph, LocalStack) only understand path-style addressing.
    pathStyle: opts.pathStyle ?? opts.endpoint !== undefined,
    onProgress: progressPrinter(ctx, where),
  });
  const what = report.kind === 'file' ? 'one object, fingerprinted as a file' : `${report.objects} object(s), fingerprinted as a directory`;
  ctx.printer.info(`${report.artifact.name}: ${what}${report.excluded.length ? `; excluded by the ignore file: ${report.excluded.join(', ')}` : ''}`);
  await sendSnapshot(ctx, env!, [report.artifact]);
}

const S3_HELP = `
Reports the objects under s3://BUCKET/PREFIX as one artifact, running once. Several objects are
fingerprinted as a directory, exactly as \`evident fingerprint --artifact-type dir\` fingerprints a local
copy of them (aws s3 sync s3://BUCKET/PREFIX DIR), honouring a .kosli_ignore or .evident_ignore object at
the root; a single object is fingerprinted as a file (as Kosli does). A PREFIX that does not end in "/"
names that object, or the directory PREFIX/. Each object is streamed through SHA-256, never stored.
--include / --exclude match key prefixes and --include-regex / --exclude-regex regular expressions
(anywhere in the key), all relative to PREFIX; include and exclude cannot be combined. The artifact is
named s3://BUCKET/PREFIX unless --name is given.
${AWS_AUTH_HELP}

Examples:
  evident snapshot s3 website-prod --bucket acme-website
  evident snapshot s3 website-prod --bucket acme-static --prefix site/ --exclude-regex '\\.map$'
  evident snapshot s3 config-prod --bucket acme-config --prefix app/settings.json --name settings
  evident snapshot s3 minio-env --bucket builds --endpoint http://minio.local:9000`;

export function registerSnapshotS3(snapshot: Command): void {
  const s3 = snapshot
    .command('s3 <env>')
    .description('Report the content of an AWS S3 bucket or prefix as one artifact (a file or a directory fingerprint)')
    .requiredOption('--bucket <name>', 'the bucket')
    .option('--prefix <prefix>', 'only the objects under this key prefix (a directory), or the one object it names')
    .option('--include <prefixes>', 'only keys starting with these prefixes, comma-separated', collectNames)
    .option('--exclude <prefixes>', 'leave out keys starting with these prefixes, comma-separated', collectNames)
    .option('--include-regex <patterns>', 'only keys matching these regular expressions', collectPatterns)
    .option('--exclude-regex <patterns>', 'leave out keys matching these regular expressions', collectPatterns)
    .option('--name <name>', 'the artifact name (default s3://BUCKET/PREFIX)')
    .option('--concurrency <n>', 'objects downloaded at once (default 8, at most 64)', intFlag('--concurrency', 1))
    .option('--path-style', 'address the bucket as ENDPOINT/BUCKET (the default with --endpoint)')
    .option('--no-path-style', 'address the bucket as BUCKET.ENDPOINT');
  addAwsFlags(s3).addHelpText('after', S3_HELP).action(action(snapshotS3));
}
