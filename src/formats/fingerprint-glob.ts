import { EvidentError } from '../core/index.js';

// Exclude patterns resolved exactly as the Kosli CLI resolves them, so that a directory fingerprint taken
// with `--exclude`/`.kosli_ignore` is byte-compatible with `kosli fingerprint -t dir`. Kosli
// (`internal/digest/digest.go`, `calculateDirContentSha256`) globs `filepath.Join(dir, rule)` with
// `github.com/yargevad/filepathx` (Go's `filepath.Glob` plus "**") and skips a walked path when it is
// byte-equal to one of the globbed paths. Kosli's own `internal/digest/virtualglob.go` replays that on a
// virtual tree; this module does the same, step for step, including its quirks (documented in
// docs/fingerprints.md): a literal rule after "**" never matches at the top level ("**/x" resolves to
// "dir//x"), and a piece ending in "/" that has a wildcard matches nothing.
//
// All paths and names here are *byte strings*: one char per byte (latin1), so that names that are not
// valid UTF-8 are hashed and matched byte for byte, as Go does.

/** What a directory entry is, as the walk needs to know it (symlinks resolved one level, like os.Stat). */
export type EntryKind = 'dir' | 'file' | 'other' | 'symlink-dir' | 'symlink-file' | 'symlink-other' | 'symlink-broken';

/** One node of a listed tree. Children are sorted bytewise, as os.ReadDir returns them. */
export interface TreeNode {
  name: string;
  kind: EntryKind;
  /** Only for `dir`. */
  children?: TreeNode[];
  /** Only for `symlink-dir`: the raw link target (readlink), hashed instead of being descended into. */
  target?: string;
}

/** UTF-8 text as a byte string (see the note at the top), and back (for messages). */
export const toByteString = (text: string): string => Buffer.from(text, 'utf8').toString('latin1');
export const fromByteString = (bytes: string): string => Buffer.from(bytes, 'latin1').toString('utf8');

class BadPattern extends Error {}

/** utf8.DecodeRuneInString: [rune, width]; an invalid byte is (U+FFFD, 1). */
function decodeRune(s: string, i: number): [number, number] {
  const b0 = s.charCodeAt(i);
  if (b0 < 0x80) return [b0, 1];
  const cont = (k: number, lo = 0x80, hi = 0xbf) => {
    const b = s.charCodeAt(i + k);
    return b >= lo && b <= hi ? b & 0x3f : -1;
  };
  if (b0 >= 0xc2 && b0 <= 0xdf) {
    const b1 = cont(1);
    if (b1 >= 0) return [((b0 & 0x1f) << 6) | b1, 2];
  } else if (b0 >= 0xe0 && b0 <= 0xef) {
    const b1 = cont(1, b0 === 0xe0 ? 0xa0 : 0x80, b0 === 0xed ? 0x9f : 0xbf);
    const b2 = b1 >= 0 ? cont(2) : -1;
    if (b2 >= 0) return [((b0 & 0x0f) << 12) | (b1 << 6) | b2, 3];
  } else if (b0 >= 0xf0 && b0 <= 0xf4) {
    const b1 = cont(1, b0 === 0xf0 ? 0x90 : 0x80, b0 === 0xf4 ? 0x8f : 0xbf);
    const b2 = b1 >= 0 ? cont(2) : -1;
    const b3 = b2 >= 0 ? cont(3) : -1;
    if (b3 >= 0) return [((b0 & 0x07) << 18) | (b1 << 12) | (b2 << 6) | b3, 4];
  }
  return [0xfffd, 1];
}

/** Go path.scanChunk. */
function scanChunk(pattern: string): [boolean, string, string] {
  let star = false;
  while (pattern.length > 0 && pattern[0] === '*') {
    pattern = pattern.slice(1);
    star = true;
  }
  let inRange = false;
  let i = 0;
  for (; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') i += i + 1 < pattern.length ? 1 : 0;
    else if (c === '[' || c === ']') inRange = c === '[';
    else if (c === '*' && !inRange) break;
  }
  return [star, pattern.slice(0, i), pattern.slice(i)];
}

/** Go path.getEsc. */
function getEsc(chunk: string): [number, string] {
  if (chunk.length === 0 || chunk[0] === '-' || chunk[0] === ']') throw new BadPattern();
  if (chunk[0] === '\\') {
    chunk = chunk.slice(1);
    if (chunk.length === 0) throw new BadPattern();
  }
  const [r, n] = decodeRune(chunk, 0);
  if (r === 0xfffd && n === 1) throw new BadPattern();
  const rest = chunk.slice(n);
  if (rest.length === 0) throw new BadPattern();
  return [r, rest];
}

/** Go path.matchChunk: the rest of s after chunk, or undefined; keeps validating after a mismatch. */
function matchChunk(chunk: string, s: string): string | undefined {
  let failed = false;
  while (chunk.length > 0) {
    if (!failed && s.length === 0) failed = true;
    const c = chunk[0];
    if (c === '[') {
      let r = 0;
      if (!failed) {
        const [rune, n] = decodeRune(s, 0);
        r = rune;
        s = s.slice(n);
      }
      chunk = chunk.slice(1);
      let negated = false;
      if (chunk.length > 0 && chunk[0] === '^') {
        negated = true;
        chunk = chunk.slice(1);
      }
      let match = false;
      let nrange = 0;
      for (;;) {
        if (chunk.length > 0 && chunk[0] === ']' && nrange > 0) {
          chunk = chunk.slice(1);
          break;
        }
        let lo: number;
        [lo, chunk] = getEsc(chunk);
        let hi = lo;
        if (chunk[0] === '-') [hi, chunk] = getEsc(chunk.slice(1));
        if (lo <= r && r <= hi) match = true;
        nrange++;
      }
      if (match === negated) failed = true;
    } else if (c === '?') {
      if (!failed) {
        if (s[0] === '/') failed = true;
        s = s.slice(decodeRune(s, 0)[1]);
      }
      chunk = chunk.slice(1);
    } else {
      if (c === '\\') {
        chunk = chunk.slice(1);
        if (chunk.length === 0) throw new BadPattern();
      }
      if (!failed) {
        if (chunk[0] !== s[0]) failed = true;
        s = s.slice(1);
      }
      chunk = chunk.slice(1);
    }
  }
  return failed ? undefined : s;
}

function matchOrThrow(pattern: string, name: string): boolean {
  outer: while (pattern.length > 0) {
    let star: boolean;
    let chunk: string;
    [star, chunk, pattern] = scanChunk(pattern);
    if (star && chunk === '') return !name.includes('/');
    const t = matchChunk(chunk, name);
    if (t !== undefined && (t.length === 0 || pattern.length > 0)) {
      name = t;
      continue;
    }
    if (star) {
      for (let i = 0; i < name.length && name[i] !== '/'; i++) {
        const rest = matchChunk(chunk, name.slice(i + 1));
        if (rest !== undefined) {
          if (pattern.length === 0 && rest.length > 0) continue;
          name = rest;
          continue outer;
        }
      }
    }
    while (pattern.length > 0) {
      [, chunk, pattern] = scanChunk(pattern);
      matchChunk(chunk, '');
    }
    return false;
  }
  return name.length === 0;
}

/**
 * Go's `path.Match` (= `filepath.Match` on Unix) on byte strings: `*`, `?`, `[...]` with `^` negation and
 * ranges, `\` escapes; neither `*` nor `?` crosses `/`. Returns undefined for a malformed pattern.
 */
export function goMatch(pattern: string, name: string): boolean | undefined {
  try {
    return matchOrThrow(pattern, name);
  } catch (err) {
    if (err instanceof BadPattern) return undefined;
    throw err;
  }
}

/** Go's `path.Clean`. */
export function goClean(p: string): string {
  if (p === '') return '.';
  const rooted = p[0] === '/';
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
      else if (!rooted) out.push('..');
    } else out.push(part);
  }
  const joined = out.join('/');
  return rooted ? '/' + joined : joined === '' ? '.' : joined;
}

/** Throws INVALID_ARGUMENT unless the exclude pattern is well formed (the check filepath.Glob makes first). */
export function checkExcludePattern(pattern: string, where = '--exclude'): void {
  const bytes = toByteString(pattern);
  const problem = bytes.includes('\0') ? 'contains a NUL byte' : goMatch(bytes, '') === undefined ? 'is not a valid glob (Go filepath.Match syntax)' : '';
  if (problem) {
    throw new EvidentError('INVALID_ARGUMENT', `exclude pattern ${JSON.stringify(pattern)} ${problem}`, {
      details: [{ path: where, message: `${JSON.stringify(pattern)} ${problem}` }],
    });
  }
}

// A name no real entry can have, so that no rule can reach the root by spelling its name.
const ROOT = '\0';
const hasMeta = (p: string) => /[*?[\\]/.test(p);
const join = (dir: string, name: string) => goClean(dir + '/' + name);

/**
 * Matching steps (names compared with a glob piece, paths visited under a `**`) that resolving the exclude
 * rules may take. Each `**` walks the subtree of every path the rule matched so far, so a rule with several
 * of them over a deep tree costs about (tree size × depth × pieces): an exclude rule comes from a
 * repository's attest.yaml or .kosli_ignore, so a hostile one must not be able to stall a CI runner.
 */
export const EXCLUDE_MAX_STEPS = 20_000_000;

/**
 * The set of walk paths (clean, relative to the root, byte strings) that the rules exclude. Rules must have
 * passed checkExcludePattern. Throws INVALID_ARGUMENT past `maxSteps` matching steps.
 */
export function resolveExcludes(root: TreeNode, rules: readonly string[], maxSteps = EXCLUDE_MAX_STEPS): Set<string> {
  let steps = 0;
  const step = (rule: string) => {
    if (++steps > maxSteps) {
      throw new EvidentError('INVALID_ARGUMENT', `exclude pattern ${JSON.stringify(rule)} needs more than ${maxSteps} matching steps over this tree (the limit): use fewer "**"`, {
        details: [{ path: '--exclude', message: `more than ${maxSteps} matching steps` }],
      });
    }
  };
  let current = '';
  const index = new Map<TreeNode, Map<string, TreeNode>>();
  const child = (node: TreeNode | undefined, name: string): TreeNode | undefined => {
    if (!node?.children) return undefined;
    let byName = index.get(node);
    if (!byName) index.set(node, (byName = new Map(node.children.map((c) => [c.name, c]))));
    return byName.get(name);
  };
  const lookup = (p: string): TreeNode | undefined => {
    const clean = goClean(p);
    if (clean === ROOT) return root;
    if (!clean.startsWith(ROOT + '/')) return undefined;
    let node: TreeNode | undefined = root;
    for (const seg of clean.slice(2).split('/')) node = child(node, seg);
    // os.Lstat("x/") fails unless x is (a link to) a directory.
    if (node && p.endsWith('/') && node.kind !== 'dir' && node.kind !== 'symlink-dir') return undefined;
    return node;
  };
  // filepath.glob: the matching names in one directory (os.Stat follows links; inside a linked directory
  // nothing is ever walked, so its listing is not needed).
  const globDir = (dir: string, pattern: string, out: string[]) => {
    for (const c of lookup(dir)?.children ?? []) {
      step(current);
      const matched = goMatch(pattern, c.name);
      if (matched === undefined) throw new EvidentError('INVALID_ARGUMENT', `exclude pattern piece ${JSON.stringify(fromByteString(pattern))} is not a valid glob`);
      if (matched) out.push(join(dir, c.name));
    }
  };
  const glob = (pattern: string): string[] => {
    if (!hasMeta(pattern)) return lookup(pattern) ? [pattern] : [];
    const slash = pattern.lastIndexOf('/');
    let dir = pattern.slice(0, slash + 1);
    const file = pattern.slice(slash + 1);
    dir = dir === '' ? '.' : dir === '/' ? dir : dir.slice(0, -1);
    const out: string[] = [];
    if (!hasMeta(dir)) globDir(dir, file, out);
    else if (dir !== pattern) for (const d of glob(dir)) globDir(d, file, out);
    return out;
  };
  // filepath.Walk as filepathx drives it: the start as given, descendants joined (cleaned); links are leaves.
  const walk = (p: string, node: TreeNode, visit: (p: string) => void) => {
    step(current);
    visit(p);
    for (const c of node.children ?? []) walk(join(p, c.name), c, visit);
  };
  const excluded = new Set<string>();
  for (const rule of rules) {
    current = rule;
    const pattern = goClean(ROOT + '/' + toByteString(rule));
    if (!pattern.startsWith(ROOT + '/')) continue; // the root itself, or outside it
    let matches = [''];
    const pieces = pattern.includes('**') ? pattern.split('**') : undefined;
    if (!pieces) matches = glob(pattern);
    else {
      for (const piece of pieces) {
        const hits = new Set<string>();
        for (const m of matches) {
          for (const p of glob(m + piece)) {
            const node = lookup(p);
            if (node) walk(p, node, (v) => hits.add(v));
          }
        }
        matches = [...hits];
      }
    }
    // Only a hit spelled exactly as the walk spells a path can exclude it (Kosli compares strings).
    for (const m of matches) if (m.startsWith(ROOT + '/') && goClean(m) === m) excluded.add(m.slice(2));
  }
  return excluded;
}
