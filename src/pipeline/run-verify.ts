import fs from 'node:fs';
import path from 'node:path';
import { closureOf } from './plan.js';
import { parsePattern, patternsOverlap } from './patterns.js';
import type { LoadedSpec } from './spec.js';

// `evident run --verify` (seed 003 §9.2 `attest run --verify`; the layers of §9.1). Before any step: every
// declared input that no step upstream of it produces exists (§9.1 "all declared inputs/outputs exist",
// which a plain run finds out only when the step is about to run). During the run:
// attestation.verify_dependencies for every step. After it: the receipt just written verified as
// `evident verify receipt` does (the CLI). Syntax and cycles are checked by every run.

/** Declared inputs that no step upstream produces and that are not on disk now, as problem lines. */
export function missingDeclaredInputs(loaded: LoadedSpec, steps?: readonly string[]): string[] {
  const { spec, workspace } = loaded;
  const all = [...spec.steps.values()];
  const problems: string[] = [];
  for (const step of all) {
    if (steps && !steps.includes(step.name)) continue;
    const upstream = [...closureOf(all, step.name)].filter((n) => n !== step.name).flatMap((n) => spec.steps.get(n)!.outputs.map(parsePattern));
    for (const source of step.inputs) {
      const pattern = parsePattern(source);
      // A glob may match nothing (docs/runner.md); a path another step makes is checked when that step ran.
      if (pattern.glob || upstream.some((o) => patternsOverlap(o, pattern))) continue;
      if (!fs.existsSync(path.join(workspace, ...pattern.segments))) problems.push(`steps.${step.name}.inputs: "${source}" does not exist, and no step ${step.name} needs makes it`);
    }
  }
  return problems;
}

/** The spec with attestation.verify_dependencies on: every step re-checks its upstream outputs first. */
export function verifyingSpec(loaded: LoadedSpec): LoadedSpec {
  return { ...loaded, spec: { ...loaded.spec, attestation: { ...loaded.spec.attestation, verifyDependencies: true } } };
}
