import { EvidentError, type ErrorCode } from '../../core/index.js';
import { ArtifactTally } from './container-state.js';

// What the three AWS reporters (ecs, lambda, s3) share: the running-artifact shape they return, the merge
// into one entry per fingerprint, Kosli's include/exclude name filters, the client options and the mapping
// of AWS SDK errors to Evident's error codes.

/** One entry of a snapshot report: what runs, under which name, how many times. */
export interface RunningArtifact {
  name: string;
  fingerprint: string;
  instances: number;
}

/** The longest artifact name the server accepts (SnapshotReport in client/environment-schemas.ts). */
const MAX_NAME = 512;

/**
 * One entry per fingerprint, instances summed (a snapshot is keyed by fingerprint, DESIGN.md §1), named and
 * ordered as the container reporters do (ArtifactTally: the name most instances run under wins, ties to
 * the first in sort order), so that the report does not depend on the order AWS listed things in.
 */
export function mergeByFingerprint(items: Iterable<RunningArtifact>): RunningArtifact[] {
  const tally = new ArtifactTally();
  for (const item of items) tally.add(item.fingerprint, item.name.slice(0, MAX_NAME), item.instances);
  return tally.artifacts();
}

/**
 * Kosli's resource filter (`internal/filters`): names or regular expressions to include, or names or
 * regular expressions to exclude — never both directions at once. A regular expression matches anywhere in
 * the name (anchor it with ^...$ for a whole-name match).
 */
export interface NameFilter {
  include?: readonly string[];
  includeRegex?: readonly string[];
  exclude?: readonly string[];
  excludeRegex?: readonly string[];
}

export interface CompiledNameFilter {
  /** Whether any filter was given. */
  readonly active: boolean;
  /** The names to include when only literal names were given: they can be asked for directly. */
  readonly onlyNames: readonly string[] | undefined;
  matches(name: string): boolean;
}

/** Compiles a filter; `flags` names the four flags, for the error messages. */
export function compileNameFilter(filter: NameFilter = {}, flags: [string, string, string, string]): CompiledNameFilter {
  const regexes = (patterns: readonly string[] | undefined, flag: string) =>
    (patterns ?? []).map((p) => {
      try {
        return new RegExp(p);
      } catch (err) {
        throw new EvidentError('INVALID_ARGUMENT', `${flag}: ${JSON.stringify(p)} is not a valid regular expression: ${(err as Error).message}`);
      }
    });
  const include = new Set(filter.include ?? []);
  const exclude = new Set(filter.exclude ?? []);
  const includeRe = regexes(filter.includeRegex, flags[1]);
  const excludeRe = regexes(filter.excludeRegex, flags[3]);
  const including = include.size > 0 || includeRe.length > 0;
  const excluding = exclude.size > 0 || excludeRe.length > 0;
  if (including && excluding) {
    throw new EvidentError('INVALID_ARGUMENT', `${flags[0]}/${flags[1]} cannot be combined with ${flags[2]}/${flags[3]}: include or exclude, not both`);
  }
  return {
    active: including || excluding,
    onlyNames: include.size > 0 && includeRe.length === 0 ? [...include] : undefined,
    matches: (name) => {
      if (excluding) return !exclude.has(name) && !excludeRe.some((re) => re.test(name));
      if (including) return include.has(name) || includeRe.some((re) => re.test(name));
      return true;
    },
  };
}

/** Where the AWS clients connect. Region and credentials otherwise come from the standard AWS chain. */
export interface AwsOptions {
  region?: string;
  /** An S3-compatible store, LocalStack, or a test double (also: AWS_ENDPOINT_URL, which the SDK reads). */
  endpoint?: string;
}

/** The configuration every AWS client of Evident is built with. */
export function awsClientConfig(options: AwsOptions): { region?: string; endpoint?: string } {
  if (options.endpoint !== undefined) {
    let url: URL;
    try {
      url = new URL(options.endpoint);
    } catch {
      throw new EvidentError('INVALID_ARGUMENT', `--endpoint ${JSON.stringify(options.endpoint)} is not a URL`);
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new EvidentError('INVALID_ARGUMENT', `--endpoint must be an http(s) URL, not ${url.protocol}`);
  }
  // On Node 20 only (end of life; still tested, README "Supported Node.js releases"), the SDK warns on
  // stderr, once a process, that its releases after January 2027 need Node 22. On 22 and later (24 and 26
  // are the supported LTS releases) there is nothing to silence, so nothing is touched there; on 20 the
  // warning concerns the release, which the README already says, not the user reading Evident's output
  // (set the variable to false to see it).
  if (Number(process.versions.node.split('.')[0]) < 22) process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  return { ...(options.region ? { region: options.region } : {}), ...(options.endpoint ? { endpoint: options.endpoint } : {}) };
}

// The error names AWS services return (the `__type` of JSON protocols, `Code` of S3's XML), by meaning.
const REJECTED_CREDENTIALS = new Set([
  'InvalidClientTokenId', 'UnrecognizedClientException', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'InvalidSignatureException',
  'ExpiredToken', 'ExpiredTokenException', 'InvalidToken', 'AuthFailure', 'MissingAuthenticationToken', 'IncompleteSignature',
]);
const DENIED = new Set(['AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation', 'AllAccessDisabled', 'AccountProblem']);
const MISSING = new Set(['NoSuchBucket', 'NoSuchKey', 'NotFound', 'ResourceNotFoundException', 'ClusterNotFoundException', 'ServiceNotFoundException']);
const THROTTLED = new Set(['ThrottlingException', 'Throttling', 'TooManyRequestsException', 'SlowDown', 'RequestLimitExceeded']);
const BAD_REQUEST = new Set(['InvalidParameterException', 'InvalidParameterValueException', 'ValidationException', 'InvalidBucketName', 'InvalidArgument']);

interface SdkError {
  name?: string;
  message?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number };
}

/**
 * An AWS SDK failure as an EvidentError with a message a user can act on (no stack trace: the CLI prints
 * one line). `what` says what was being done, e.g. "ECS ListTasks in cluster prod".
 */
export function awsError(err: unknown, what: string): EvidentError {
  if (err instanceof EvidentError) return err;
  const e = (err ?? {}) as SdkError;
  const name = e.name ?? '';
  const status = e.$metadata?.httpStatusCode;
  const said = e.message && e.message !== name && e.message !== 'UnknownError' ? `: ${e.message}` : '';
  const fail = (code: ErrorCode, message: string) => new EvidentError(code, message, { cause: err });
  if (name === 'CredentialsProviderError' || /could not load credentials/i.test(e.message ?? '')) {
    return fail('UNAUTHENTICATED', `${what}: no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, or run with an IAM role`);
  }
  if (/region is missing/i.test(e.message ?? '')) return fail('INVALID_ARGUMENT', `${what}: no AWS region: give --region or set AWS_REGION`);
  if (/^region not accepted/i.test(e.message ?? '')) return fail('INVALID_ARGUMENT', `${what}: invalid AWS region (${e.message})`);
  if (REJECTED_CREDENTIALS.has(name)) return fail('UNAUTHENTICATED', `${what}: AWS rejected the credentials (${name})${said}`);
  if (DENIED.has(name) || status === 403) return fail('FORBIDDEN', `${what}: access denied by AWS (${name || status})${said}; see the IAM policy in docs/reporters.md`);
  if (MISSING.has(name) || status === 404) return fail('NOT_FOUND', `${what}: not found (${name || status})${said}`);
  if (THROTTLED.has(name) || status === 429) return fail('RATE_LIMITED', `${what}: AWS is throttling requests (${name || status}); try again later`);
  if (BAD_REQUEST.has(name)) return fail('INVALID_ARGUMENT', `${what}: AWS refused the request (${name})${said}`);
  if (status !== undefined) return fail('UNAVAILABLE', `${what}: AWS answered ${status}${name ? ` ${name}` : ''}${said}`);
  return fail('UNAVAILABLE', `${what}: cannot reach AWS: ${e.message ?? e.code ?? String(err)}`);
}

/** An INVALID_ARGUMENT for a document read from `source`, located by a JSON pointer. */
export function badDocument(source: string, pointer: string, message: string): EvidentError {
  // The pointer is in the message, which the CLI prints whole: no details list to repeat it.
  return new EvidentError('INVALID_ARGUMENT', `${source}: ${pointer === '' ? '/' : pointer} ${message}`);
}

export const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The last `/`-separated part of an ARN (`arn:aws:ecs:…:cluster/prod` → `prod`), or the text itself. */
export function arnName(arn: string): string {
  return arn.slice(arn.lastIndexOf('/') + 1);
}
