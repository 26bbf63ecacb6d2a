import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { EvidentError } from '../core/index.js';

/** `--annotate k=v`, repeatable: collects into an object. */
export function collectAnnotation(value: string, previous: Record<string, string> | undefined): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new EvidentError('INVALID_ARGUMENT', `--annotate takes KEY=VALUE, not ${JSON.stringify(value)}`);
  return { ...(previous ?? {}), [value.slice(0, eq)]: value.slice(eq + 1) };
}

/** Reads a JSON file given by a flag, naming the flag, the file and the position of a syntax error. */
export function readJsonFile(flag: string, file: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new EvidentError('INVALID_ARGUMENT', `${flag}: cannot read ${file}: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new EvidentError('INVALID_ARGUMENT', `${flag}: ${file} is not valid JSON: ${(err as Error).message}`);
  }
}

export function readTextFile(flag: string, file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new EvidentError('INVALID_ARGUMENT', `${flag}: cannot read ${file}: ${(err as Error).message}`);
  }
}

/** `--compliant=true|false` (Kosli's form); `-C=false` reaches here as `=false` (commander keeps the `=` of a short flag). */
export function parseBool(flag: string) {
  return (raw: string): boolean => {
    const value = raw.startsWith('=') ? raw.slice(1) : raw;
    if (value === 'true' || value === '1') return true;
    if (value === 'false' || value === '0') return false;
    throw new EvidentError('INVALID_ARGUMENT', `${flag} must be true or false, not ${JSON.stringify(value)}`);
  };
}

export interface CiDefaults {
  commit?: string;
  /** When the commit was made (RFC 3339), read from git when the commit is in the repository here. */
  commitTime?: string;
  commitUrl?: string;
  buildUrl?: string;
}

/**
 * In GitHub Actions and GitLab CI the commit, commit URL and build URL default from the environment
 * variables those systems set, as Kosli's CLI does.
 */
export function ciDefaults(env: NodeJS.ProcessEnv = process.env): CiDefaults {
  if (env.GITHUB_ACTIONS === 'true' && env.GITHUB_SHA) {
    const repo = `${env.GITHUB_SERVER_URL ?? 'https://github.com'}/${env.GITHUB_REPOSITORY ?? ''}`;
    return {
      commit: env.GITHUB_SHA,
      commitUrl: `${repo}/commit/${env.GITHUB_SHA}`,
      buildUrl: env.GITHUB_RUN_ID ? `${repo}/actions/runs/${env.GITHUB_RUN_ID}` : undefined,
    };
  }
  if (env.GITLAB_CI === 'true' && env.CI_COMMIT_SHA) {
    return {
      commit: env.CI_COMMIT_SHA,
      commitUrl: env.CI_PROJECT_URL ? `${env.CI_PROJECT_URL}/-/commit/${env.CI_COMMIT_SHA}` : undefined,
      buildUrl: env.CI_JOB_URL ?? env.CI_PIPELINE_URL,
    };
  }
  return {};
}

function git(args: string[], cwd: string): string | undefined {
  try {
    return execFileSync('git', args, { cwd, stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 }).toString('utf8').trim() || undefined;
  } catch {
    return undefined; // not a git repository, or no git: the flags must say
  }
}

/** `https://github.com/o/r` from `git@github.com:o/r.git` or `https://github.com/o/r.git`; undefined otherwise. */
export function webUrlOfRemote(remote: string): string | undefined {
  const ssh = /^git@([^:]+):(.+?)(?:\.git)?$/.exec(remote);
  if (ssh) return `https://${ssh[1]}/${ssh[2]}`;
  try {
    const url = new URL(remote);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
    return `${url.protocol}//${url.host}${url.pathname.replace(/\.git$/, '')}`;
  } catch {
    return undefined;
  }
}

/**
 * Defaults for the commit and its URL: from the CI system's environment, else from the git repository
 * in `cwd` (HEAD, and a commit link when `origin` is on GitHub or GitLab).
 */
export function commitDefaults(cwd = process.cwd(), env: NodeJS.ProcessEnv = process.env): CiDefaults {
  const ci = ciDefaults(env);
  if (ci.commit) return { ...ci, commitTime: commitTime(ci.commit, cwd) };
  const commit = git(['rev-parse', 'HEAD'], cwd);
  if (!commit) return {};
  const remote = git(['remote', 'get-url', 'origin'], cwd);
  const web = remote ? webUrlOfRemote(remote) : undefined;
  const commitUrl = web === undefined ? undefined : web.includes('gitlab') ? `${web}/-/commit/${commit}` : `${web}/commit/${commit}`;
  return { commit, commitUrl, commitTime: commitTime(commit, cwd) };
}

/** The committer date of `commit` (RFC 3339) if the repository in `cwd` has it: the start of DORA lead time. */
export function commitTime(commit: string, cwd = process.cwd()): string | undefined {
  return /^[0-9a-f]{7,64}$/.test(commit) ? git(['show', '-s', '--format=%cI', commit], cwd) : undefined;
}

/** `a,b` and repeated flags both add names (Kosli's filter flags take comma-separated lists). */
export function collectNames(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), ...value.split(',').map((s) => s.trim()).filter(Boolean)];
}

/** Like collectNames, but a comma inside `{m,n}` belongs to the regular expression. */
export function collectPatterns(value: string, previous: string[] | undefined): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of value) {
    if (ch === '{') depth++;
    if (ch === '}' && depth > 0) depth--;
    if (ch === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else current += ch;
  }
  parts.push(current);
  return [...(previous ?? []), ...parts.map((s) => s.trim()).filter(Boolean)];
}
