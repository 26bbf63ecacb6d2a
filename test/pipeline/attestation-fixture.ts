import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import type { FileDigest, RunObserver, RunRecord, StepRecord, StepSpec } from '../../src/pipeline/index.js';

// A stand-in for the executor (which another change builds): runs each step's command with `sh -c` in the
// workspace, in the order given (which must be topological), hashes the declared files, and calls the
// observers exactly as the RunObserver contract says. Steps whose needs failed are skipped.

export interface FixtureStep {
  name: string;
  run: string;
  needs?: string[];
  inputs?: string[];
  outputs?: string[];
}

function sha256(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/** Declared paths expanded to the files under them, sorted. */
export function digests(workspace: string, declared: string[]): FileDigest[] {
  const out: FileDigest[] = [];
  const walk = (rel: string): void => {
    const abs = path.join(workspace, rel);
    const stat = fs.statSync(abs, { throwIfNoEntry: false });
    if (!stat) return;
    if (stat.isDirectory()) for (const e of fs.readdirSync(abs).sort()) walk(path.posix.join(rel, e));
    else out.push({ path: rel, sha256: sha256(abs), executable: (stat.mode & 0o111) !== 0 });
  };
  for (const d of declared) walk(d.replace(/\/+$/, ''));
  return out.sort((a, b) => (a.path < b.path ? -1 : 1));
}

export function fixtureGraph(steps: FixtureStep[]): Record<string, StepSpec> {
  return Object.fromEntries(
    steps.map((s) => [s.name, { name: s.name, run: s.run, inputs: s.inputs ?? [], outputs: s.outputs ?? [], needs: s.needs ?? [], env: {}, cache: true, reproducible: false }]),
  );
}

export async function runFixture(workspace: string, pipeline: string, steps: FixtureStep[], observers: RunObserver[]): Promise<RunRecord> {
  // The whole declaration, so that `verify receipt` finds the receipt's steps in it (receipt-steps.ts).
  const list = (key: string, v: string[] | undefined) => (v && v.length > 0 ? `, ${key}: ${JSON.stringify(v)}` : '');
  const attestYaml = `version: "0.1"\nname: ${pipeline}\nsteps:\n${steps
    .map((s) => `  ${s.name}: { run: ${JSON.stringify(s.run)}${list('needs', s.needs)}${list('inputs', s.inputs)}${list('outputs', s.outputs)} }`)
    .join('\n')}\n`;
  fs.writeFileSync(path.join(workspace, 'attest.yaml'), attestYaml);
  const pipelineHash = createHash('sha256').update(attestYaml).digest('hex');
  const graph = fixtureGraph(steps);
  const succeeded = new Map<string, StepRecord>();
  const records: StepRecord[] = [];
  const startedAt = new Date().toISOString();
  const t0 = Date.now();
  for (const s of steps) {
    if (!(s.needs ?? []).every((n) => succeeded.has(n))) continue;
    const inputs = digests(workspace, s.inputs ?? []);
    const start = new Date();
    const result = spawnSync('/bin/sh', ['-c', s.run], { cwd: workspace, stdio: 'ignore' });
    const exitCode = result.status ?? 1;
    const finished = new Date();
    const record: StepRecord = {
      name: s.name, command: s.run, needs: s.needs ?? [], env: {}, exitCode, startedAt: start.toISOString(), finishedAt: finished.toISOString(),
      durationSecs: (finished.getTime() - start.getTime()) / 1000, cache: 'miss', key: createHash('sha256').update(s.name).digest('hex'),
      inputs, outputs: exitCode === 0 ? digests(workspace, s.outputs ?? []) : [],
    };
    records.push(record);
    if (exitCode !== 0) continue;
    succeeded.set(s.name, record);
    for (const o of observers) await o.stepSucceeded?.(record, { pipeline, workspace, graph, succeeded, pipelineHash });
  }
  const run: RunRecord = {
    pipeline, pipelineHash, workspace, startedAt, totalDurationSecs: (Date.now() - t0) / 1000, steps: records, graph,
    ok: records.length === steps.length && records.every((r) => r.exitCode === 0),
  };
  for (const o of observers) await o.runFinished?.(run);
  return run;
}
