import fs from 'node:fs';
import path from 'node:path';
import type { KeyComponents } from './cache-key.js';
import { writeFileAtomic } from './stat-memo.js';

// What the last run of each step was: its key, the inputs of that key (for `evident cache explain`) and
// how long it took when it last really ran (for the planner's critical path).
// `.evident/cache/metadata/steps/<step>.json`; step names are safe file names (schema.ts).

export interface StepHistory {
  v: 1;
  step: string;
  key: string;
  components: KeyComponents;
  /** Seconds the step's command took when it last ran (a hit keeps the producing run's figure). */
  duration_secs?: number;
  at: string;
}

const file = (cacheRoot: string, step: string) => path.join(cacheRoot, 'metadata', 'steps', `${step}.json`);

export function readStepHistory(cacheRoot: string, step: string): StepHistory | undefined {
  try {
    const value = JSON.parse(fs.readFileSync(file(cacheRoot, step), 'utf8')) as StepHistory;
    if (value.v !== 1 || typeof value.key !== 'string' || !value.components || !Array.isArray(value.components.inputs)) return undefined;
    return value;
  } catch {
    return undefined;
  }
}

export function writeStepHistory(cacheRoot: string, history: StepHistory): void {
  writeFileAtomic(file(cacheRoot, history.step), JSON.stringify(history));
}

/** Last known durations by step, for those that have one. */
export function readDurations(cacheRoot: string, steps: Iterable<string>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const step of steps) {
    const d = readStepHistory(cacheRoot, step)?.duration_secs;
    if (typeof d === 'number' && d >= 0) out[step] = d;
  }
  return out;
}
