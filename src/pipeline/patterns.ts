import { goMatch, toByteString } from '../formats/index.js';

// The path patterns of attest.yaml `inputs` and `outputs` (seed 003 §2.3: "src/", "package.json",
// "dist/"): workspace-relative paths with `/` separators, where a segment may be a Go filepath.Match glob
// (`*`, `?`, `[a-z]`, `\x`) and `**` (a whole segment) matches any number of directories. A pattern that
// names a directory stands for every file under it. Pure: no I/O.

/** The directory Evident keeps its own state in; never an input, never an output. */
export const STATE_DIR = '.evident';

export interface Pattern {
  /** As written in attest.yaml. */
  source: string;
  /** Cleaned segments (no `.`, no empty segments); `**` stays a segment of its own. */
  segments: string[];
  /** True when some segment is a glob. */
  glob: boolean;
}

const META = /[*?[\\]/;
export const isGlobSegment = (segment: string): boolean => META.test(segment);

/** Why `source` is not an acceptable pattern, or undefined when it is. */
export function patternProblem(source: string): string | undefined {
  if (source.trim() === '') return 'is empty';
  if (source.includes('\0')) return 'contains a NUL byte';
  if (source.startsWith('/') || /^[A-Za-z]:[\\/]/.test(source)) return 'is an absolute path: paths are relative to the workspace (the directory of attest.yaml)';
  const segments = source.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.includes('..')) return 'leaves the workspace ("..")';
  if (segments.length === 0) return 'names the whole workspace: name the files or directories instead';
  if (segments[0] === STATE_DIR) return `is inside ${STATE_DIR}/, where Evident keeps its own state`;
  for (const segment of segments) {
    if (segment === '**') continue;
    if (segment.includes('**')) return `uses "**" inside a segment ("${segment}"): "**" must be a whole path segment, as in "src/**/*.ts"`;
    if (isGlobSegment(segment) && goMatch(toByteString(segment), '') === undefined) return `is not a valid glob ("${segment}": Go filepath.Match syntax)`;
  }
  return undefined;
}

/** Parses a pattern that passed patternProblem(). */
export function parsePattern(source: string): Pattern {
  const segments = source.split('/').filter((s) => s !== '' && s !== '.');
  return { source, segments, glob: segments.some((s) => s === '**' || isGlobSegment(s)) };
}

/** One segment against one name (byte-wise, as Go does). */
export function segmentMatches(segment: string, name: string): boolean {
  if (!isGlobSegment(segment)) return segment === name;
  return goMatch(toByteString(segment), toByteString(name)) === true;
}

/**
 * Does `rel` (a file path) fall under the pattern: matched by it, or inside a directory it matches?
 * Used to keep a step's own outputs out of its inputs.
 */
export function coversPath(pattern: Pattern, rel: string): boolean {
  const names = rel.split('/');
  const walk = (p: number, n: number): boolean => {
    if (p === pattern.segments.length) return true; // matched this path or one of its directories
    if (n === names.length) return false;
    const segment = pattern.segments[p]!;
    if (segment === '**') return walk(p + 1, n) || walk(p, n + 1);
    return segmentMatches(segment, names[n]!) && walk(p + 1, n + 1);
  };
  return walk(0, 0);
}

// --- overlap of two output patterns (attest.yaml validation: no file may be the output of two steps) ---

const literalPrefix = (glob: string) => glob.slice(0, glob.search(META) === -1 ? glob.length : glob.search(META));
function literalSuffix(glob: string): string {
  let i = glob.length;
  while (i > 0 && !'*?[]\\'.includes(glob[i - 1]!)) i--;
  return glob.slice(i);
}

/**
 * Could one name match both segments? Exact for literal/literal and literal/glob; for glob/glob a sound
 * over-approximation: a common match must start with both literal prefixes and end with both literal
 * suffixes, so `*.js` and `*.css` never meet but `a*` and `*b` might.
 */
function segmentsMeet(a: string, b: string): boolean {
  const ga = isGlobSegment(a);
  const gb = isGlobSegment(b);
  if (!ga && !gb) return a === b;
  if (!ga) return segmentMatches(b, a);
  if (!gb) return segmentMatches(a, b);
  const [pa, pb, sa, sb] = [literalPrefix(a), literalPrefix(b), literalSuffix(a), literalSuffix(b)];
  return (pa.startsWith(pb) || pb.startsWith(pa)) && (sa.endsWith(sb) || sb.endsWith(sa));
}

/**
 * Could the two patterns claim a common file? A pattern that matches a directory claims everything under
 * it, so a pattern that runs out first overlaps whatever the other continues with.
 */
export function patternsOverlap(a: Pattern, b: Pattern): boolean {
  const memo = new Map<string, boolean>();
  const walk = (i: number, j: number): boolean => {
    if (i === a.segments.length || j === b.segments.length) return true;
    const id = `${i},${j}`;
    const known = memo.get(id);
    if (known !== undefined) return known;
    const sa = a.segments[i]!;
    const sb = b.segments[j]!;
    let result: boolean;
    if (sa === '**') result = walk(i + 1, j) || walk(i, j + 1);
    else if (sb === '**') result = walk(i, j + 1) || walk(i + 1, j);
    else result = segmentsMeet(sa, sb) && walk(i + 1, j + 1);
    memo.set(id, result);
    return result;
  };
  return walk(0, 0);
}
