import { createHash } from 'node:crypto';
import path from 'node:path';
import type { FileDigest, StepSpec } from './types.js';
import type { KeyComponents } from './cache-key.js';
import { compareBytes, expandPatterns, type ExpansionProbe } from './expand.js';
import { coversPath, parsePattern } from './patterns.js';
import { envReferences, expandEnvValue, passEnvDigest } from './env-expand.js';
import { globalInputPatterns, type PipelineSpec } from './spec.js';
import { digestWithMemo, isExecutable, type StatMemo } from './stat-memo.js';

// The key inputs of one step, read from the workspace: its command, its effective declared env, the
// digest of every input file (directories and globs expanded; its own outputs left out, or it would
// never hit) and the keys of the steps it needs.

export class MissingInputError extends Error {
  constructor(readonly inputs: string[], what = 'input') {
    super(`${what} ${inputs.map((i) => JSON.stringify(i)).join(', ')} not found`);
  }
}

/** Input symbolic links that leave the workspace (refused unless allow_outside_symlinks: true). */
export class OutsideSymlinkError extends Error {
  constructor(readonly links: string[]) {
    super(
      `input ${links.map((l) => JSON.stringify(l)).join(', ')} ${links.length === 1 ? 'is a symbolic link' : 'are symbolic links'} leaving the workspace: ` +
        'refused (set allow_outside_symlinks: true on the step, or the pipeline, to allow it)',
    );
  }
}

/** The declared env a step's command sees on top of the base env: pipeline `env`, then the step's, `${VAR}` expanded. */
export function stepEnv(pipelineEnv: Record<string, string>, step: StepSpec, processEnv: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const merged: Record<string, string> = { ...pipelineEnv, ...step.env };
  return Object.fromEntries(Object.keys(merged).sort().map((k) => [k, expandEnvValue(merged[k]!, processEnv)]));
}

/** The pass_env names of a step: the pipeline's, then its own. */
export function passEnvNames(spec: PipelineSpec, step: StepSpec): string[] {
  return [...new Set([...spec.passEnv, ...(step.passEnv ?? [])])].sort();
}

/** Variables always passed in env_mode: strict (a shell needs them); not keyed, as in loose mode. */
export const STRICT_BASE_ENV = ['PATH', 'HOME', 'TMPDIR', 'USER', 'LOGNAME', 'SHELL'] as const;

/**
 * The environment a step's command runs with: the process env (loose) or STRICT_BASE_ENV of it (strict),
 * the pass_env variables, then the declared env; `extra` last (--deterministic's variables).
 */
export function commandEnv(spec: PipelineSpec, step: StepSpec, declared: Record<string, string>, processEnv: NodeJS.ProcessEnv, extra: Record<string, string> = {}): Record<string, string | undefined> {
  const base: Record<string, string | undefined> = spec.envMode === 'strict' ? Object.fromEntries(STRICT_BASE_ENV.map((n) => [n, processEnv[n]])) : { ...processEnv };
  for (const name of passEnvNames(spec, step)) base[name] = processEnv[name];
  return { ...base, ...declared, ...extra };
}

/**
 * The names of process variables a run of `spec` depends on through its key: pass_env names and `${VAR}`
 * references (a replay must see them unchanged: replay.ts).
 */
export function keyedProcessVariables(spec: PipelineSpec): string[] {
  const names = new Set(spec.passEnv);
  const refs = (env: Record<string, string>) => Object.values(env).forEach((v) => envReferences(v).forEach((n) => names.add(n)));
  refs(spec.env);
  for (const step of spec.steps.values()) {
    (step.passEnv ?? []).forEach((n) => names.add(n));
    refs(step.env);
  }
  return [...names].sort();
}

/**
 * Digests of the run's global inputs (spec.ts globalInputPatterns): with the default set, the lockfiles
 * that exist and attest.yaml; `global_inputs` as written must all exist.
 */
export async function digestGlobalInputs(workspace: string, spec: PipelineSpec, attestFile: string, memo: StatMemo, probe?: ExpansionProbe): Promise<FileDigest[]> {
  const { patterns, optional } = globalInputPatterns(spec, attestFile);
  const expansion = expandPatterns(workspace, patterns.map(parsePattern), { mode: 'input', ...(probe ? { probe } : {}) });
  if (!optional && expansion.missing.length > 0) throw new MissingInputError(expansion.missing, 'global input');
  if (expansion.outside.length > 0) throw new OutsideSymlinkError(expansion.outside);
  return digestFound(expansion.files, memo);
}

async function digestFound(files: ReturnType<typeof expandPatterns>['files'], memo: StatMemo): Promise<FileDigest[]> {
  const out: FileDigest[] = [];
  for (const f of files) {
    if (f.linkTarget !== undefined) {
      // A link to a directory is recorded by where it points (as Kosli's directory digest does).
      out.push({ path: f.rel, sha256: createHash('sha256').update(`symlink:${f.linkTarget}`).digest('hex'), executable: false });
      continue;
    }
    out.push({ path: f.rel, sha256: await digestWithMemo(memo, f.rel, f.abs, f.stat), executable: isExecutable(f.stat) });
  }
  return out;
}

/** Digests of the step's input files, sorted by path; MissingInputError names declared inputs not on disk. */
export async function digestInputs(workspace: string, step: StepSpec, memo: StatMemo, probe?: ExpansionProbe): Promise<FileDigest[]> {
  const expansion = expandPatterns(workspace, step.inputs.map(parsePattern), {
    mode: 'input', exclude: step.outputs.map(parsePattern), ...(probe ? { probe } : {}), ...(step.allowOutsideSymlinks ? { allowOutsideSymlinks: true } : {}),
  });
  if (expansion.missing.length > 0) throw new MissingInputError(expansion.missing);
  if (expansion.outside.length > 0) throw new OutsideSymlinkError(expansion.outside);
  return digestFound(expansion.files, memo);
}

export interface KeyContext {
  workspace: string;
  spec: PipelineSpec;
  memo: StatMemo;
  needKeys: ReadonlyMap<string, string>;
  /** The run's global inputs (digestGlobalInputs). */
  global: readonly FileDigest[];
  /** --isolation sandbox for every step. */
  isolation?: 'process' | 'sandbox';
  /** The image ID of each container step's image, resolved once per run (container.ts resolveImages). */
  images?: ReadonlyMap<string, string>;
  processEnv?: NodeJS.ProcessEnv;
  probe?: ExpansionProbe;
}

export async function keyComponents(step: StepSpec, k: KeyContext): Promise<KeyComponents> {
  const needs: Record<string, string> = {};
  for (const need of step.needs) {
    const key = k.needKeys.get(need);
    if (key === undefined) throw new Error(`the key of ${need} is not known before ${step.name}`);
    needs[need] = key;
  }
  const processEnv = k.processEnv ?? process.env;
  const env = stepEnv(k.spec.env, step, processEnv);
  // pass_env values by digest: they may be tokens, and the key inputs are written to disk (step history).
  for (const name of passEnvNames(k.spec, step)) env[name] = passEnvDigest(processEnv[name]);
  const sortedEnvMap = Object.fromEntries(Object.keys(env).sort().map((n) => [n, env[n]!]));
  const outputs = step.outputs.map(parsePattern);
  // A global input that is one of the step's outputs (npm install writing package-lock.json) is not its input.
  const global = k.global.filter((f) => !outputs.some((o) => coversPath(o, f.path)));
  const isolation = step.isolation ?? k.isolation;
  let image: string | undefined;
  if (isolation === 'container') {
    image = step.image === undefined ? undefined : k.images?.get(step.image);
    if (image === undefined) throw new Error(`the image of ${step.name} was not resolved before its key`);
  }
  return {
    command: step.run, env: sortedEnvMap, inputs: await digestInputs(k.workspace, step, k.memo, k.probe), needs, outputs: [...step.outputs],
    ...(global.length > 0 ? { global } : {}),
    ...(k.spec.envMode === 'strict' ? { envMode: 'strict' as const } : {}),
    ...(isolation === 'sandbox' ? { isolation: 'sandbox' as const } : {}),
    ...(isolation === 'container' ? { isolation: 'container' as const, image } : {}),
    ...(step.workingDir !== undefined ? { workingDir: step.workingDir } : {}),
  };
}

/** Every input file of a step's key, its own and the global ones, sorted by path (what records list). */
export function allInputs(c: KeyComponents): FileDigest[] {
  const seen = new Map(c.inputs.map((f) => [f.path, f]));
  for (const f of c.global ?? []) if (!seen.has(f.path)) seen.set(f.path, f);
  return [...seen.values()].sort((a, b) => compareBytes(a.path, b.path));
}

export const logPath = (step: string): string => path.posix.join('.evident', 'logs', `${step}.log`);
