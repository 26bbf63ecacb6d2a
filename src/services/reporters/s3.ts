import { createHash } from 'node:crypto';
import { EvidentError } from '../../core/index.js';
import { IGNORE_FILES } from '../../formats/index.js';
import { planFileList } from '../fingerprint/index.js';
import { awsClientConfig, awsError, type AwsOptions, type RunningArtifact } from './aws-common.js';
import { selectS3Objects, type S3KeyFilter, type SelectedObject } from './s3-keys.js';

// `evident snapshot s3`: the objects under a bucket prefix as one artifact, through the AWS SDK v3.
// IAM actions: s3:ListBucket (ListObjectsV2) and s3:GetObject. Every selected object is streamed through
// SHA-256 (never held in memory whole, never written to disk, its key never used as a file name), a few at a
// time; the directory fingerprint is then computed from the (path, digest) pairs by the same code that
// fingerprints a local directory (services/fingerprint/files.ts), root .kosli_ignore / .evident_ignore
// included, so objects those rules exclude are not downloaded at all.

export interface S3Options extends AwsOptions, S3KeyFilter {
  bucket: string;
  /** A key prefix: the directory under it, or the one object it names. Default: the whole bucket. */
  prefix?: string;
  /** Address buckets as endpoint/bucket rather than bucket.endpoint (most S3-compatible stores need it). */
  pathStyle?: boolean;
  /** Objects downloaded at once (default 8). */
  concurrency?: number;
  /** The artifact name (default `s3://bucket/prefix`). */
  name?: string;
  onProgress?: (progress: S3Progress) => void;
}

export interface S3Progress {
  objects: number;
  totalObjects: number;
  bytes: number;
  totalBytes: number;
}

export interface S3Report {
  artifact: RunningArtifact;
  kind: 'file' | 'dir';
  /** Objects hashed. */
  objects: number;
  /** Paths that the root ignore files excluded. */
  excluded: string[];
}

const MAX_IGNORE_FILE_BYTES = 1 << 20;
const DEFAULT_CONCURRENCY = 8;

type S3Module = typeof import('@aws-sdk/client-s3');

/** Runs `fn` over `items`, at most `limit` at a time; the first failure stops the rest. */
async function eachLimited<T>(items: readonly T[], limit: number, signal: AbortController, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { err: unknown } | undefined;
  const worker = async () => {
    while (next < items.length && !failure) {
      const item = items[next++]!;
      try {
        await fn(item);
      } catch (err) {
        failure ??= { err };
        signal.abort();
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw failure.err;
}

/** Collects the artifact under `s3://bucket/prefix`. */
export async function collectS3(options: S3Options): Promise<S3Report> {
  if (!options.bucket) throw new EvidentError('INVALID_ARGUMENT', 'give --bucket NAME');
  const prefix = options.prefix ?? '';
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) throw new EvidentError('INVALID_ARGUMENT', '--concurrency must be between 1 and 64');
  const config = { ...awsClientConfig(options), ...(options.pathStyle ? { forcePathStyle: true } : {}) };
  // Loaded on first use: the SDK is large, and most evident commands never talk to AWS.
  const sdk: S3Module = await import('@aws-sdk/client-s3');
  const client = new sdk.S3Client(config);
  const where = `s3://${options.bucket}/${prefix}`;
  try {
    const listed: { key: string; size?: number }[] = [];
    try {
      for await (const page of sdk.paginateListObjectsV2({ client }, { Bucket: options.bucket, ...(prefix ? { Prefix: prefix } : {}) })) {
        for (const o of page.Contents ?? []) if (o.Key !== undefined) listed.push({ key: o.Key, ...(o.Size !== undefined ? { size: o.Size } : {}) });
      }
    } catch (err) {
      throw awsError(err, `S3 ListObjectsV2 of ${where}`);
    }
    const selection = selectS3Objects(options.bucket, prefix, listed, options);
    const name = options.name ?? selection.name;
    const abort = new AbortController();
    const progress = { objects: 0, totalObjects: 0, bytes: 0, totalBytes: 0 };
    const hashAll = async (objects: readonly SelectedObject[], keepText = false) => {
      const digests = new Map<string, { sha256: string; text?: string }>();
      progress.totalObjects += objects.length;
      progress.totalBytes += objects.reduce((n, o) => n + o.size, 0);
      await eachLimited(objects, concurrency, abort, async (o) => {
        digests.set(o.path, await hashObject(sdk, client, options.bucket, o.key, keepText, abort.signal, (n) => (progress.bytes += n)));
        progress.objects++;
        options.onProgress?.({ ...progress });
      });
      return digests;
    };

    if (selection.kind === 'file') {
      const [only] = await hashAll(selection.objects).then((d) => [...d.values()]);
      return { artifact: { name, fingerprint: only!.sha256, instances: 1 }, kind: 'file', objects: 1, excluded: [] };
    }
    // The root ignore files first: their rules decide what else is downloaded.
    const ignoreObjects = selection.objects.filter((o) => (IGNORE_FILES as readonly string[]).includes(o.path));
    const ignored = await hashAll(ignoreObjects, true);
    const ignoreFiles = Object.fromEntries([...ignored].map(([path, d]) => [path, d.text!]));
    const plan = planFileList(selection.objects.map((o) => o.path), { ignoreFiles });
    const byPath = new Map(selection.objects.map((o) => [o.path, o]));
    const rest = await hashAll(plan.files.filter((p) => !ignored.has(p)).map((p) => byPath.get(p)!));
    const fingerprint = plan.fingerprint((path) => (rest.get(path) ?? ignored.get(path))!.sha256);
    return { artifact: { name, fingerprint, instances: 1 }, kind: 'dir', objects: ignored.size + rest.size, excluded: plan.excluded };
  } finally {
    client.destroy();
  }
}

/** Streams one object through SHA-256; `keepText` also returns it as text (only for small ignore files). */
async function hashObject(
  sdk: S3Module, client: InstanceType<S3Module['S3Client']>, bucket: string, key: string, keepText: boolean, signal: AbortSignal, onBytes: (n: number) => void,
): Promise<{ sha256: string; text?: string }> {
  const what = `S3 GetObject s3://${bucket}/${key}`;
  const hash = createHash('sha256');
  const kept: Buffer[] = [];
  let size = 0;
  try {
    const answer = await client.send(new sdk.GetObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: signal });
    if (!answer.Body) throw new EvidentError('UNAVAILABLE', `${what}: the answer had no body`);
    for await (const chunk of answer.Body as AsyncIterable<Uint8Array>) {
      hash.update(chunk);
      size += chunk.length;
      onBytes(chunk.length);
      if (keepText) {
        if (size > MAX_IGNORE_FILE_BYTES) throw new EvidentError('INVALID_ARGUMENT', `s3://${bucket}/${key}: an ignore file larger than 1 MiB is refused`);
        kept.push(Buffer.from(chunk));
      }
    }
  } catch (err) {
    throw awsError(err, what);
  }
  return { sha256: hash.digest('hex'), ...(keepText ? { text: Buffer.concat(kept).toString('utf8') } : {}) };
}
