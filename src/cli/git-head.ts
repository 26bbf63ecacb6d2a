import fs from 'node:fs';
import path from 'node:path';

// `begin trail` and `attest artifact` default the commit to `git rev-parse HEAD` in the working directory, as
// Kosli's CLI reads the checkout's HEAD. Spawning git costs every such command 3–5 ms of CPU (and loading
// node:child_process ~3 ms more), also where it finds nothing: in a CI job's empty directory, outside any checkout
// (issue #21, docs/performance.md "Tenth round"). So the checkout is looked for here first, as git looks for it:
// with no `.git` (nor anything that may be a bare repository) from the directory up to the root, git has no
// answer and is not asked. In a checkout, HEAD is read here when it is plain (a hash, or a branch whose ref is a
// loose file or a line of packed-refs); anything else is git's to answer (`ask-git`), so that the commit is
// always the one `git rev-parse HEAD` prints, and never one read from outside the repository.

/** What the working directory's HEAD is: a commit, none (git would find no commit), or a question for git. */
export type GitHead = { kind: 'commit'; commit: string } | { kind: 'none' } | { kind: 'ask-git' };

const NONE: GitHead = { kind: 'none' };
const ASK: GitHead = { kind: 'ask-git' };

// Variables that move the repository or its refs away from where the walk below looks: git's own business.
const RELOCATING = ['GIT_DIR', 'GIT_COMMON_DIR', 'GIT_OBJECT_DIRECTORY', 'GIT_INDEX_FILE', 'GIT_NAMESPACE'];
// Variables that stop git's search early: with them, a checkout found by the walk may not be git's.
const BOUNDING = ['GIT_CEILING_DIRECTORIES', 'GIT_DISCOVERY_ACROSS_FILESYSTEM'];

function lstat(p: string): fs.Stats | undefined {
  try {
    return fs.lstatSync(p, { throwIfNoEntry: false });
  } catch {
    return undefined; // EACCES, ENOTDIR...: as absent; the callers ask git whenever absence matters
  }
}

function read(p: string): string | undefined {
  try {
    return fs.readFileSync(p, 'utf8');
  } catch {
    return undefined;
  }
}

/** The working directory's HEAD as `git rev-parse HEAD` would give it (see GitHead). */
export function gitHead(cwd: string, env: NodeJS.ProcessEnv = process.env): GitHead {
  if (RELOCATING.some((v) => env[v] !== undefined)) return ASK;
  const bounded = BOUNDING.some((v) => env[v] !== undefined);
  let dir = path.resolve(cwd);
  const device = lstat(dir)?.dev;
  if (device === undefined) return ASK;
  // git stops at a mount point (unless GIT_DISCOVERY_ACROSS_FILESYSTEM): past one, what the walk finds is git's.
  let crossed = false;
  for (;;) {
    crossed ||= lstat(dir)?.dev !== device;
    const dotGit = path.join(dir, '.git');
    const st = lstat(dotGit);
    // A `.git` (or a HEAD: this directory may be a bare repository, or inside one) where git would stop: from
    // here on git decides, unless everything is plain. Found across a mount point, or with a ceiling set, it
    // may not be git's checkout at all.
    if (st || lstat(path.join(dir, 'HEAD'))) {
      if (!st || bounded || crossed) return ASK;
      return checkoutHead(dir, dotGit, st, env);
    }
    const parent = path.dirname(dir);
    if (parent === dir) return NONE;
    dir = parent;
  }
}

/** The HEAD of the checkout whose top is `top`: its `.git` a directory, or a file naming the git directory. */
function checkoutHead(top: string, dotGit: string, st: fs.Stats, env: NodeJS.ProcessEnv): GitHead {
  let gitDir = dotGit;
  if (st.isFile()) {
    // A worktree's or a submodule's `.git`: `gitdir: <path>`, relative to the file's directory.
    const m = /^gitdir: (.+?)\r?\n?$/.exec(read(dotGit) ?? '');
    if (!m) return ASK;
    gitDir = path.resolve(top, m[1]!);
  } else if (!st.isDirectory()) return ASK;
  // git refuses a repository that is not the user's (safe.directory): then it is git's to say.
  const uid = process.geteuid?.();
  if (uid === undefined || (uid === 0 && env.SUDO_UID !== undefined)) return ASK;
  for (const p of [top, dotGit, gitDir]) if (lstat(p)?.uid !== uid) return ASK;
  // A worktree's refs are its main repository's (`commondir`); its HEAD is its own.
  const common = read(path.join(gitDir, 'commondir'));
  const commonDir = common === undefined ? gitDir : path.resolve(gitDir, common.replace(/\r?\n$/, ''));
  if (!lstat(path.join(commonDir, 'objects'))?.isDirectory() || !lstat(path.join(commonDir, 'refs'))?.isDirectory()) return ASK;
  const config = read(path.join(commonDir, 'config'));
  // Reftable refs, or an object format other than SHA-1 or SHA-256 (or config git would not read): git's.
  if (config === undefined || /refstorage/i.test(config)) return ASK;
  const hex = /objectformat\s*=\s*sha256/i.test(config) ? 64 : /objectformat/i.test(config) ? 0 : 40;
  if (hex === 0) return ASK;
  const headStat = lstat(path.join(gitDir, 'HEAD'));
  if (!headStat?.isFile()) return ASK; // a symbolic-link HEAD (git's oldest form): git's
  const head = read(path.join(gitDir, 'HEAD'));
  if (head === undefined) return ASK;
  const sha = new RegExp(`^([0-9a-f]{${hex}})\n?$`);
  const detached = sha.exec(head);
  if (detached) return { kind: 'commit', commit: detached[1]! };
  const ref = /^ref: (refs\/heads\/.+?)\n?$/.exec(head)?.[1];
  if (!ref || !plainBranch(ref)) return ASK;
  return branchHead(commonDir, ref, sha);
}

/**
 * A branch name the walk may join onto the git directory: only what check-ref-format allows, and nothing that
 * could lead out of the directory (`..`, a component starting with a dot). Anything else goes to git.
 */
export function plainBranch(ref: string): boolean {
  if (!/^refs\/heads\/[A-Za-z0-9_\-./+]+$/.test(ref)) return false;
  return ref.split('/').every((c) => c !== '' && !c.startsWith('.') && !c.endsWith('.') && !c.endsWith('.lock')) && !ref.includes('..');
}

/** The commit of branch `ref`: its loose ref file, else its line in packed-refs, else none (an unborn branch). */
function branchHead(commonDir: string, ref: string, sha: RegExp): GitHead {
  const loose = path.join(commonDir, ...ref.split('/'));
  const st = lstat(loose);
  if (st) {
    if (!st.isFile()) return ASK; // a directory, a symbolic link (a symbolic ref): git's
    const m = sha.exec(read(loose) ?? '');
    return m ? { kind: 'commit', commit: m[1]! } : ASK;
  }
  const packedPath = path.join(commonDir, 'packed-refs');
  const packedStat = lstat(packedPath);
  if (!packedStat) return NONE;
  if (!packedStat.isFile()) return ASK;
  const packed = read(packedPath);
  if (packed === undefined) return ASK;
  for (const line of packed.split('\n')) {
    if (line.startsWith('#') || line.startsWith('^') || line === '') continue;
    const space = line.indexOf(' ');
    if (line.slice(space + 1).replace(/\r$/, '') !== ref) continue;
    const m = sha.exec(line.slice(0, space));
    return m ? { kind: 'commit', commit: m[1]! } : ASK;
  }
  // Nowhere: an unborn branch (a repository with no commit yet), for which `git rev-parse HEAD` fails.
  return NONE;
}
