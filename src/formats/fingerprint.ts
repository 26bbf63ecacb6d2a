import crypto, { createHash, type Hash } from 'node:crypto';
import { EvidentError } from '../core/index.js';
import { checkExcludePattern, fromByteString, resolveExcludes, type EntryKind, type TreeNode } from './fingerprint-glob.js';

// Artifact fingerprints, byte-compatible with the Kosli CLI (`internal/digest/digest.go`): a file is the
// SHA-256 of its bytes; a directory is the SHA-256 of an accumulator built while walking it (DESIGN.md §4,
// test/vectors/kosli-fingerprints.md). Pure: the service layer lists the tree and hashes the files.

export { checkExcludePattern, fromByteString, goClean, goMatch, resolveExcludes, toByteString } from './fingerprint-glob.js';
export type { EntryKind, TreeNode } from './fingerprint-glob.js';

/** A fingerprint: 64 lower-case hex characters, no `sha256:` prefix. */
export const FINGERPRINT = /^[0-9a-f]{64}$/;

/** Kosli reads `.kosli_ignore` from the root of the directory; Evident also reads `.evident_ignore`. */
export const IGNORE_FILES = ['.kosli_ignore', '.evident_ignore'] as const;

export function isFingerprint(value: string): boolean {
  return FINGERPRINT.test(value);
}

// crypto.hash (Node >= 20.12) hashes a small input without building a Hash object: a tree has one name
// per entry, and that object churn was a measurable share of the walk's CPU time.
const oneShot: (data: Uint8Array) => string =
  typeof crypto.hash === 'function' ? (data) => crypto.hash('sha256', data, 'hex') : (data) => createHash('sha256').update(data).digest('hex');

/** Hex SHA-256 of bytes, or of a byte string (one char per byte). */
export function sha256Hex(data: Uint8Array | string): string {
  return oneShot(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
}

/**
 * The directory accumulator of Kosli's `calculateDirContentSha256`: for every walked entry, in walk order,
 * the hex SHA-256 of its base name; then, for a file (or a link to a file), the hex SHA-256 of its
 * content; for a link to a directory, the hex SHA-256 of the link target string. A directory adds its name
 * only. The fingerprint is the SHA-256 of the concatenated hex text (an empty walk gives SHA-256 of "").
 * Streamed into one hash, so memory stays constant however large the tree.
 */
export class DirAccumulator {
  private readonly hash: Hash = createHash('sha256');
  // Hex text is gathered and hashed in 64 KiB slices: one update per entry was a measurable cost.
  private pending: string[] = [];
  private pendingLength = 0;

  private push(text: string): void {
    this.pending.push(text);
    this.pendingLength += text.length;
    if (this.pendingLength >= 1 << 16) this.flush();
  }

  private flush(): void {
    this.hash.update(this.pending.join(''), 'latin1');
    this.pending = [];
    this.pendingLength = 0;
  }

  /** `nameSha256` may be given when it was computed ahead (it is sha256Hex(name)). */
  addDir(name: string, nameSha256 = sha256Hex(name)): void {
    this.push(nameSha256);
  }

  addFile(name: string, contentSha256: string, nameSha256 = sha256Hex(name)): void {
    if (contentSha256?.length !== 64) throw new EvidentError('INTERNAL', `not a SHA-256 hex digest: ${contentSha256}`);
    this.push(nameSha256 + contentSha256);
  }

  addDirSymlink(name: string, target: string, nameSha256 = sha256Hex(name)): void {
    this.push(nameSha256 + sha256Hex(target));
  }

  fingerprint(): string {
    this.flush();
    return this.hash.digest('hex');
  }
}

/**
 * Parses a `.kosli_ignore` / `.evident_ignore` file as Kosli's `excludePathsFromFile` does: one pattern per
 * line; everything from the first `#` is a comment; surrounding white space is dropped; blank lines are
 * skipped. CRLF line ends are accepted (Go's bufio.Scanner drops the `\r`).
 */
export function parseIgnoreFile(text: string): string[] {
  const rules: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const rule = line.split('#', 1)[0]!.trim();
    if (rule !== '') rules.push(rule);
  }
  return rules;
}

/** One entry the walk visits, in walk order. `rel` is the clean relative path (a byte string). */
export interface WalkEntry {
  rel: string;
  name: string;
  kind: EntryKind;
  target?: string;
}

export interface WalkPlan {
  entries: WalkEntry[];
  /** Relative paths that the rules excluded (an excluded directory's subtree is not listed separately). */
  excluded: string[];
}

export interface PlanOptions {
  /** Patterns given on the command line (`--exclude`): they may exclude anything, ignore files included. */
  exclude?: readonly string[];
  /** Patterns read from the root ignore files. */
  ignoreRules?: readonly string[];
  /**
   * The root ignore files whose rules were read: their own rules cannot exclude them, so a tree cannot add a
   * file, list it and hide the listing (Kosli CLI issue #6785; `TestDirSha256IgnoreFileCannotHideItself`).
   */
  protectedNames?: readonly string[];
}

/**
 * Decides which entries of a listed tree are fingerprinted, in Kosli's order: `filepath.WalkDir` order —
 * depth first, each directory's entries in bytewise name order, the root itself skipped. An excluded
 * directory drops its whole subtree; links to directories are not descended into.
 */
export function planDirWalk(root: TreeNode, options: PlanOptions = {}): WalkPlan {
  const flagRules = options.exclude ?? [];
  const fileRules = options.ignoreRules ?? [];
  flagRules.forEach((p) => checkExcludePattern(p, '--exclude'));
  fileRules.forEach((p) => checkExcludePattern(p, 'ignore file'));
  const excluded = resolveExcludes(root, flagRules);
  const protectedNames = new Set(options.protectedNames ?? []);
  for (const rel of resolveExcludes(root, fileRules)) if (!protectedNames.has(rel)) excluded.add(rel);

  const entries: WalkEntry[] = [];
  const skipped: string[] = [];
  const visit = (node: TreeNode, prefix: string) => {
    for (const child of node.children ?? []) {
      const rel = prefix + child.name;
      if (excluded.has(rel)) {
        skipped.push(rel);
        continue;
      }
      entries.push(child.target === undefined ? { rel, name: child.name, kind: child.kind } : { rel, name: child.name, kind: child.kind, target: child.target });
      if (child.kind === 'dir') visit(child, rel + '/');
    }
  };
  visit(root, '');
  return { entries, excluded: skipped };
}

/**
 * Folds a planned walk into the fingerprint, given each file's content digest (asked for in plan order).
 * Entries that cannot be fingerprinted (broken links, sockets, devices) are refused with the path named.
 */
export function dirFingerprint(plan: WalkPlan, contentDigest: (entry: WalkEntry) => string, names = nameDigests(plan)): string {
  const acc = new DirAccumulator();
  plan.entries.forEach((e, i) => {
    switch (e.kind) {
      case 'dir':
        acc.addDir(e.name, names[i]);
        break;
      case 'symlink-dir':
        acc.addDirSymlink(e.name, e.target ?? '', names[i]);
        break;
      case 'file':
      case 'symlink-file':
        acc.addFile(e.name, contentDigest(e), names[i]);
        break;
      default:
        throw unhashable(fromByteString(e.rel), e.kind);
    }
  });
  return acc.fingerprint();
}

/** The hex SHA-256 of every planned entry's name, in plan order (computed while files are being hashed). */
export function nameDigests(plan: WalkPlan): string[] {
  return plan.entries.map((e) => sha256Hex(e.name));
}

/** The error for an entry that is neither a file, a directory nor a link to one of them. */
export function unhashable(path: string, kind: EntryKind): EvidentError {
  const what = kind === 'symlink-broken' ? 'is a broken symbolic link' : 'is not a regular file, a directory or a symbolic link to one';
  return new EvidentError('INVALID_ARGUMENT', `cannot fingerprint ${path}: it ${what} (leave it out with --exclude)`, {
    details: [{ path, message: what }],
  });
}
