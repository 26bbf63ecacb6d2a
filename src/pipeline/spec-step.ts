import type { StepSpec } from './types.js';
import { ENV_NAME_PATTERN, ISOLATIONS, STEP_NAME_PATTERN } from './spec-format.js';
import { Checker, describe } from './spec-checks.js';
import { joinPath } from './spec-walk.js';
import { patternProblem } from './patterns.js';
import { envValueProblem } from './env-expand.js';
import { imageProblem } from './container.js';

// One step of attest.yaml. Its keys are Evident's and every field of ATTEST's `Step` struct
// (Alien6-Studio/continuum-attest src/pipeline/step.rs: run, inputs, outputs, needs, env, working_dir,
// image, capsule, cache, timeout_secs, attestation.{type, reproducible, generate_slsa, verify_chain}) and
// the `isolation` / `vm_image` of its documentation (seed 003 §7), with ATTEST's meaning. A field Evident
// cannot honour is a validation problem that names it and says why: never accepted and ignored, because a
// receipt would then describe a step that did not run the way its file says.

export const STEP_KEYS = [
  'run', 'inputs', 'outputs', 'needs', 'env', 'pass_env', 'allow_outside_symlinks', 'cache', 'attestation', 'isolation',
  'working_dir', 'timeout_secs', 'image', 'capsule', 'vm_image',
] as const;
const ATTESTATION_KEYS = ['type', 'reproducible', 'generate_slsa', 'verify_chain'] as const;

/** The reasons ATTEST fields are refused, shared with docs/runner.md "ATTEST's files". */
export const REFUSED = {
  capsule: "names an ATTEST hermetic capsule (.attest/capsules/<name>), which Evident has no equivalent for: its manifest format is ATTEST's own. Use isolation: sandbox (bubblewrap) for a read-only, network-less step",
  vm_image: 'is for VM isolation (seed 003 §7.3, ATTEST Enterprise), which Evident does not provide',
  vm: 'VM isolation (seed 003 §7.3, ATTEST Enterprise) is not provided by Evident; use sandbox',
  generateSlsaFalse: 'cannot be false: Evident writes SLSA provenance for every output of every step that succeeds, and does not withhold it per step (remove the key, or set it to true)',
} as const;

/** `env` values with valid `${...}`, and pass_env names neither malformed, repeated nor also in `env`. */
export function checkEnvFields(c: Checker, env: Record<string, string>, passEnv: string[], at: string): void {
  for (const [name, value] of Object.entries(env)) {
    const problem = envValueProblem(value);
    if (problem) c.add(joinPath(joinPath(at, 'env'), name), problem);
  }
  passEnv.forEach((name, i) => {
    const where = joinPath(joinPath(at, 'pass_env'), i);
    if (!new RegExp(ENV_NAME_PATTERN).test(name)) c.add(where, `"${name}" is not a valid environment variable name`);
    else if (Object.hasOwn(env, name)) c.add(where, `"${name}" is also set in env: a variable is either set (env) or passed through (pass_env)`);
    else if (passEnv.indexOf(name) !== i) c.add(where, `"${name}" is listed twice`);
  });
}
function readWorkingDir(c: Checker, value: unknown, at: string): string | undefined {
  const dir = c.string(value, at, { nonEmpty: true });
  if (dir === undefined) return undefined;
  const problem = /[*?[\]\\]/.test(dir) ? 'is a glob: a working directory is one plain path' : patternProblem(dir);
  if (problem) {
    c.add(at, `"${dir}" ${problem}`);
    return undefined;
  }
  const clean = dir.replace(/\/+$/, '').replace(/^\.\//, '');
  return clean === '' || clean === '.' ? undefined : clean;
}

/** ATTEST `image`: implies isolation: container; container without an image, or an image with another level, is a problem. */
function readImage(c: Checker, value: unknown, at: string, isolation: StepSpec['isolation'], isolationAt: string): string | undefined {
  if (value === undefined) {
    if (isolation === 'container') c.add(isolationAt, 'container needs the image to run in: add image (e.g. image: debian:bookworm)');
    return undefined;
  }
  const image = c.string(value, at, { nonEmpty: true });
  if (image === undefined) return undefined;
  const problem = imageProblem(image);
  if (problem) return (c.add(at, `"${image}" ${problem}`), undefined);
  if (isolation !== undefined && isolation !== 'container') return (c.add(at, `runs the step in a container, but isolation is ${isolation}: remove one of them`), undefined);
  return image;
}

function readAttestation(c: Checker, value: unknown, at: string, requireReproducible: boolean): { reproducible: boolean; type?: string; verifyChain?: boolean } {
  const out: { reproducible: boolean; type?: string; verifyChain?: boolean } = { reproducible: requireReproducible };
  const a = c.mapping(value, at, ATTESTATION_KEYS);
  if (!a) return out;
  if (a.reproducible !== undefined) out.reproducible = c.boolean(a.reproducible, joinPath(at, 'reproducible')) ?? requireReproducible;
  if (a.type !== undefined) {
    const type = c.string(a.type, joinPath(at, 'type'), { nonEmpty: true });
    if (type !== undefined) out.type = type;
  }
  if (a.generate_slsa !== undefined && c.boolean(a.generate_slsa, joinPath(at, 'generate_slsa')) === false) c.add(joinPath(at, 'generate_slsa'), REFUSED.generateSlsaFalse);
  if (a.verify_chain !== undefined) {
    const verify = c.boolean(a.verify_chain, joinPath(at, 'verify_chain'));
    if (verify) out.verifyChain = true;
  }
  return out;
}

export function readStep(c: Checker, name: string, value: unknown, requireReproducible: boolean): StepSpec | undefined {
  const at = joinPath('steps', name);
  if (!new RegExp(STEP_NAME_PATTERN).test(name)) c.add(at, 'is not a valid step name (letters, digits, _ . -; starting with a letter or digit; at most 100)');
  const step = c.mapping(value, at, STEP_KEYS);
  if (!step) return undefined;
  const field = (key: string) => joinPath(at, key);
  const run = step.run === undefined ? (c.add(field('run'), 'is required: the command to run'), undefined) : c.string(step.run, field('run'), { nonEmpty: true });
  const list = (key: 'inputs' | 'outputs' | 'needs') => (step[key] === undefined ? [] : c.strings(step[key], field(key)) ?? []);
  const inputs = list('inputs');
  const outputs = list('outputs');
  const needs = list('needs');
  for (const key of ['inputs', 'outputs'] as const) {
    if (!Array.isArray(step[key])) continue;
    (step[key] as unknown[]).forEach((item, i) => {
      const problem = typeof item === 'string' && item.trim() !== '' ? patternProblem(item) : undefined;
      if (problem) c.add(joinPath(field(key), i), `"${item as string}" ${problem}`);
    });
  }
  const env = step.env === undefined ? {} : c.env(step.env, field('env'));
  const passEnv = step.pass_env === undefined ? [] : c.strings(step.pass_env, field('pass_env')) ?? [];
  checkEnvFields(c, env, passEnv, at);
  const outside = step.allow_outside_symlinks === undefined ? undefined : c.boolean(step.allow_outside_symlinks, field('allow_outside_symlinks'));
  const cache = step.cache === undefined ? true : c.boolean(step.cache, field('cache'));
  const attestation = step.attestation === undefined ? { reproducible: requireReproducible } : readAttestation(c, step.attestation, field('attestation'), requireReproducible);
  let isolation: StepSpec['isolation'];
  if (step.isolation === 'vm') c.add(field('isolation'), REFUSED.vm);
  else if (step.isolation !== undefined) {
    if ((ISOLATIONS as readonly unknown[]).includes(step.isolation)) isolation = step.isolation as StepSpec['isolation'];
    else c.add(field('isolation'), `must be ${ISOLATIONS.join(', ')} or (refused) vm, not ${describe(step.isolation)}`);
  }
  const image = readImage(c, step.image, field('image'), isolation, field('isolation'));
  if (image !== undefined) isolation = 'container';
  for (const key of ['capsule', 'vm_image'] as const) if (step[key] !== undefined) c.add(field(key), REFUSED[key]);
  const workingDir = step.working_dir === undefined ? undefined : readWorkingDir(c, step.working_dir, field('working_dir'));
  let timeoutSecs: number | undefined;
  if (step.timeout_secs !== undefined) {
    // ATTEST: a u64 of seconds; 0 would kill every command at once, so it is refused rather than obeyed.
    if (Number.isSafeInteger(step.timeout_secs) && (step.timeout_secs as number) >= 1) timeoutSecs = step.timeout_secs as number;
    else c.add(field('timeout_secs'), `must be a whole number of seconds >= 1, not ${describe(step.timeout_secs)}`);
  }
  // Returned even when some field is wrong (the problem is recorded and no spec comes out), so that the
  // checks across steps — needs, cycles, overlapping outputs — still see this step.
  return {
    name, run: run ?? '', inputs, outputs, needs, env, passEnv, cache: cache ?? true, reproducible: attestation.reproducible, ...(isolation ? { isolation } : {}),
    ...(image !== undefined ? { image } : {}),
    ...(outside !== undefined ? { allowOutsideSymlinks: outside } : {}),
    ...(workingDir !== undefined ? { workingDir } : {}),
    ...(timeoutSecs !== undefined ? { timeoutSecs } : {}),
    ...(attestation.type !== undefined ? { attestationType: attestation.type } : {}),
    ...(attestation.verifyChain ? { verifyChain: true } : {}),
  };
}
