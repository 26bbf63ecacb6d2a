import fs from 'node:fs';
import path from 'node:path';
import { STATE_DIR, coversPath, isGlobSegment, segmentMatches, type Pattern } from './patterns.js';

// Expanding the `inputs` / `outputs` patterns of a step into files on disk: directories stand for every
// file under them, `**` for any number of directories, results sorted by path. Synchronous on purpose: a
// warm run stats a few hundred files, and one synchronous stat costs a few microseconds where a promise
// round trip through the thread pool costs tens.

export interface FoundFile {
  /** Workspace-relative, `/`-separated. */
  rel: string;
  abs: string;
  /** stat() of the file (a link followed), or lstat() of a link to a directory. */
  stat: fs.Stats;
  /** Set for an input that is a symbolic link to a directory: recorded by its target, not descended. */
  linkTarget?: string;
}

export interface Expansion {
  files: FoundFile[];
  /** Literal patterns that name nothing on disk. */
  missing: string[];
  /** Symbolic links found where outputs are collected (recorded as links: docs/cache.md). */
  links: string[];
  /** Input paths reached through a symbolic link that leaves the workspace (refused unless allowed). */
  outside: string[];
}

export interface ExpandOptions {
  /** 'input': links to files are followed; 'output': links are reported, never followed. */
  mode: 'input' | 'output';
  /** Paths under these patterns are left out (a step's own outputs are not its inputs). */
  exclude?: readonly Pattern[];
  /**
   * Told about every look at the disk the expansion depends on (replay.ts records them, so that a later
   * run can tell without expanding again that the expansion would come out the same).
   */
  probe?: ExpansionProbe;
  /** Inputs may be reached through links leaving the workspace (attest.yaml allow_outside_symlinks). */
  allowOutsideSymlinks?: boolean;
}

/** `stat` / `lstat` of a path (undefined: missing), or `list` of a directory with its stat at that time. */
export type ExpansionProbe = (kind: 'stat' | 'lstat' | 'list', rel: string, stat: fs.Stats | undefined) => void;

const join = (dir: string, name: string) => (dir === '' ? name : `${dir}/${name}`);

export function expandPatterns(workspace: string, patterns: readonly Pattern[], options: ExpandOptions): Expansion {
  const found = new Map<string, FoundFile>();
  const missing: string[] = [];
  const links = new Set<string>();
  const excluded = (rel: string) => (rel === STATE_DIR || (options.exclude ?? []).some((p) => coversPath(p, rel)));
  const abs = (rel: string) => path.join(workspace, rel);
  const probe = options.probe;
  const outside: string[] = [];
  let root: string | undefined;
  /**
   * Whether the input at `rel` (found through a link) resolves inside the workspace. ATTEST refuses input
   * links that escape the workspace (SymlinkEscape); so does Evident, unless allowed.
   */
  const escapes = (rel: string): boolean => {
    if (options.mode !== 'input' || options.allowOutsideSymlinks) return false;
    root ??= fs.realpathSync.native(workspace);
    let real: string;
    try {
      real = fs.realpathSync.native(abs(rel));
    } catch {
      return false; // broken: reported as missing
    }
    if (real === root || real.startsWith(root + path.sep)) return false;
    outside.push(rel);
    return true;
  };
  const lstat = (rel: string) => {
    const st = fs.lstatSync(abs(rel), { throwIfNoEntry: false });
    probe?.('lstat', rel, st);
    return st;
  };
  const stat = (rel: string) => {
    const st = fs.statSync(abs(rel), { throwIfNoEntry: false });
    probe?.('stat', rel, st);
    return st;
  };
  const list = (rel: string): fs.Dirent[] => {
    // Entries added or removed change the directory's mtime: its stat stands for the listing.
    if (probe) probe('list', rel, fs.statSync(abs(rel), { throwIfNoEntry: false }));
    try {
      return fs.readdirSync(abs(rel), { withFileTypes: true });
    } catch {
      return [];
    }
  };

  /** Everything under `rel`; `named` when the pattern spelled this path out (a named link is followed). */
  const addTree = (rel: string, named: boolean): void => {
    if (excluded(rel) || found.has(rel)) return;
    const st = lstat(rel);
    if (!st) return;
    if (st.isSymbolicLink()) {
      if (options.mode === 'output') return void links.add(rel);
      if (escapes(rel)) return;
      const target = stat(rel);
      if (!target) return void missing.push(`${rel} (a broken symbolic link)`);
      if (target.isFile()) return void found.set(rel, { rel, abs: abs(rel), stat: target });
      if (target.isDirectory() && named) return addChildren(rel);
      if (target.isDirectory()) found.set(rel, { rel, abs: abs(rel), stat: st, linkTarget: fs.readlinkSync(abs(rel)) });
      return;
    }
    if (st.isFile()) found.set(rel, { rel, abs: abs(rel), stat: st });
    else if (st.isDirectory()) addChildren(rel);
  };
  const addChildren = (rel: string): void => {
    for (const entry of list(rel)) addTree(join(rel, entry.name), false);
  };

  const match = (pattern: Pattern, dir: string, i: number): void => {
    if (i === pattern.segments.length) return addTree(dir, !pattern.glob);
    const segment = pattern.segments[i]!;
    if (segment === '**') {
      match(pattern, dir, i + 1);
      for (const entry of list(dir)) {
        const child = join(dir, entry.name);
        if (entry.isDirectory() && !excluded(child)) match(pattern, child, i);
      }
      return;
    }
    if (!isGlobSegment(segment)) {
      const child = join(dir, segment);
      if (i + 1 === pattern.segments.length) return addTree(child, !pattern.glob);
      if (options.mode === 'output' && lstat(child)?.isSymbolicLink()) return void links.add(child);
      if (stat(child)?.isDirectory()) match(pattern, child, i + 1);
      return;
    }
    for (const entry of list(dir)) {
      if (!segmentMatches(segment, entry.name)) continue;
      const child = join(dir, entry.name);
      if (i + 1 === pattern.segments.length) addTree(child, false);
      else if (entry.isDirectory()) match(pattern, child, i + 1);
    }
  };

  for (const pattern of patterns) {
    if (pattern.glob) {
      match(pattern, '', 0);
      continue;
    }
    // A plain path: one lstat tells whether it is there (the common case of a warm run).
    const rel = pattern.segments.join('/');
    if (options.mode === 'output' || pattern.segments.length === 1) {
      if (!lstat(rel)) missing.push(pattern.source);
      else if (options.mode === 'output') match(pattern, '', 0);
      else addTree(rel, true);
    } else if (!stat(rel) && !lstat(rel)) missing.push(pattern.source);
    else if (!linkedParentEscapes(rel)) addTree(rel, true);
  }
  /** A plain multi-segment input whose directories include a link: its real place must be inside. */
  function linkedParentEscapes(rel: string): boolean {
    if (options.mode !== 'input' || options.allowOutsideSymlinks) return false;
    const parent = rel.slice(0, rel.lastIndexOf('/'));
    root ??= fs.realpathSync.native(workspace);
    let real: string;
    try {
      real = fs.realpathSync.native(abs(parent));
    } catch {
      return false;
    }
    return real !== path.join(root, parent) && escapes(rel);
  }
  const files = [...found.values()].sort((a, b) => compareBytes(a.rel, b.rel));
  return { files, missing, links: [...links].sort(compareBytes), outside: [...new Set(outside)].sort(compareBytes) };
}

const SURROGATE = /[\uD800-\uDFFF]/;

/**
 * Order of UTF-8 bytes (= code points), the order of every sorted list the cache key hashes. UTF-16 code
 * unit order is the same except around surrogate pairs, so only those pay for the byte comparison.
 */
export function compareBytes(a: string, b: string): number {
  if (a === b) return 0;
  if (SURROGATE.test(a) || SURROGATE.test(b)) return Buffer.compare(Buffer.from(a), Buffer.from(b));
  return a < b ? -1 : 1;
}
