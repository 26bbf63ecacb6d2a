import { execFileSync } from 'node:child_process';
import { describe, expect, it, vi } from 'vitest';
import { ciDefaults, ciWarning, commitDefaults, webUrlOfRemote } from '../../src/cli/flags.js';
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

  it('outside a checkout, do not run git at all (it would find nothing)', () => {
    const spy = vi.spyOn(process, 'getBuiltinModule');
    try {
      expect(commitDefaults(tempDir('evident-nogit-'), {})).toEqual({});
      expect(commitDefaults(tempDir('evident-nogit-'), { GITHUB_ACTIONS: 'true', GITHUB_SHA: 'f'.repeat(40) })).toEqual({
        commit: 'f'.repeat(40), commitUrl: undefined, buildUrl: undefined, commitTime: undefined,
      });
      expect(spy.mock.calls.filter(([name]) => name === 'node:child_process')).toEqual([]);
    } finally {
      spy.mockRestore();
    }
  });

  it('in a checkout with no git installed, have no commit (as when git itself answered)', () => {
    const repo = tempDir('evident-git-');
    execFileSync('git', ['init', '-q'], { cwd: repo });
    execFileSync('git', ['-c', 'user.email=a@b', '-c', 'user.name=a', 'commit', '-q', '--allow-empty', '-m', 'x'], { cwd: repo });
    const saved = process.env.PATH;
    process.env.PATH = tempDir('evident-empty-path-');
    try {
      expect(commitDefaults(repo, {})).toEqual({});
    } finally {
      process.env.PATH = saved;
    }
  });

  it('turn remotes into web URLs', () => {
    expect(webUrlOfRemote('https://gitlab.com/g/p.git')).toBe('https://gitlab.com/g/p');
    expect(webUrlOfRemote('git@github.com:o/r.git')).toBe('https://github.com/o/r');
    expect(webUrlOfRemote('/srv/git/repo')).toBeUndefined();
    expect(webUrlOfRemote('ssh://git@host/x')).toBeUndefined();
  });
});

describe('CI defaults in every CI system Kosli supports (issue 15)', () => {
  const SHA = 'a'.repeat(40);
  it('detects the system as Kosli does and fills the commit, commit URL and build URL from its variables', () => {
    expect(ciDefaults({ BITBUCKET_BUILD_NUMBER: '5', BITBUCKET_COMMIT: SHA, BITBUCKET_WORKSPACE: 'acme', BITBUCKET_REPO_SLUG: 'app' })).toEqual({
      commit: SHA, commitUrl: `https://bitbucket.org/acme/app/commits/${SHA}`, buildUrl: 'https://bitbucket.org/acme/app/addon/pipelines/home#!/results/5',
    });
    expect(ciDefaults({ TF_BUILD: 'True', BUILD_SOURCEVERSION: SHA, SYSTEM_COLLECTIONURI: 'https://dev.azure.com/acme/', SYSTEM_TEAMPROJECT: 'proj', BUILD_REPOSITORY_NAME: 'app', BUILD_BUILDID: '9' })).toEqual({
      commit: SHA, commitUrl: `https://dev.azure.com/acme/proj/_git/app/commit/${SHA}`, buildUrl: 'https://dev.azure.com/acme/proj/_build/results?buildId=9',
    });
    expect(ciDefaults({ CIRCLECI: 'true', CIRCLE_SHA1: SHA, CIRCLE_REPOSITORY_URL: 'https://github.com/o/r', CIRCLE_BUILD_URL: 'https://circleci.com/b/1' })).toEqual({
      commit: SHA, commitUrl: `https://github.com/o/r/commit/${SHA}`, buildUrl: 'https://circleci.com/b/1',
    });
    expect(ciDefaults({ JENKINS_URL: 'https://ci', GIT_COMMIT: SHA, GIT_URL: 'git@github.com:o/r.git', BUILD_URL: 'https://ci/job/1/' })).toEqual({
      commit: SHA, commitUrl: `https://github.com/o/r/commit/${SHA}`, buildUrl: 'https://ci/job/1/',
    });
    expect(ciDefaults({ TEAMCITY_VERSION: '2024', BUILD_VCS_NUMBER: SHA })).toEqual({ commit: SHA, commitUrl: undefined, buildUrl: undefined });
    expect(ciDefaults({ CODEBUILD_CI: 'true', CODEBUILD_RESOLVED_SOURCE_VERSION: SHA, CODEBUILD_SOURCE_REPO_URL: 'https://github.com/o/r', CODEBUILD_BUILD_URL: 'https://aws/b' })).toEqual({
      commit: SHA, commitUrl: `https://github.com/o/r/commit/${SHA}`, buildUrl: 'https://aws/b',
    });
    // Kosli keys GitHub on GITHUB_RUN_NUMBER
    expect(ciDefaults({ GITHUB_RUN_NUMBER: '3', GITHUB_SHA: SHA, GITHUB_SERVER_URL: 'https://github.com', GITHUB_REPOSITORY: 'o/r', GITHUB_RUN_ID: '7' }).buildUrl).toBe('https://github.com/o/r/actions/runs/7');
    // a template with a variable missing gives no link rather than a broken one
    expect(ciDefaults({ BITBUCKET_BUILD_NUMBER: '5', BITBUCKET_COMMIT: SHA }).commitUrl).toBeUndefined();
  });

  it('warns when no CI system is detected and the commit or build URL is missing', () => {
    expect(ciWarning({ commit: SHA, buildUrl: 'https://ci/1' }, {})).toBeUndefined();
    expect(ciWarning({}, {})).toMatch(/no CI system detected .* --commit and --build-url not given/);
    expect(ciWarning({ commit: SHA }, { CIRCLECI: 'true' })).toMatch(/--build-url not given and not found in circleci/);
  });
});
