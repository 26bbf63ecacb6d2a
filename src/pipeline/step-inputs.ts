import { createHash } from 'node:crypto';
import path from 'node:path';
import type { FileDigest, StepSpec } from './types.js';
import type { KeyComponents } from './cache-key.js';
import { expandPatterns, type ExpansionProbe } from './expand.js';
import { parsePattern } from './patterns.js';
import { digestWithMemo, isExecutable, type StatMemo } from './stat-memo.js';

// The key inputs of one step, read from the workspace: its command, its effective declared env, the
// digest of every input file (directories and globs expanded; its own outputs left out, or it would
// never hit) and the keys of the steps it needs.

export class MissingInputError extends Error {
  constructor(readonly inputs: string[]) {
    super(`input ${inputs.map((i) => JSON.stringify(i)).join(', ')} not found`);
  }
}

/** The env a step's command sees on top of the process env: pipeline `env`, then the step's `env`. */
export function stepEnv(pipelineEnv: Record<string, string>, step: StepSpec): Record<string, string> {
  const merged: Record<string, string> = { ...pipelineEnv, ...step.env };
  return Object.fromEntries(Object.keys(merged).sort().map((k) => [k, merged[k]!]));
}

/** Digests of the step's input files, sorted by path; MissingInputError names declared inputs not on disk. */
export async function digestInputs(workspace: string, step: StepSpec, memo: StatMemo, probe?: ExpansionProbe): Promise<FileDigest[]> {
  const expansion = expandPatterns(workspace, step.inputs.map(parsePattern), { mode: 'input', exclude: step.outputs.map(parsePattern), ...(probe ? { probe } : {}) });
  if (expansion.missing.length > 0) throw new MissingInputError(expansion.missing);
  const out: FileDigest[] = [];
  for (const f of expansion.files) {
    if (f.linkTarget !== undefined) {
      // A link to a directory is recorded by where it points (as Kosli's directory digest does).
      out.push({ path: f.rel, sha256: createHash('sha256').update(`symlink:${f.linkTarget}`).digest('hex'), executable: false });
      continue;
    }
    out.push({ path: f.rel, sha256: await digestWithMemo(memo, f.rel, f.abs, f.stat), executable: isExecutable(f.stat) });
  }
  return out;
}

export async function keyComponents(
  workspace: string,
  pipelineEnv: Record<string, string>,
  step: StepSpec,
  memo: StatMemo,
  needKeys: ReadonlyMap<string, string>,
  probe?: ExpansionProbe,
): Promise<KeyComponents> {
  const needs: Record<string, string> = {};
  for (const need of step.needs) {
    const key = needKeys.get(need);
    if (key === undefined) throw new Error(`the key of ${need} is not known before ${step.name}`);
    needs[need] = key;
  }
  return { command: step.run, env: stepEnv(pipelineEnv, step), inputs: await digestInputs(workspace, step, memo, probe), needs, outputs: [...step.outputs] };
}

export const logPath = (step: string): string => path.posix.join('.evident', 'logs', `${step}.log`);
