import { EvidentError } from '../../core/index.js';

// Which listed objects of a bucket make up the artifact, and where each sits in the directory tree that is
// fingerprinted. Pure; s3.ts does the listing and the hashing.
//
// Kosli (`internal/aws/s3_keys.go`, GetS3Data) fingerprints a whole bucket, filtered by key prefixes
// (--include / --exclude) or regular expressions (--include-regex / --exclude-regex); one remaining object
// is fingerprinted as a file, several as a directory whose paths are the keys. Evident adds --prefix: the
// directory is the one under that prefix, so its fingerprint equals `evident fingerprint --artifact-type
// dir` of a local copy (`aws s3 sync s3://bucket/prefix dir`). Without --prefix it is exactly Kosli's.

export interface S3KeyFilter {
  /** Key prefixes (relative to --prefix) to include, or to exclude; Kosli's --include / --exclude. */
  include?: readonly string[];
  exclude?: readonly string[];
  includeRegex?: readonly string[];
  excludeRegex?: readonly string[];
}

export interface ListedObject {
  key: string;
  size?: number;
}

export interface SelectedObject {
  key: string;
  /** The clean relative path in the fingerprinted tree ('' for a single object fingerprinted as a file). */
  path: string;
  size: number;
}

export interface S3Selection {
  kind: 'file' | 'dir';
  /** `s3://bucket/prefix`, or `s3://bucket/key` for one object. */
  name: string;
  objects: SelectedObject[];
}

const MAX_PROBLEMS = 10;

function regexes(patterns: readonly string[] | undefined, flag: string): RegExp[] {
  return (patterns ?? []).map((p) => {
    try {
      return new RegExp(p);
    } catch (err) {
      throw new EvidentError('INVALID_ARGUMENT', `${flag}: ${JSON.stringify(p)} is not a valid regular expression: ${(err as Error).message}`);
    }
  });
}

/** Kosli's shouldExcludePath: include filters win; a literal matches as a key prefix, a regex anywhere. */
export function compileKeyFilter(filter: S3KeyFilter = {}): (relativeKey: string) => boolean {
  const include = (filter.include ?? []).map((p) => p.replace(/^\/+/, ''));
  const exclude = (filter.exclude ?? []).map((p) => p.replace(/^\/+/, ''));
  const includeRe = regexes(filter.includeRegex, '--include-regex');
  const excludeRe = regexes(filter.excludeRegex, '--exclude-regex');
  if ((include.length || includeRe.length) && (exclude.length || excludeRe.length)) {
    throw new EvidentError('INVALID_ARGUMENT', '--include/--include-regex cannot be combined with --exclude/--exclude-regex: include or exclude, not both');
  }
  const matches = (key: string, prefixes: string[], res: RegExp[]) => prefixes.some((p) => key.startsWith(p)) || res.some((re) => re.test(key));
  if (include.length || includeRe.length) return (key) => matches(key, include, includeRe);
  if (exclude.length || excludeRe.length) return (key) => !matches(key, exclude, excludeRe);
  return () => true;
}

/**
 * A key's path in the tree (Kosli's virtualPathForS3Key): leading slashes, `.` segments and doubled
 * slashes fold away as a local copy's would; a `..` segment is refused, never resolved.
 */
export function treePath(relativeKey: string): string | { problem: string } {
  const segments = relativeKey.split('/');
  if (segments.includes('..')) return { problem: 'contains a ".." segment' };
  const path = segments.filter((s) => s !== '' && s !== '.').join('/');
  return path === '' ? { problem: 'names no file' } : path;
}

function refuse(where: string, problems: string[]): EvidentError {
  const shown = problems.slice(0, MAX_PROBLEMS).join('\n  ');
  const more = problems.length > MAX_PROBLEMS ? `\n  (and ${problems.length - MAX_PROBLEMS} more)` : '';
  return new EvidentError('INVALID_ARGUMENT', `${where} cannot be fingerprinted as one directory (${problems.length} problem(s)):\n  ${shown}${more}\nleave the keys out with --exclude or --exclude-regex`);
}

/** Picks and places the objects of `s3://bucket/prefix` (see the note at the top of this file). */
export function selectS3Objects(bucket: string, prefix: string, listed: readonly ListedObject[], filter: S3KeyFilter = {}): S3Selection {
  const keep = compileKeyFilter(filter);
  // A prefix that does not end in "/" names an object, or the directory under prefix + "/" — never the
  // siblings that merely share its first letters (`site` is not a prefix of `site-old/x` here).
  const dirPrefix = prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
  const exact = listed.find((o) => o.key === prefix && prefix !== '' && !prefix.endsWith('/'));
  const under = listed.filter((o) => o.key.startsWith(dirPrefix) && !o.key.endsWith('/') && keep(o.key.slice(dirPrefix.length)));
  const where = `s3://${bucket}/${prefix}`;
  if (exact && under.length > 0) {
    throw new EvidentError('INVALID_ARGUMENT', `${where} is both an object and the prefix of ${under.length} other object(s): give --prefix ${prefix}/ for the directory`);
  }
  if (exact) return { kind: 'file', name: where, objects: [{ key: exact.key, path: '', size: exact.size ?? 0 }] };
  if (under.length === 0) {
    throw new EvidentError('NOT_FOUND', `no objects to fingerprint under ${where}${listed.length > 0 ? ` (${listed.length} listed, none selected by the filters)` : ''}`);
  }
  // One object is fingerprinted as that file, as Kosli does (SingleVirtualFile).
  if (under.length === 1) return { kind: 'file', name: `s3://${bucket}/${under[0]!.key}`, objects: [{ key: under[0]!.key, path: '', size: under[0]!.size ?? 0 }] };

  const problems: string[] = [];
  const byPath = new Map<string, string[]>();
  const objects: SelectedObject[] = [];
  for (const o of under) {
    const path = treePath(o.key.slice(dirPrefix.length));
    if (typeof path !== 'string') {
      problems.push(`object key ${JSON.stringify(o.key)} ${path.problem}`);
      continue;
    }
    byPath.set(path, [...(byPath.get(path) ?? []), o.key]);
    objects.push({ key: o.key, path, size: o.size ?? 0 });
  }
  for (const [path, keys] of byPath) {
    if (keys.length > 1) problems.push(`object keys ${keys.map((k) => JSON.stringify(k)).join(', ')} are the same path ${JSON.stringify(path)}`);
    for (let slash = path.indexOf('/'); slash !== -1; slash = path.indexOf('/', slash + 1)) {
      const dir = path.slice(0, slash);
      if (byPath.has(dir)) problems.push(`object key ${JSON.stringify(byPath.get(dir)![0])} is a file where object key ${JSON.stringify(keys[0])} needs a directory`);
    }
  }
  if (problems.length > 0) throw refuse(where, [...new Set(problems)].sort());
  return { kind: 'dir', name: prefix === '' ? `s3://${bucket}` : where.replace(/\/+$/, ''), objects };
}
