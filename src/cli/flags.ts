import fs from 'node:fs';
import { EvidentError } from '../core/index.js';
import { tagParser } from './arg-parsers.js';
import { gitHead } from './git-head.js';

/** `--annotate k=v`, repeatable: collects into an object. */
export function collectAnnotation(value: string, previous: Record<string, string> | undefined): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new EvidentError('INVALID_ARGUMENT', `--annotate takes KEY=VALUE, not ${JSON.stringify(value)}`);
  return { ...(previous ?? {}), [value.slice(0, eq)]: value.slice(eq + 1) };
}
tagParser(collectAnnotation, ['annotate']);

/** Kosli's `--external-url LABEL=URL` and `--external-fingerprint LABEL=FP`: the annotation `PREFIX.LABEL` (attestation-flags.ts). */
export function prefixedAnnotation(prefix: string) {
  return tagParser((v: string, p: Record<string, string> | undefined) => collectAnnotation(`${prefix}.${v}`, p), ['prefixed', prefix]);
}

/** A repeatable LABEL=VALUE flag (Kosli's string-to-string flags: begin trail's --external-url). */
export function labelled(flag: string, form: string) {
  return tagParser((v: string, p: Record<string, string> = {}) => {
    const eq = v.indexOf('=');
    if (eq <= 0) throw new EvidentError('INVALID_ARGUMENT', `${flag} ${JSON.stringify(v)}: write ${form}`);
    return { ...p, [v.slice(0, eq)]: v.slice(eq + 1) };
  }, ['labelled', flag, form]);
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
  return tagParser((raw: string): boolean => {
    const value = raw.startsWith('=') ? raw.slice(1) : raw;
    if (value === 'true' || value === '1') return true;
    if (value === 'false' || value === '0') return false;
    throw new EvidentError('INVALID_ARGUMENT', `${flag} must be true or false, not ${JSON.stringify(value)}`);
  }, ['bool', flag]);
}

export interface CiDefaults {
  commit?: string;
  /** When the commit was made (RFC 3339), read from git when the commit is in the repository here. */
  commitTime?: string;
  commitUrl?: string;
  buildUrl?: string;
}

/** The CI systems whose variables give defaults, detected as Kosli does (cmd/kosli/cli_utils.go WhichCI). */
export type CiSystem = 'bitbucket' | 'github' | 'teamcity' | 'gitlab' | 'azure-devops' | 'circleci' | 'codebuild' | 'jenkins';

export function whichCi(env: NodeJS.ProcessEnv = process.env): CiSystem | undefined {
  if (env.BITBUCKET_BUILD_NUMBER !== undefined) return 'bitbucket';
  if (env.GITHUB_RUN_NUMBER !== undefined || env.GITHUB_ACTIONS === 'true') return 'github';
  if (env.TEAMCITY_VERSION !== undefined) return 'teamcity';
  if (env.GITLAB_CI !== undefined) return 'gitlab';
  if (env.TF_BUILD !== undefined) return 'azure-devops';
  if (env.CIRCLECI !== undefined) return 'circleci';
  if (env.CODEBUILD_CI !== undefined) return 'codebuild';
  if (env.JENKINS_URL !== undefined) return 'jenkins';
  return undefined;
}

/**
 * Kosli's default templates for --commit, --commit-url and --build-url in each CI system. A template whose
 * variables are not all set gives no default (rather than a link with a hole in it).
 */
const TEMPLATES: Record<CiSystem, { commit: string; commitUrl?: string; buildUrl?: string }> = {
  github: {
    commit: '${GITHUB_SHA}', commitUrl: '${GITHUB_SERVER_URL}/${GITHUB_REPOSITORY}/commit/${GITHUB_SHA}',
    buildUrl: '${GITHUB_SERVER_URL}/${GITHUB_REPOSITORY}/actions/runs/${GITHUB_RUN_ID}',
  },
  bitbucket: {
    commit: '${BITBUCKET_COMMIT}', commitUrl: 'https://bitbucket.org/${BITBUCKET_WORKSPACE}/${BITBUCKET_REPO_SLUG}/commits/${BITBUCKET_COMMIT}',
    buildUrl: 'https://bitbucket.org/${BITBUCKET_WORKSPACE}/${BITBUCKET_REPO_SLUG}/addon/pipelines/home#!/results/${BITBUCKET_BUILD_NUMBER}',
  },
  teamcity: { commit: '${BUILD_VCS_NUMBER}' },
  gitlab: { commit: '${CI_COMMIT_SHA}', commitUrl: '${CI_PROJECT_URL}/-/commit/${CI_COMMIT_SHA}', buildUrl: '${CI_JOB_URL}' },
  'azure-devops': {
    commit: '${BUILD_SOURCEVERSION}', commitUrl: '${SYSTEM_COLLECTIONURI}${SYSTEM_TEAMPROJECT}/_git/${BUILD_REPOSITORY_NAME}/commit/${BUILD_SOURCEVERSION}',
    buildUrl: '${SYSTEM_COLLECTIONURI}${SYSTEM_TEAMPROJECT}/_build/results?buildId=${BUILD_BUILDID}',
  },
  circleci: { commit: '${CIRCLE_SHA1}', commitUrl: '${CIRCLE_REPOSITORY_URL}/commit/${CIRCLE_SHA1}', buildUrl: '${CIRCLE_BUILD_URL}' },
  codebuild: { commit: '${CODEBUILD_RESOLVED_SOURCE_VERSION}', commitUrl: '${CODEBUILD_SOURCE_REPO_URL}/commit/${CODEBUILD_RESOLVED_SOURCE_VERSION}', buildUrl: '${CODEBUILD_BUILD_URL}' },
  jenkins: { commit: '${GIT_COMMIT}', commitUrl: '${GIT_WEB_URL}/commit/${GIT_COMMIT}', buildUrl: '${BUILD_URL}' },
};

function expand(template: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  if (template === undefined) return undefined;
  let missing = false;
  const out = template.replace(/\$\{(\w+)\}/g, (_m, name: string) => {
    const value = env[name];
    if (!value) missing = true;
    return value ?? '';
  });
  return missing ? undefined : out;
}

/**
 * In the CI systems Kosli supports (GitHub Actions, GitLab CI, Bitbucket Pipelines, Azure Pipelines, CircleCI,
 * TeamCity, AWS CodeBuild, Jenkins), the commit, commit URL and build URL default from the variables those
 * systems set, as Kosli's CLI does.
 */
export function ciDefaults(env: NodeJS.ProcessEnv = process.env): CiDefaults {
  const ci = whichCi(env);
  if (!ci) return {};
  // Jenkins' GIT_URL may be an SSH remote: its web URL is what a commit link needs.
  const vars = ci === 'jenkins' && env.GIT_URL ? { ...env, GIT_WEB_URL: webUrlOfRemote(env.GIT_URL) } : env;
  const t = TEMPLATES[ci];
  const commit = expand(t.commit, vars);
  if (!commit) return {};
  const out: CiDefaults = { commit, commitUrl: expand(t.commitUrl, vars), buildUrl: expand(t.buildUrl, vars) };
  // GitLab: a job's URL, else its pipeline's.
  if (ci === 'gitlab' && !out.buildUrl) out.buildUrl = env.CI_PIPELINE_URL;
  return out;
}

/** Kosli warns when it cannot default the commit or build URL; so does Evident (on stderr; --quiet hides it). */
export function ciWarning(given: { commit?: string; buildUrl?: string }, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (given.commit && given.buildUrl) return undefined;
  const missing = [given.commit ? undefined : '--commit', given.buildUrl ? undefined : '--build-url'].filter(Boolean).join(' and ');
  const ci = whichCi(env);
  return ci
    ? `${missing} not given and not found in ${ci}'s variables: the record has none`
    : `no CI system detected (GitHub, GitLab, Bitbucket, Azure, CircleCI, TeamCity, CodeBuild, Jenkins) and ${missing} not given: the record has none`;
}

// node:child_process is loaded here, when git is asked, not with this module: every networked command loads
// flags.ts, and on Node 20 loading child_process costs ~3 ms of CPU (docs/performance.md "Scale, sixth round").
// git runs in this process's environment (GIT_DIR...), which is what git-head.ts is given to read the same HEAD.
function git(args: string[], cwd: string): { out?: string; missing?: boolean } {
  const res = process.getBuiltinModule('node:child_process').spawnSync('git', args, { cwd, stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 });
  // Not a git repository, or no git at all (ENOENT: `missing`): the flags must say.
  if (res.error) return { missing: (res.error as NodeJS.ErrnoException).code === 'ENOENT' };
  return res.status === 0 ? { out: res.stdout.toString('utf8').trim() || undefined } : {};
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
  // Outside a checkout git is not asked (git-head.ts): it would find nothing, and spawning it costs 3–5 ms.
  const head = gitHead(cwd, process.env);
  if (head.kind === 'none') return {};
  const commit = head.kind === 'commit' ? head.commit : git(['rev-parse', 'HEAD'], cwd).out;
  if (!commit) return {};
  const remote = git(['remote', 'get-url', 'origin'], cwd);
  // HEAD read without git; but with no git installed, git's answer (and so this command's, before) was none.
  if (remote.missing) return {};
  const web = remote.out ? webUrlOfRemote(remote.out) : undefined;
  const commitUrl = web === undefined ? undefined : web.includes('gitlab') ? `${web}/-/commit/${commit}` : `${web}/commit/${commit}`;
  return { commit, commitUrl, commitTime: commitTime(commit, cwd) };
}

/** The committer date of `commit` (RFC 3339) if the repository in `cwd` has it: the start of DORA lead time. */
export function commitTime(commit: string, cwd = process.cwd()): string | undefined {
  if (!/^[0-9a-f]{7,64}$/.test(commit) || gitHead(cwd, process.env).kind === 'none') return undefined;
  return git(['show', '-s', '--format=%cI', commit], cwd).out;
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
