import { execFileSync } from 'node:child_process';

// `evident run --deterministic` (seed 003 §6.1): "fixed timestamps, sorted environments, stable randomness,
// consistent execution environment". What that means here, and nothing pretended beyond it:
// - SOURCE_DATE_EPOCH (reproducible-builds.org) = the commit time of HEAD, so tools that honour it stamp
//   the same time on every rebuild of a commit; outputs get that mtime after the step (fixed timestamps);
// - TZ=UTC, LC_ALL=C, LANG=C: no time-zone or locale dependence;
// - PYTHONHASHSEED=0: Python's randomised hashing (set iteration order) fixed (stable randomness);
// - the environment handed to the step built in sorted key order.
// These variables are recorded in each step's `env` in the receipt. They are NOT part of the cache key:
// SOURCE_DATE_EPOCH changes with every commit and would make every step miss (docs/runner.md).

export interface Deterministic {
  /** The variables added to every step's environment. */
  vars: Record<string, string>;
  /** SOURCE_DATE_EPOCH as a number, for output mtimes. */
  epoch: number;
  /** Set when the commit time could not be read (no git, not a repository): the epoch is then 0. */
  warning?: string;
}

/** The deterministic environment of a workspace: SOURCE_DATE_EPOCH from `git log -1 --format=%ct`, else 0. */
export function deterministicEnv(workspace: string): Deterministic {
  let epoch = 0;
  let warning: string | undefined;
  try {
    const out = execFileSync('git', ['log', '-1', '--format=%ct'], { cwd: workspace, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' }).trim();
    if (!/^\d+$/.test(out)) throw new Error(`unexpected output ${JSON.stringify(out)}`);
    epoch = Number(out);
  } catch (err) {
    const why = ((err as { stderr?: string }).stderr || (err as Error).message).trim().split('\n')[0];
    warning = `--deterministic: no commit time (${why}); SOURCE_DATE_EPOCH=0`;
  }
  const vars = { LANG: 'C', LC_ALL: 'C', PYTHONHASHSEED: '0', SOURCE_DATE_EPOCH: String(epoch), TZ: 'UTC' };
  return { vars, epoch, ...(warning ? { warning } : {}) };
}

/** An environment with its keys in sorted (code unit) order; later sources win. */
export function sortedEnv(...sources: Record<string, string | undefined>[]): Record<string, string> {
  const merged: Record<string, string> = {};
  for (const source of sources) for (const [k, v] of Object.entries(source)) if (v !== undefined) merged[k] = v;
  return Object.fromEntries(Object.keys(merged).sort().map((k) => [k, merged[k]!]));
}
