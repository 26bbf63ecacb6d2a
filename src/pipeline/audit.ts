import fs from 'node:fs';
import path from 'node:path';
import { planPipeline } from './plan.js';
import { parseReceiptText, type Receipt } from './receipt.js';
import type { StepSpec } from './types.js';

// `evident audit analyze [--period N]` (seed 003 §8.2 "Performance Metrics", §11.3 "Profile your pipeline"):
// figures from the receipts the runner stores in .evident/cache/receipts/ — one per run — and only the
// suggestions those receipts support: a step that never hits the cache, with the input file that changed
// between every pair of its runs when there is one; a slow step whose cache is disabled; a step that
// fails often. No guesses beyond the data.

export interface StepFigures {
  step: string;
  runs: number;
  /** Mean duration over the executions where the step ran (not restored); over all when it never ran. */
  avgSecs: number;
  hits: number;
  misses: number;
  disabled: number;
  failures: number;
}

export interface AuditReport {
  periodDays: number;
  executions: number;
  /** Receipts that could not be read. */
  unreadable: string[];
  avgDurationSecs: number;
  /** hits / (hits + misses); undefined when no step used the cache. */
  cacheHitRate?: number;
  steps: StepFigures[];
  slowest: StepFigures[];
  criticalPath?: { steps: string[]; durationSecs?: number };
  suggestions: string[];
}

export function receiptsDir(workspace: string): string {
  return path.join(workspace, '.evident', 'cache', 'receipts');
}

/** The receipts of the last `periodDays`, oldest first, and the files that could not be parsed. */
export function readReceipts(workspace: string, periodDays: number, now = Date.now()): { receipts: Receipt[]; unreadable: string[] } {
  const dir = receiptsDir(workspace);
  const names = fs.existsSync(dir) ? fs.readdirSync(dir).filter((n) => n.endsWith('.yaml')).sort() : [];
  const since = now - periodDays * 86_400_000;
  const receipts: Receipt[] = [];
  const unreadable: string[] = [];
  for (const name of names) {
    const { receipt } = parseReceiptText(fs.readFileSync(path.join(dir, name), 'utf8'));
    if (!receipt) unreadable.push(name);
    else if (Date.parse(receipt.timestamp) >= since) receipts.push(receipt);
  }
  receipts.sort((a, b) => a.timestamp.localeCompare(b.timestamp));
  return { receipts, unreadable };
}

const mean = (xs: number[]) => (xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length);

/** An input that had a different hash in every run of the step (all of them changed each time). */
function alwaysChangingInput(runs: Receipt['steps']): string | undefined {
  if (runs.length < 2) return undefined;
  const hashes = runs.map((r) => new Map(r.inputs.map((f) => [f.path, f.hash])));
  const candidates = [...hashes[0]!.keys()].sort();
  return candidates.find((p) => hashes.every((h, i) => i === 0 || (h.has(p) && h.get(p) !== hashes[i - 1]!.get(p))));
}

export function analyze(receipts: readonly Receipt[], options: { periodDays: number; graph?: ReadonlyMap<string, StepSpec>; unreadable?: string[]; top?: number }): AuditReport {
  const byStep = new Map<string, Receipt['steps']>();
  for (const r of receipts) for (const s of r.steps) byStep.set(s.name, [...(byStep.get(s.name) ?? []), s]);
  const steps: StepFigures[] = [...byStep].map(([step, runs]) => {
    const ran = runs.filter((s) => s.cache !== 'hit');
    return {
      step, runs: runs.length,
      avgSecs: mean((ran.length > 0 ? ran : runs).map((s) => s.duration_secs)),
      hits: runs.filter((s) => s.cache === 'hit').length,
      misses: runs.filter((s) => s.cache === 'miss').length,
      disabled: runs.filter((s) => s.cache === 'disabled').length,
      failures: runs.filter((s) => s.exit_code !== 0).length,
    };
  });
  const hits = steps.reduce((n, s) => n + s.hits, 0);
  const misses = steps.reduce((n, s) => n + s.misses, 0);
  const slowest = [...steps].sort((a, b) => b.avgSecs - a.avgSecs || a.step.localeCompare(b.step)).slice(0, options.top ?? 5);
  let criticalPath: AuditReport['criticalPath'];
  if (options.graph) {
    const durations = Object.fromEntries(steps.map((s) => [s.step, s.avgSecs]));
    const cp = planPipeline([...options.graph.values()], durations).criticalPath;
    criticalPath = { steps: cp.steps, ...(cp.durationSecs !== undefined ? { durationSecs: cp.durationSecs } : {}) };
  }
  const suggestions: string[] = [];
  for (const s of steps) {
    const runs = byStep.get(s.step)!;
    if (s.hits === 0 && s.misses >= 2) {
      const input = alwaysChangingInput(runs.filter((r) => r.cache === 'miss'));
      suggestions.push(input
        ? `${s.step} never hits the cache: its inputs include a file that changes every run (${input})`
        : `${s.step} never hits the cache in ${s.misses} runs: \`evident cache explain ${s.step}\` says what changed`);
    }
    if (s.disabled > 0 && s.hits + s.misses === 0 && s.avgSecs >= 10 && slowest.some((x) => x.step === s.step)) {
      suggestions.push(`${s.step}: enable caching (currently disabled), it takes ${s.avgSecs.toFixed(1)}s a run`);
    }
    if (s.failures > 0 && s.failures * 2 >= s.runs && s.runs >= 2) suggestions.push(`${s.step} failed in ${s.failures} of ${s.runs} runs`);
  }
  return {
    periodDays: options.periodDays,
    executions: receipts.length,
    unreadable: options.unreadable ?? [],
    avgDurationSecs: mean(receipts.map((r) => r.total_duration_secs)),
    ...(hits + misses > 0 ? { cacheHitRate: hits / (hits + misses) } : {}),
    steps, slowest,
    ...(criticalPath ? { criticalPath } : {}),
    suggestions,
  };
}
