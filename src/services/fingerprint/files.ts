import type { Dirent } from 'node:fs';
import fsp from 'node:fs/promises';
import nodePath from 'node:path';
import { EvidentError } from '../../core/index.js';
import {
  IGNORE_FILES, checkExcludePattern, dirFingerprint, fromByteString, nameDigests, parseIgnoreFile, planDirWalk, toByteString, unhashable,
  type TreeNode,
} from '../../formats/index.js';
import { IN_THREAD_MAX, fsError, hashFileStreaming, hashPool, type HashPool } from './hash-pool.js';

// File and directory fingerprints, byte-compatible with the Kosli CLI (`internal/digest`: FileSha256,
// DirSha256). The walk order, the accumulator and the exclude rules are in formats/fingerprint.ts; this
// file does the I/O: it lists the tree once (names as raw bytes), reads the root ignore files, and hashes
// the files in parallel (hash-pool.ts).

type IgnoreFileName = (typeof IGNORE_FILES)[number];

export interface DirFingerprintOptions {
  /** Glob patterns relative to the directory (Go filepath.Match syntax plus `**`). */
  exclude?: readonly string[];
  /** Worker threads for hashing (default: CPU count, at most 8). */
  concurrency?: number;
}

async function statOrThrow(path: string) {
  try {
    return await fsp.stat(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const link = code === 'ENOENT' ? await fsp.lstat(path).then((s) => s.isSymbolicLink(), () => false) : false;
    if (link) throw unhashable(path, 'symlink-broken');
    throw fsError(err, path);
  }
}

/** SHA-256 of a file's bytes (a link is followed). Large files are streamed with large buffers. */
export async function fingerprintFile(path: string): Promise<string> {
  const stat = await statOrThrow(path);
  if (stat.isDirectory()) {
    throw new EvidentError('INVALID_ARGUMENT', `${path} is a directory: fingerprint it with --artifact-type dir`, {
      details: [{ path, message: 'is a directory, not a file' }],
    });
  }
  if (!stat.isFile()) throw unhashable(path, 'other');
  return hashFileStreaming(path);
}

const join = (dir: Buffer, name: Buffer) => Buffer.concat([dir, Buffer.from('/'), name]);

/**
 * Kosli calls os.Stat on a link: a link to a directory is hashed by its target string and not descended
 * into; a link to a file is hashed as the file; a link that cannot be resolved is an error, but only if the
 * walk reaches it (an excluded broken link is fine).
 */
async function classifyLink(node: TreeNode, full: Buffer): Promise<void> {
  const target = await fsp.stat(full).catch(() => undefined);
  if (!target) node.kind = 'symlink-broken';
  else if (target.isDirectory()) {
    node.kind = 'symlink-dir';
    node.target = (await fsp.readlink(full, { encoding: 'buffer' })).toString('latin1');
  } else node.kind = target.isFile() ? 'symlink-file' : 'symlink-other';
}

/**
 * Lists a directory tree; names are byte strings sorted bytewise (the order of Go's os.ReadDir).
 * `onFiles` is told how many files were seen, so hashing workers can start while the listing goes on.
 */
async function listTree(dir: Buffer, onFiles: (count: number) => void): Promise<TreeNode[]> {
  let entries: Dirent<Buffer>[];
  try {
    entries = await fsp.readdir(dir, { withFileTypes: true, encoding: 'buffer' });
  } catch (err) {
    throw fsError(err, dir.toString('utf8'));
  }
  const nodes: TreeNode[] = [];
  const pending: Promise<unknown>[] = [];
  let files = 0;
  for (const entry of entries) {
    const node: TreeNode = { name: entry.name.toString('latin1'), kind: 'other' };
    if (entry.isFile()) {
      node.kind = 'file';
      files++;
    } else if (entry.isDirectory()) {
      node.kind = 'dir';
      pending.push(listTree(join(dir, entry.name), onFiles).then((children) => (node.children = children)));
    } else if (entry.isSymbolicLink()) pending.push(classifyLink(node, join(dir, entry.name)));
    nodes.push(node);
  }
  onFiles(files);
  await Promise.all(pending);
  return nodes.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

interface IgnoreFiles {
  rules: string[];
  names: string[];
}

/** The rules of the root's ignore files, and the names of the files they came from. */
async function readIgnoreFiles(root: Buffer, children: TreeNode[]): Promise<IgnoreFiles> {
  const texts: Partial<Record<IgnoreFileName, string>> = {};
  for (const name of IGNORE_FILES) {
    const node = children.find((c) => c.name === name);
    // A directory of that name carries no rules (Kosli: `TestIgnoreFilePathInTreeIgnoresADirectory`).
    if (!node || (node.kind !== 'file' && node.kind !== 'symlink-file')) continue;
    const path = join(root, Buffer.from(name));
    texts[name] = await fsp.readFile(path, 'utf8').catch((err: unknown) => {
      throw fsError(err, path.toString('utf8'));
    });
  }
  return parseIgnoreTexts(texts);
}

function parseIgnoreTexts(texts: Partial<Record<IgnoreFileName, string>>): IgnoreFiles {
  const rules: string[] = [];
  const names: string[] = [];
  for (const name of IGNORE_FILES) {
    const text = texts[name];
    if (text === undefined) continue;
    rules.push(...parseIgnoreFile(text));
    names.push(name);
  }
  return { rules, names };
}

/** Plans the walk of a listed tree; a bad rule names the ignore files it may have come from. */
function planWithIgnoreFiles(root: TreeNode, exclude: readonly string[], ignore: IgnoreFiles) {
  try {
    return planDirWalk(root, { exclude, ignoreRules: ignore.rules, protectedNames: ignore.names });
  } catch (err) {
    if (err instanceof EvidentError && ignore.names.length > 0) err.message += ` (patterns are read from ${ignore.names.join(' and ')} too)`;
    throw err;
  }
}

/**
 * The Kosli directory fingerprint of `path`, leaving out what `exclude` and the root `.kosli_ignore` /
 * `.evident_ignore` name. A link given as the root is followed.
 */
export async function fingerprintDir(path: string, options: DirFingerprintOptions = {}): Promise<string> {
  const exclude = options.exclude ?? [];
  exclude.forEach((p) => checkExcludePattern(p));
  const stat = await statOrThrow(path);
  if (!stat.isDirectory()) {
    throw new EvidentError('INVALID_ARGUMENT', `${path} is not a directory: fingerprint it with --artifact-type file`, {
      details: [{ path, message: 'is not a directory' }],
    });
  }
  const rootBytes = Buffer.from(nodePath.resolve(path));
  const pool = hashPool(options.concurrency);
  let seen = 0;
  const onFiles = (count: number) => {
    seen += count;
    if (seen > IN_THREAD_MAX) pool.warm(); // cheap once started; also keeps an idle pool from ending
  };
  const root: TreeNode = { name: '', kind: 'dir', children: await listTree(rootBytes, onFiles) };
  return fingerprintListed(path, rootBytes, root, exclude, pool);
}

async function fingerprintListed(path: string, rootBytes: Buffer, root: TreeNode, exclude: readonly string[], pool: HashPool): Promise<string> {
  const plan = planWithIgnoreFiles(root, exclude, await readIgnoreFiles(rootBytes, root.children!));
  const display = (rel: string) => nodePath.join(path, fromByteString(rel));
  const files: string[] = [];
  for (const e of plan.entries) {
    if (e.kind === 'file' || e.kind === 'symlink-file') files.push(e.rel);
    else if (e.kind !== 'dir' && e.kind !== 'symlink-dir') throw unhashable(display(e.rel), e.kind);
  }
  const rootPrefix = rootBytes.toString('latin1') + '/';
  let names: string[] = [];
  // The names are hashed on this thread while the workers hash the contents.
  const digests = await pool.hash(files.map((rel) => rootPrefix + rel), () => (names = nameDigests(plan)));
  let k = 0; // files were listed in plan order, and dirFingerprint asks for them in plan order
  return dirFingerprint(plan, () => digests[k++]!, names);
}

/**
 * A directory described by a list of files — relative `/`-separated paths, as object-store keys are — rather
 * than read from disk (`evident snapshot s3`). Its fingerprint is the one `fingerprintDir` gives the same
 * tree on disk: the same walk plan, exclude rules, root ignore files and accumulator. Kosli does the same
 * for S3 buckets (`digest.VirtualDirSha256`).
 */
export interface FileListPlan {
  /** The paths whose content digests the fingerprint needs, in walk order (excluded files are left out). */
  files: string[];
  /** The paths (files or whole directories) that the rules excluded. */
  excluded: string[];
  fingerprint(contentSha256: (path: string) => string): string;
}

export interface FileListOptions {
  /** Glob patterns relative to the root, as `--exclude` of `fingerprintDir`. */
  exclude?: readonly string[];
  /** The text of the root's `.kosli_ignore` / `.evident_ignore`, when the list holds them. */
  ignoreFiles?: Partial<Record<IgnoreFileName, string>>;
}

/** Builds the tree of a list of clean relative file paths (no empty, `.` or `..` segments). */
function treeOfPaths(paths: readonly string[]): TreeNode {
  const root: TreeNode = { name: '', kind: 'dir', children: [] };
  const nodes = new Map<string, TreeNode>([['', root]]);
  const refuse = (path: string, why: string) => new EvidentError('INVALID_ARGUMENT', `cannot fingerprint ${JSON.stringify(path)}: ${why}`, { details: [{ path, message: why }] });
  for (const path of paths) {
    const parts = toByteString(path).split('/');
    if (parts.some((p) => p === '' || p === '.' || p === '..')) throw refuse(path, 'not a clean relative path');
    let parent = root;
    let rel = '';
    for (const [i, name] of parts.entries()) {
      rel = rel === '' ? name : `${rel}/${name}`;
      const kind = i === parts.length - 1 ? 'file' : 'dir';
      const existing = nodes.get(rel);
      if (existing && (existing.kind !== kind || kind === 'file')) {
        throw refuse(fromByteString(rel), existing.kind === kind ? 'listed twice' : 'both a file and a directory');
      }
      const node = existing ?? { name, kind, ...(kind === 'dir' ? { children: [] } : {}) };
      if (!existing) {
        nodes.set(rel, node);
        parent.children!.push(node);
      }
      parent = node;
    }
  }
  // Children in bytewise name order, as os.ReadDir lists them (DESIGN.md §4).
  for (const node of nodes.values()) node.children?.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return root;
}

/** Plans the fingerprint of a directory given as a list of file paths; see FileListPlan. */
export function planFileList(paths: readonly string[], options: FileListOptions = {}): FileListPlan {
  const exclude = options.exclude ?? [];
  exclude.forEach((p) => checkExcludePattern(p));
  const bytePaths = new Map(paths.map((p) => [toByteString(p), p]));
  const plan = planWithIgnoreFiles(treeOfPaths(paths), exclude, parseIgnoreTexts(options.ignoreFiles ?? {}));
  const original = (rel: string) => bytePaths.get(rel) ?? fromByteString(rel);
  return {
    files: plan.entries.filter((e) => e.kind === 'file').map((e) => original(e.rel)),
    excluded: plan.excluded.map(original),
    fingerprint: (contentSha256) => dirFingerprint(plan, (e) => contentSha256(original(e.rel))),
  };
}

/** The Kosli directory fingerprint of the tree that these (relative path, content SHA-256) pairs describe. */
export function fingerprintFileList(files: readonly { path: string; sha256: string }[], options: FileListOptions = {}): string {
  const digests = new Map(files.map((f) => [f.path, f.sha256]));
  return planFileList(files.map((f) => f.path), options).fingerprint((path) => digests.get(path)!);
}
