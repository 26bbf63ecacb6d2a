import { execFileSync } from 'node:child_process';
import { EvidentError } from '../core/index.js';
import { goMatch, toByteString } from '../formats/index.js';
import { closureOf, dependentsOf } from './plan.js';
import { coversPath, isGlobSegment, parsePattern, segmentMatches } from './patterns.js';
import { globalInputPatterns, type PipelineSpec } from './spec.js';

// Which steps `evident run` runs: turbo's `--filter` and `--affected` (issue #19 item 3), over steps
// instead of packages. A filter picks target steps; the run is always the targets and every step they
// need (directly or not), since a step cannot run without its upstream outputs — those come from the
// cache when already built, as with `--only`.
//
// Filter syntax (turbo's, https://turborepo.com/docs/reference/run#--filter-string):
//   NAME or GLOB      the steps whose names match (Go filepath.Match: `test*`, `build.?`)
//   ...NAME           NAME and every step it needs          ...^NAME  only the steps it needs
//   NAME...           NAME and every step that needs it     NAME^...  only the steps that need it
//   [REF]             the steps whose inputs changed since git REF (modifiers apply: `[main]...`);
//                     a selector in brackets is always a ref, as in turbo
//   !SELECTOR         excluded from what the other filters pick (alone: from every step)

export interface Filter {
  source: string;
  exclude: boolean;
  /** The selector: a step name or glob, or `[ref]`. */
  name?: string;
  ref?: string;
  dependencies: boolean;
  dependents: boolean;
  /** `^`: the matched steps themselves are left out. */
  withoutSelf: boolean;
}

const SELECTOR = /^(\[[^\]\s]{1,200}\]|[A-Za-z0-9_*?[][A-Za-z0-9_.*?[\]^\\-]{0,199})$/;

export function parseFilter(source: string): Filter {
  const bad = (why: string) => new EvidentError('INVALID_ARGUMENT', `--filter ${JSON.stringify(source)}: ${why} (NAME, GLOB, ...NAME, NAME..., ...^NAME, NAME^..., [REF], !NAME)`);
  let rest = source;
  const exclude = rest.startsWith('!');
  if (exclude) rest = rest.slice(1);
  let dependencies = false;
  let dependents = false;
  let withoutSelf = false;
  if (rest.startsWith('...')) {
    dependencies = true;
    rest = rest.slice(3);
    if (rest.startsWith('^')) [withoutSelf, rest] = [true, rest.slice(1)];
  }
  if (rest.endsWith('...')) {
    dependents = true;
    rest = rest.slice(0, -3);
    if (rest.endsWith('^')) {
      if (withoutSelf) throw bad('^ on both sides leaves nothing');
      [withoutSelf, rest] = [true, rest.slice(0, -1)];
    }
  }
  if (rest.startsWith('[') && rest.endsWith(']') && !/^\[[^\]\s]{1,200}\]$/.test(rest)) throw bad('[REF] needs a git ref between the brackets');
  if (!SELECTOR.test(rest)) throw bad(rest === '' ? 'nothing to select' : `${JSON.stringify(rest)} is neither a step name, a glob nor [REF]`);
  const unclosed = /\[[^\]]*$/.test(rest);
  const isRef = rest.startsWith('[') && rest.endsWith(']');
  if (!isRef && isGlobSegment(rest) && (unclosed || goMatch(toByteString(rest), '') === undefined)) throw bad(`${JSON.stringify(rest)} is not a valid glob`);
  const ref = isRef ? rest.slice(1, -1) : undefined;
  return { source, exclude, ...(ref !== undefined ? { ref } : { name: rest }), dependencies, dependents, withoutSelf };
}

export interface Selection {
  /** The steps picked by the filters (and --affected). */
  targets: string[];
  /** What runs: the targets and every step they need, in declaration order. */
  steps: string[];
  /** Steps whose inputs changed, per ref asked about (for --affected, [REF] and the summary). */
  changed: Map<string, string[]>;
}

export interface SelectOptions {
  filters?: readonly string[];
  /** --affected: the git ref to compare with (steps whose inputs changed since it, and their dependents). */
  affected?: string;
  attestFile: string;
  /** The files changed since a ref, workspace-relative (default: git; a test gives its own). */
  changedFiles?: (ref: string) => string[];
}

export function selectSteps(spec: PipelineSpec, workspace: string, o: SelectOptions): Selection {
  const all = [...spec.steps.values()];
  const names = all.map((s) => s.name);
  const changedSince = new Map<string, string[]>();
  const changed = (ref: string): Set<string> => {
    if (!changedSince.has(ref)) changedSince.set(ref, stepsChangedSince(spec, o.attestFile, (o.changedFiles ?? ((r) => gitChangedFiles(workspace, r)))(ref)));
    return new Set(changedSince.get(ref));
  };
  const pick = (f: Filter): Set<string> => {
    const base = f.ref !== undefined ? changed(f.ref) : matchNames(names, f);
    const out = new Set<string>(f.withoutSelf ? [] : base);
    for (const n of base) {
      if (f.dependencies) closureOf(all, n).forEach((d) => d !== n && out.add(d));
      if (f.dependents) dependentsOf(all, n).forEach((d) => out.add(d));
    }
    return out;
  };
  const filters = (o.filters ?? []).map(parseFilter);
  const includes = filters.filter((f) => !f.exclude);
  let targets = new Set<string>(includes.length > 0 ? [] : names);
  for (const f of includes) pick(f).forEach((n) => targets.add(n));
  for (const f of filters.filter((x) => x.exclude)) pick(f).forEach((n) => targets.delete(n));
  if (o.affected !== undefined) {
    // turbo's --affected: what changed, and everything downstream of it.
    const hit = changed(o.affected);
    for (const n of [...hit]) dependentsOf(all, n).forEach((d) => hit.add(d));
    targets = new Set([...targets].filter((n) => hit.has(n)));
  }
  const run = new Set<string>();
  for (const t of targets) closureOf(all, t).forEach((n) => run.add(n));
  return { targets: names.filter((n) => targets.has(n)), steps: names.filter((n) => run.has(n)), changed: changedSince };
}

function matchNames(names: readonly string[], f: Filter): Set<string> {
  const glob = isGlobSegment(f.name!);
  const hit = names.filter((n) => (glob ? segmentMatches(f.name!, n) : n === f.name));
  if (hit.length === 0) throw new EvidentError('INVALID_ARGUMENT', `--filter ${f.source}: no step ${glob ? 'matches' : 'is named'} ${JSON.stringify(f.name)} (steps: ${names.join(', ')})`);
  return new Set(hit);
}

/**
 * Steps whose inputs include one of the changed files (a step's own outputs are not its inputs); every
 * step when a global input changed (docs/runner.md, global_inputs: they are in every key).
 */
export function stepsChangedSince(spec: PipelineSpec, attestFile: string, files: readonly string[]): string[] {
  const global = globalInputPatterns(spec, attestFile).patterns.map(parsePattern);
  if (files.some((f) => global.some((g) => coversPath(g, f)))) return [...spec.steps.keys()];
  const out: string[] = [];
  for (const step of spec.steps.values()) {
    const inputs = step.inputs.map(parsePattern);
    const outputs = step.outputs.map(parsePattern);
    if (files.some((f) => inputs.some((p) => coversPath(p, f)) && !outputs.some((p) => coversPath(p, f)))) out.push(step.name);
  }
  return out;
}

const REF = /^[A-Za-z0-9._~^@{}/+-]{1,200}$/;

/**
 * Files changed in the workspace since `ref`, relative to the workspace: committed since the merge base
 * of `ref` and HEAD, changed in the working tree, and untracked (not ignored) — what turbo's `--affected`
 * compares.
 */
export function gitChangedFiles(workspace: string, ref: string): string[] {
  if (!REF.test(ref) || ref.startsWith('-')) throw new EvidentError('INVALID_ARGUMENT', `not a git ref: ${JSON.stringify(ref)}`);
  const git = (args: string[]) => execFileSync('git', args, { cwd: workspace, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  let base: string;
  try {
    base = git(['merge-base', ref, 'HEAD']).trim();
  } catch (err) {
    const why = String((err as { stderr?: string }).stderr ?? (err as Error).message).trim().split('\n')[0];
    throw new EvidentError('INVALID_ARGUMENT', `cannot compare with ${JSON.stringify(ref)} in ${workspace}: ${why || 'git merge-base failed'} (is it a git repository with that ref? --affected compares with main by default)`);
  }
  const split = (text: string) => text.split('\0').filter(Boolean);
  return [...new Set([...split(git(['diff', '--name-only', '--relative', '-z', base, '--'])), ...split(git(['ls-files', '--others', '--exclude-standard', '-z']))])].sort();
}
