import fs from 'node:fs';
import path from 'node:path';
import type { FileDigest } from './types.js';

// `attestation.require_reproducible` / a step's `attestation.reproducible` (seed 003 §6.2: "same source +
// same environment = identical output, bit for bit"). The check: after a successful run the step's
// outputs are removed and the command runs a second time in the same workspace; both sets of output
// hashes must be equal. Same workspace rather than a clean copy of the declared inputs: commands read
// undeclared files (toolchains, lock files, node_modules) that a copy of only the inputs would lack, and a
// build that fails in the copy proves nothing about reproducibility. Removing the outputs first makes sure
// the second run cannot pass by leaving the first run's files in place. Only runs are checked: a cache hit
// restores what an earlier, checked run made.

/** Paths whose content differs between two runs, or that only one run produced; sorted. */
export function differingOutputs(first: readonly FileDigest[], second: readonly FileDigest[]): string[] {
  const a = new Map(first.map((f) => [f.path, f]));
  const b = new Map(second.map((f) => [f.path, f]));
  const paths = new Set([...a.keys(), ...b.keys()]);
  return [...paths].filter((p) => a.get(p)?.sha256 !== b.get(p)?.sha256 || a.get(p)?.executable !== b.get(p)?.executable).sort();
}

/** Removes the files the first run produced, so the second run must make them again. */
export function removeOutputs(workspace: string, files: readonly FileDigest[]): void {
  for (const f of files) fs.rmSync(path.join(workspace, f.path), { force: true });
}

/** `[FAIL] build - not reproducible: out/app.tar differs` — the detail of that line. */
export function notReproducible(paths: readonly string[]): string {
  const shown = paths.slice(0, 10).join(', ');
  const more = paths.length > 10 ? ` and ${paths.length - 10} more` : '';
  return `not reproducible: ${shown}${more} ${paths.length === 1 ? 'differs' : 'differ'}`;
}
