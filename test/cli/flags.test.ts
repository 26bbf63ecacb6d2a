import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ciDefaults, commitDefaults, webUrlOfRemote } from '../../src/cli/flags.js';
import { tempDir } from '../helpers/engines.js';

describe('commit defaults', () => {
  it('come from GitHub Actions and GitLab CI variables', () => {
    expect(ciDefaults({ GITHUB_ACTIONS: 'true', GITHUB_SHA: 'abc1234', GITHUB_SERVER_URL: 'https://github.com', GITHUB_REPOSITORY: 'o/r', GITHUB_RUN_ID: '9' })).toEqual({
      commit: 'abc1234', commitUrl: 'https://github.com/o/r/commit/abc1234', buildUrl: 'https://github.com/o/r/actions/runs/9',
    });
    expect(ciDefaults({ GITLAB_CI: 'true', CI_COMMIT_SHA: 'abc1234', CI_PROJECT_URL: 'https://gitlab.com/g/p', CI_JOB_URL: 'https://gitlab.com/g/p/-/jobs/1' })).toEqual({
      commit: 'abc1234', commitUrl: 'https://gitlab.com/g/p/-/commit/abc1234', buildUrl: 'https://gitlab.com/g/p/-/jobs/1',
    });
    expect(ciDefaults({})).toEqual({});
  });

  it('else come from the git repository: HEAD, and a commit link for a GitHub or GitLab origin', () => {
    const repo = tempDir('evident-git-');
    const env = { ...process.env, GIT_COMMITTER_DATE: '2026-11-29T10:00:00+01:00' };
    const git = (...args: string[]) => execFileSync('git', args, { cwd: repo, stdio: 'pipe', env }).toString().trim();
    git('init', '-q');
    git('-c', 'user.email=a@b', '-c', 'user.name=a', 'commit', '-q', '--allow-empty', '-m', 'x');
    const head = git('rev-parse', 'HEAD');
    const commitTime = '2026-11-29T10:00:00+01:00'; // the committer date: the start of DORA lead time
    expect(commitDefaults(repo, {})).toEqual({ commit: head, commitUrl: undefined, commitTime });
    git('remote', 'add', 'origin', 'git@github.com:cyber-dojo/runner.git');
    expect(commitDefaults(repo, {})).toEqual({ commit: head, commitUrl: `https://github.com/cyber-dojo/runner/commit/${head}`, commitTime });
    expect(commitDefaults(repo, { GITHUB_ACTIONS: 'true', GITHUB_SHA: head }).commitTime).toBe(commitTime);
    expect(commitDefaults(repo, { GITHUB_ACTIONS: 'true', GITHUB_SHA: 'f'.repeat(40) }).commitTime).toBeUndefined();
    expect(commitDefaults(tempDir('evident-nogit-'), {})).toEqual({});
  });

  it('turn remotes into web URLs', () => {
    expect(webUrlOfRemote('https://gitlab.com/g/p.git')).toBe('https://gitlab.com/g/p');
    expect(webUrlOfRemote('git@github.com:o/r.git')).toBe('https://github.com/o/r');
    expect(webUrlOfRemote('/srv/git/repo')).toBeUndefined();
    expect(webUrlOfRemote('ssh://git@host/x')).toBeUndefined();
  });
});
