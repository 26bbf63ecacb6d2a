import fs from 'node:fs';
import path from 'node:path';
import { EvidentError, yamlLib } from '../../core/index.js';
import type { LoadedSpec } from '../../pipeline/index.js';

// `evident run --strict` and `--policy FILE|NAME` (ATTEST seed 003 §9.2: `attest run --verify --strict`,
// `attest run --verify --policy custom-security`; §9.1's "policy verification: compliance rules
// satisfied"). Both imply --verify (run-verify.ts). The seed names the levels without defining them, so
// Evident gives them a meaning that can be checked (docs/runner.md "Strict and policy verification"):
//   --strict: what --verify tolerates is refused — an unsigned receipt, `env_mode: loose` (a step may read
//     a variable its key does not cover, so a hit can be stale), a cached step with no declared input
//     (its key covers only its command).
//   --policy: a YAML file of rules (below) the pipeline and this run's selection must satisfy.
// Every rule is checked before any step runs, all problems at once, exit 2, nothing run; the signature of
// a signed receipt and the signer's trust are then verified after the run by --verify itself.

export const ISOLATION_ORDER = ['process', 'sandbox', 'container'] as const;
type Isolation = (typeof ISOLATION_ORDER)[number];

export interface RunPolicy {
  file: string;
  strict: boolean;
  signed: boolean;
  envMode?: 'strict';
  isolation?: Isolation;
  requiredSteps: string[];
}

const KEYS = ['strict', 'signed', 'env_mode', 'isolation', 'required_steps'] as const;

function bad(file: string, message: string): EvidentError {
  return new EvidentError('INVALID_ARGUMENT', `run policy ${file}: ${message}`);
}

/**
 * FILE, or ATTEST's NAME form: `.evident/policies/NAME.yaml` (or `.yml`) in the workspace. Unknown keys
 * and wrong types are refused, naming them: a rule that is misspelt must not pass silently.
 */
export function loadRunPolicy(arg: string, workspace: string): RunPolicy {
  const candidates = [path.resolve(arg)];
  if (!arg.includes('/') && !/\.ya?ml$/.test(arg)) candidates.push(...['yaml', 'yml'].map((ext) => path.join(workspace, '.evident', 'policies', `${arg}.${ext}`)));
  const file = candidates.find((f) => fs.existsSync(f));
  if (!file) throw new EvidentError('INVALID_ARGUMENT', `--policy ${arg}: no such file (looked for ${candidates.map((c) => path.relative(process.cwd(), c) || c).join(', ')})`);
  const shown = path.relative(process.cwd(), file) || file;
  let doc: unknown;
  try {
    doc = yamlLib().parse(fs.readFileSync(file, 'utf8'), { uniqueKeys: true });
  } catch (err) {
    throw bad(shown, `not YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw bad(shown, `must be a mapping of rules (${KEYS.join(', ')})`);
  const top = doc as Record<string, unknown>;
  for (const key of Object.keys(top)) if (!(KEYS as readonly string[]).includes(key)) throw bad(shown, `unknown rule ${JSON.stringify(key)} (known: ${KEYS.join(', ')})`);
  const bool = (key: string): boolean => {
    const v = top[key];
    if (v === undefined) return false;
    if (typeof v !== 'boolean') throw bad(shown, `${key} must be true or false`);
    return v;
  };
  const policy: RunPolicy = { file: shown, strict: bool('strict'), signed: bool('signed'), requiredSteps: [] };
  if (top.env_mode !== undefined) {
    if (top.env_mode !== 'strict') throw bad(shown, 'env_mode can only be required as strict');
    policy.envMode = 'strict';
  }
  if (top.isolation !== undefined) {
    if (!(ISOLATION_ORDER as readonly unknown[]).includes(top.isolation)) throw bad(shown, `isolation must be one of ${ISOLATION_ORDER.join(', ')} (the least every step must have)`);
    policy.isolation = top.isolation as Isolation;
  }
  if (top.required_steps !== undefined) {
    if (!Array.isArray(top.required_steps) || !top.required_steps.every((s) => typeof s === 'string' && s !== '')) throw bad(shown, 'required_steps must be a list of step names');
    policy.requiredSteps = top.required_steps as string[];
  }
  return policy;
}

export interface PolicyRunContext {
  /** The steps this run will run (the selection with what it needs), or all. */
  steps: readonly string[];
  /** The receipt will be signed (--sign or attestation.sign_all_steps). */
  signed: boolean;
  /** --isolation, for the steps without their own. */
  isolation?: 'process' | 'sandbox';
  /** --no-cache: no step is restored, so no key can be stale. */
  noCache: boolean;
}

/** The problems of --strict and of the policy for this run; empty when it may start. */
export function policyProblems(loaded: LoadedSpec, run: PolicyRunContext, strict: boolean, policy: RunPolicy | undefined): string[] {
  const { spec } = loaded;
  const problems: string[] = [];
  const strictBy = strict ? '--strict' : policy?.strict ? `policy ${policy.file} (strict: true)` : undefined;
  const policyBy = policy ? `policy ${policy.file}` : undefined;
  const signedBy = strictBy ?? (policy?.signed ? policyBy : undefined);
  const envBy = strictBy ?? (policy?.envMode ? policyBy : undefined);
  if (signedBy && !run.signed) problems.push(`${signedBy}: the receipt must be signed (--sign, or attestation.sign_all_steps: true), its signer trusted`);
  if (envBy && spec.envMode !== 'strict') problems.push(`${envBy}: env_mode must be strict (with loose, a step reads variables its key does not cover, so a cache hit can be stale)`);
  if (strictBy && !run.noCache) {
    for (const name of run.steps) {
      const step = spec.steps.get(name)!;
      if (step.cache && step.inputs.length === 0) problems.push(`${strictBy}: step ${name} is cached but declares no inputs (its key covers only its command): declare them, or cache: false`);
    }
  }
  if (policy?.isolation) {
    const least = ISOLATION_ORDER.indexOf(policy.isolation);
    for (const name of run.steps) {
      const level = spec.steps.get(name)!.isolation ?? run.isolation ?? 'process';
      if (ISOLATION_ORDER.indexOf(level) < least) problems.push(`policy ${policy.file}: step ${name} runs with isolation ${level}, the policy requires at least ${policy.isolation}`);
    }
  }
  for (const name of policy?.requiredSteps ?? []) {
    if (!spec.steps.has(name)) problems.push(`policy ${policy!.file}: required step ${name} is not in ${path.basename(loaded.file)}`);
    else if (!run.steps.includes(name)) problems.push(`policy ${policy!.file}: required step ${name} is not part of this run (--filter / --only / --affected left it out)`);
  }
  return problems;
}

/** Before any step: every problem at once, exit 2, nothing run. */
export function checkPolicyBeforeRun(loaded: LoadedSpec, run: PolicyRunContext, strict: boolean, policy: RunPolicy | undefined): void {
  const problems = policyProblems(loaded, run, strict, policy);
  if (problems.length === 0) return;
  const what = strict && policy ? `--strict and policy ${policy.file}` : strict ? '--strict' : `policy ${policy!.file}`;
  throw new EvidentError('INVALID_ARGUMENT', `run ${what}: ${problems.length} problem${problems.length === 1 ? '' : 's'}; nothing ran:\n  ${problems.join('\n  ')}`);
}
