import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { gitHead, plainBranch, type GitHead } from '../../src/cli/git-head.js';
import { tempDir } from '../helpers/engines.js';

// git-head.ts reads HEAD without git where it can: every answer is checked against real git's `rev-parse HEAD`.

/** This process's environment without git's own variables (a hook running the tests would set GIT_DIR). */
const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('GIT_')));
const ENV = { ...clean, GIT_CONFIG_NOSYSTEM: '1', GIT_AUTHOR_NAME: 'a', GIT_AUTHOR_EMAIL: 'a@b', GIT_COMMITTER_NAME: 'a', GIT_COMMITTER_EMAIL: 'a@b' };

function run(cwd: string, args: string[], env: NodeJS.ProcessEnv = ENV): { status: number | null; out: string } {
  const res = spawnSync('git', args, { cwd, env, encoding: 'utf8' });
  return { status: res.status, out: res.stdout.trim() };
}
function git(cwd: string, ...args: string[]): string {
  const res = run(cwd, args);
  if (res.status !== 0) throw new Error(`git ${args.join(' ')} failed`);
  return res.out;
}
/** What `git rev-parse HEAD` says in `cwd`: the commit, or undefined when it fails. */
function revParse(cwd: string, env: NodeJS.ProcessEnv = ENV): string | undefined {
  const res = run(cwd, ['rev-parse', 'HEAD'], env);
  return res.status === 0 ? res.out : undefined;
}
/** The reader agrees with git: the same commit, none where git has none, or it leaves the answer to git. */
function agrees(cwd: string, env: NodeJS.ProcessEnv = ENV): GitHead {
  const head = gitHead(cwd, env);
  const expected = revParse(cwd, env);
  if (head.kind === 'commit') expect(head.commit).toBe(expected);
  if (head.kind === 'none') expect(expected).toBeUndefined();
  return head;
}
function repo(): string {
  const dir = tempDir('evident-git-head-');
  git(dir, 'init', '-q', '-b', 'main');
  return dir;
}
function commit(dir: string, message = 'x'): string {
  git(dir, 'commit', '-q', '--allow-empty', '-m', message);
  return git(dir, 'rev-parse', 'HEAD');
}

describe('gitHead, against git rev-parse HEAD', () => {
  it('outside any checkout: none, without git', () => {
    const dir = tempDir('evident-git-head-none-');
    fs.mkdirSync(path.join(dir, 'a/b'), { recursive: true });
    expect(agrees(path.join(dir, 'a/b'))).toEqual({ kind: 'none' });
  });

  it('a fresh repository with no commit: none (an unborn branch)', () => {
    const dir = repo();
    expect(agrees(dir)).toEqual({ kind: 'none' });
    fs.mkdirSync(path.join(dir, 'sub'));
    expect(agrees(path.join(dir, 'sub'))).toEqual({ kind: 'none' });
  });

  it('a loose branch ref, from the top and from a subdirectory', () => {
    const dir = repo();
    const sha = commit(dir);
    expect(agrees(dir)).toEqual({ kind: 'commit', commit: sha });
    fs.mkdirSync(path.join(dir, 'deep/er'), { recursive: true });
    expect(agrees(path.join(dir, 'deep/er'))).toEqual({ kind: 'commit', commit: sha });
    git(dir, 'checkout', '-q', '-b', 'feature/x.y');
    const next = commit(dir, 'y');
    expect(agrees(dir)).toEqual({ kind: 'commit', commit: next });
  });

  it('packed refs, and a loose ref that overrides its packed line', () => {
    const dir = repo();
    const first = commit(dir);
    git(dir, 'branch', 'other');
    git(dir, 'pack-refs', '--all');
    expect(fs.existsSync(path.join(dir, '.git/refs/heads/main'))).toBe(false);
    expect(agrees(dir)).toEqual({ kind: 'commit', commit: first });
    const second = commit(dir, 'y'); // written loose again, beside the stale packed line
    expect(agrees(dir)).toEqual({ kind: 'commit', commit: second });
    git(dir, 'checkout', '-q', 'other');
    expect(agrees(dir)).toEqual({ kind: 'commit', commit: first });
  });

  it('a detached HEAD', () => {
    const dir = repo();
    const first = commit(dir);
    commit(dir, 'y');
    git(dir, 'checkout', '-q', '--detach', first);
    expect(agrees(dir)).toEqual({ kind: 'commit', commit: first });
  });

  it('a worktree (a .git file naming the git directory, refs in the common directory)', () => {
    const dir = repo();
    commit(dir);
    const wt = path.join(tempDir('evident-git-head-wt-'), 'wt');
    git(dir, 'worktree', 'add', '-q', '-b', 'side', wt);
    const side = commit(wt, 'side');
    expect(fs.statSync(path.join(wt, '.git')).isFile()).toBe(true);
    expect(agrees(wt)).toEqual({ kind: 'commit', commit: side });
    git(dir, 'pack-refs', '--all');
    expect(agrees(wt)).toEqual({ kind: 'commit', commit: side });
    git(wt, 'checkout', '-q', '--detach', 'main');
    expect(agrees(wt)).toEqual({ kind: 'commit', commit: git(dir, 'rev-parse', 'main') });
  });

  it('a submodule-style gitdir file, relative to its directory', () => {
    const top = tempDir('evident-git-head-sub-');
    const store = path.join(top, 'store.git');
    const work = path.join(top, 'work');
    fs.mkdirSync(work);
    git(top, 'init', '-q', '-b', 'main', '--separate-git-dir', store, work);
    expect(fs.readFileSync(path.join(work, '.git'), 'utf8')).toMatch(/^gitdir: /);
    fs.writeFileSync(path.join(work, '.git'), 'gitdir: ../store.git\n');
    expect(agrees(work)).toEqual({ kind: 'none' });
    const sha = commit(work);
    expect(agrees(work)).toEqual({ kind: 'commit', commit: sha });
  });

  it('GIT_DIR and the variables that bound git\'s search: git answers', () => {
    const dir = repo();
    const sha = commit(dir);
    const elsewhere = tempDir('evident-git-head-elsewhere-');
    expect(agrees(elsewhere, { ...ENV, GIT_DIR: path.join(dir, '.git') })).toEqual({ kind: 'ask-git' });
    expect(revParse(elsewhere, { ...ENV, GIT_DIR: path.join(dir, '.git') })).toBe(sha);
    expect(agrees(dir, { ...ENV, GIT_CEILING_DIRECTORIES: path.dirname(dir) })).toEqual({ kind: 'ask-git' });
    // GIT_WORK_TREE does not move HEAD: read as without it.
    expect(agrees(dir, { ...ENV, GIT_WORK_TREE: dir })).toEqual({ kind: 'commit', commit: sha });
  });

  it('a bare repository, or a directory that may be one: git answers', () => {
    const top = tempDir('evident-git-head-bare-');
    git(top, 'init', '-q', '--bare', 'b.git');
    expect(agrees(path.join(top, 'b.git'))).toEqual({ kind: 'ask-git' });
    expect(agrees(path.join(top, 'b.git/refs'))).toEqual({ kind: 'ask-git' });
  });

  it('a hostile or corrupt HEAD is never followed out of the git directory, nor read as a commit', () => {
    const dir = repo();
    const sha = commit(dir);
    const outside = path.join(path.dirname(dir), `${path.basename(dir)}-secret`);
    fs.writeFileSync(outside, `${'e'.repeat(40)}\n`);
    const head = path.join(dir, '.git/HEAD');
    for (const text of [
      `ref: ../../${path.basename(outside)}\n`, `ref: refs/heads/../../../${path.basename(outside)}\n`, `ref: ${outside}\n`,
      'ref: refs/heads/.hidden\n', 'ref: refs/heads/a..b\n', 'garbage\n', '', `${'E'.repeat(40)}\n`, `${sha.slice(0, 39)}\n`, `${sha}x\n`,
    ]) {
      fs.writeFileSync(head, text);
      const got = agrees(dir);
      expect(got.kind, JSON.stringify(text)).not.toBe('commit');
    }
    // A loose ref with garbage, or a symbolic link out of the repository: git answers (and git says none here).
    fs.writeFileSync(head, 'ref: refs/heads/main\n');
    fs.writeFileSync(path.join(dir, '.git/refs/heads/main'), 'not a sha\n');
    expect(agrees(dir)).toEqual({ kind: 'ask-git' });
    fs.rmSync(path.join(dir, '.git/refs/heads/main'));
    fs.symlinkSync(outside, path.join(dir, '.git/refs/heads/main'));
    expect(agrees(dir)).toEqual({ kind: 'ask-git' });
    // A symbolic-link HEAD: git's oldest form, left to git.
    fs.rmSync(path.join(dir, '.git/refs/heads/main'));
    fs.writeFileSync(path.join(dir, '.git/refs/heads/main'), `${sha}\n`);
    fs.rmSync(head);
    fs.symlinkSync('refs/heads/main', head);
    expect(agrees(dir)).toEqual({ kind: 'ask-git' });
  });

  it('a .git file naming nothing, or not a gitdir line: git answers', () => {
    const dir = tempDir('evident-git-head-badfile-');
    fs.writeFileSync(path.join(dir, '.git'), 'gitdir: /nonexistent/evident\n');
    expect(agrees(dir)).toEqual({ kind: 'ask-git' });
    fs.writeFileSync(path.join(dir, '.git'), 'hello\n');
    expect(agrees(dir)).toEqual({ kind: 'ask-git' });
  });

  it('reftable refs and unknown object formats are left to git', () => {
    const dir = repo();
    commit(dir);
    const config = path.join(dir, '.git/config');
    const plain = fs.readFileSync(config, 'utf8');
    fs.writeFileSync(config, `${plain}[extensions]\n\trefStorage = reftable\n`);
    expect(gitHead(dir, ENV)).toEqual({ kind: 'ask-git' });
    fs.writeFileSync(config, `${plain}[extensions]\n\tobjectFormat = sha512\n`);
    expect(gitHead(dir, ENV)).toEqual({ kind: 'ask-git' });
  });

  it('a SHA-256 repository', () => {
    const dir = tempDir('evident-git-head-256-');
    if (run(dir, ['init', '-q', '-b', 'main', '--object-format=sha256']).status !== 0) return; // a git without SHA-256
    const sha = commit(dir);
    expect(sha).toHaveLength(64);
    expect(agrees(dir)).toEqual({ kind: 'commit', commit: sha });
  });
});

describe('plainBranch', () => {
  it('takes only branch names that stay inside the git directory', () => {
    for (const ok of ['refs/heads/main', 'refs/heads/feature/x.y', 'refs/heads/a-b_c+d']) expect(plainBranch(ok), ok).toBe(true);
    for (const bad of ['refs/heads/../x', 'refs/heads/.x', 'refs/heads/x/', 'refs/heads/x.lock', 'refs/heads//x', 'refs/heads/x.', 'refs/tags/v1', '../../etc/passwd', 'refs/heads/a b', 'refs/heads/']) {
      expect(plainBranch(bad), bad).toBe(false);
    }
  });

  it('never lets a name lead out of refs/heads', () => {
    fc.assert(fc.property(fc.array(fc.constantFrom('a', '.', '/', '..', 'x.lock', '-', '~', '\\'), { maxLength: 8 }), (parts) => {
      const ref = `refs/heads/${parts.join('')}`;
      if (!plainBranch(ref)) return;
      const joined = path.posix.normalize(ref);
      expect(joined).toBe(ref);
      expect(joined.startsWith('refs/heads/')).toBe(true);
    }));
  });
});
