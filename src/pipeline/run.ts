import os from 'node:os';
import path from 'node:path';
import { EvidentError } from '../core/index.js';
import { LocalCache } from './cache.js';
import { Sealer } from './seal.js';
import { Processes, schedule } from './executor.js';
import { resultLine, type StepOutcome } from './lines.js';
import { closureOf, planPipeline } from './plan.js';
import { acquireRunLock } from './run-lock.js';
import type { LoadedSpec } from './spec.js';
import { StepRunner } from './step-runner.js';
import { RemoteTier, type RemoteCacheOptions } from './remote-tier.js';
import { logPath } from './step-inputs.js';
import type { RunObserver, RunRecord, StepRecord, StepSpec } from './types.js';
import { deterministicEnv } from './deterministic.js';
import { EventDispatcher } from './events.js';
import { NO_BWRAP, findBwrap } from './sandbox.js';
import { resolveImages } from './container.js';
import { ReplayRecorder, forgetReplay, replayBlocker } from './replay-record.js';

// `evident run` as a function (issue #6 item 5): spec → plan → executor → cache, with the observers that
// write receipts, provenance and in-toto links told about each step the moment it succeeds and about the
// whole run at the end (also when it failed).

export type RunEvent =
  | { type: 'step-started'; step: string }
  | { type: 'step-finished'; step: string; record: StepRecord; outcome: StepOutcome; line: string; log: string }
  | { type: 'step-skipped'; step: string; outcome: StepOutcome; line: string }
  | { type: 'warning'; message: string };

export interface RunOptions {
  loaded: LoadedSpec;
  /** Processes at a time (default: the number of CPUs). */
  jobs?: number;
  keepGoing?: boolean;
  noCache?: boolean;
  /** Run this step and the steps it needs (which hit the cache when already built). */
  only?: string;
  /** --filter / --affected: exactly these steps (closed under `needs`: select.ts). */
  select?: readonly string[];
  observers?: RunObserver[];
  onEvent?: (event: RunEvent) => void;
  /** --deterministic: SOURCE_DATE_EPOCH, TZ=UTC, LC_ALL=C, sorted env (deterministic.ts). */
  deterministic?: boolean;
  /** --isolation sandbox: run every step under bubblewrap (sandbox.ts). */
  isolation?: 'process' | 'sandbox';
  /** The attest.yaml `events` handlers; default: made from the spec. Given by callers that emit too. */
  events?: EventDispatcher;
  /** `--remote-cache`: asked on a local miss, filled after each step that ran (docs/cache.md). */
  remote?: RemoteCacheOptions;
  /**
   * Record what the next plain `evident run` needs to replay this one (replay-record.ts). Set by the CLI
   * when its observers are the plain run's (provenance, an unsigned receipt, no in-toto links).
   */
  recordReplay?: boolean;
}

export interface RunResult {
  record: RunRecord;
  outcomes: Map<string, StepOutcome>;
  /** Steps that did not run, with why. */
  skipped: Map<string, string>;
  /** Observer failures (a receipt or provenance that could not be written): the run is not ok. */
  observerErrors: string[];
  /** SIGINT or SIGTERM stopped the run (the CLI exits 130 or 143; the receipt says cancelled). */
  interrupted?: NodeJS.Signals;
  evicted: number;
}

export function cacheRootOf(workspace: string): string {
  return path.join(workspace, '.evident', 'cache');
}

export function openCache(loaded: LoadedSpec): LocalCache {
  const { compression, maxSizeBytes, retentionDays } = loaded.spec.cache;
  const sealer = Sealer.forWorkspace(loaded.workspace, { create: true })!;
  return new LocalCache(cacheRootOf(loaded.workspace), { compression, maxBytes: maxSizeBytes, retentionDays }, sealer).open();
}

export async function runPipeline(options: RunOptions): Promise<RunResult> {
  const { loaded } = options;
  const { spec, workspace } = loaded;
  const emit = options.onEvent ?? (() => {});
  const observers = options.observers ?? [];
  let steps = [...spec.steps.values()];
  if (options.only !== undefined) {
    if (!spec.steps.has(options.only)) throw new EvidentError('INVALID_ARGUMENT', `--only ${options.only}: no such step (steps: ${[...spec.steps.keys()].join(', ')})`);
    const keep = closureOf(steps, options.only);
    steps = steps.filter((s) => keep.has(s.name));
  }
  if (options.select !== undefined) {
    // --filter / --affected (select.ts): the set is closed under needs already.
    const keep = new Set(options.select);
    steps = steps.filter((s) => keep.has(s.name));
  }
  const plan = planPipeline(steps);
  // A sandbox that cannot be made is a clear error before anything runs, never an unsandboxed run.
  if ((options.isolation === 'sandbox' || steps.some((s) => s.isolation === 'sandbox')) && !findBwrap()) throw new EvidentError('INVALID_ARGUMENT', NO_BWRAP);
  // Likewise Podman and every image, resolved to its ID before any step runs (container.ts).
  const imageNames = steps.flatMap((s) => (s.isolation === 'container' && s.image !== undefined ? [s.image] : []));
  const images = imageNames.length > 0 ? await resolveImages(imageNames) : undefined;
  const events = options.events ?? new EventDispatcher(spec.events, { workspace, pipeline: spec.name, warn: (message) => emit({ type: 'warning', message }) });
  const deterministic = options.deterministic ? deterministicEnv(workspace) : undefined;
  if (deterministic?.warning) emit({ type: 'warning', message: deterministic.warning });
  const graph: Record<string, StepSpec> = Object.fromEntries([...spec.steps].map(([n, s]) => [n, s]));
  const started = Date.now();
  const release = acquireRunLock(workspace);
  const cache = openCache(loaded);
  // Whatever this run changes, the last run's replay file no longer describes the workspace.
  forgetReplay(cache.root);
  const recorder = options.recordReplay && replayBlocker(spec, options) === undefined ? new ReplayRecorder(workspace, cache) : undefined;
  const processes = new Processes();
  let interrupted: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    interrupted = signal;
    processes.signal(signal);
    // Started now, so that a step whose shell ignores the signal is SIGKILLed after the grace period.
    void processes.drain();
  };
  process.on('SIGINT', onSignal).on('SIGTERM', onSignal);

  events.emit('pipeline.started', { steps: plan.order.length, ...(options.only ? { only: options.only } : {}) });
  const outcomes = new Map<string, StepOutcome>();
  const completed: StepRecord[] = [];
  const observerErrors: string[] = [];
  const remote = options.remote ? new RemoteTier(options.remote, workspace, cache, (message) => emit({ type: 'warning', message })) : undefined;
  const runner: StepRunner = new StepRunner({
    workspace, spec, cache, processes, remote, recorder, attestFile: path.basename(loaded.file),
    noCache: options.noCache ?? false,
    isInterrupted: () => interrupted !== undefined,
    ...(deterministic ? { deterministic } : {}),
    ...(options.isolation ? { isolation: options.isolation } : {}),
    ...(images ? { images } : {}),
    verified: (step, check) => events.emit('verification.completed', { step, ...check }),
    events: {
      started: (step) => {
        events.emit('step.started', { step });
        emit({ type: 'step-started', step });
      },
      warning: (message) => emit({ type: 'warning', message }),
      finished: (step, record, outcome) => {
        outcomes.set(step, outcome);
        completed.push(record);
        if (record.cache !== 'disabled' && record.key !== '') events.emit(record.cache === 'hit' ? 'cache.hit' : 'cache.miss', { step, key: record.key });
        events.emit(outcome.status === 'ok' ? 'step.completed' : 'step.failed', { step, detail: outcome.detail, exit_code: record.exitCode, duration_secs: record.durationSecs, cache: record.cache });
        emit({ type: 'step-finished', step, record, outcome, line: resultLine(step, outcome, record.durationSecs), log: path.join(workspace, logPath(step)) });
      },
    },
    succeeded: async (record) => {
      for (const observer of observers) {
        try {
          await observer.stepSucceeded?.(record, { pipeline: spec.name, workspace, graph, succeeded: runner.records, pipelineHash: loaded.hash, memo: cache.memo });
        } catch (err) {
          observerErrors.push(`after ${record.name}: ${(err as Error).message}`);
          emit({ type: 'warning', message: `attestation failed after ${record.name}: ${(err as Error).message}` });
        }
      }
    },
  });

  let evicted = 0;
  let result;
  try {
    const needs = new Map(steps.map((s) => [s.name, s.needs]));
    result = await schedule(plan.order, needs, (name, slots) => runner.run(name, slots), {
      jobs: options.jobs ?? os.availableParallelism(),
      keepGoing: options.keepGoing ?? false,
    });
    for (const name of plan.order) {
      const reason = result.skipped.get(name);
      if (reason === undefined) continue;
      const outcome: StepOutcome = { status: 'skipped', detail: interrupted ? `not started: interrupted (${interrupted})` : reason };
      outcomes.set(name, outcome);
      emit({ type: 'step-skipped', step: name, outcome, line: resultLine(name, outcome) });
    }
    // Interrupted: nothing a step started outlives the run (SIGKILL after the grace period).
    if (interrupted) await processes.drain();
    await remote?.flush();
    evicted = cache.prune().length;
    // Under the run lock, so that a run starting now forgets it rather than racing it.
    if (recorder && result.failed.length === 0 && result.skipped.size === 0 && observerErrors.length === 0 && !interrupted) {
      try {
        recorder.finish(spec, loaded.hash, plan.order);
      } catch (err) {
        // Only a speed-up for the next run: that run will simply run in full.
        emit({ type: 'warning', message: `could not record the run for replay: ${(err as Error).message}` });
      }
    }
  } finally {
    cache.close();
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
    release();
  }
  const ok = result.failed.length === 0 && result.skipped.size === 0 && observerErrors.length === 0 && !interrupted;
  const record: RunRecord = {
    pipeline: spec.name,
    pipelineHash: loaded.hash,
    workspace,
    startedAt: new Date(started).toISOString(),
    totalDurationSecs: (Date.now() - started) / 1000,
    steps: completed,
    graph,
    ok,
    ...(interrupted ? { cancelled: true } : {}),
  };
  for (const observer of observers) {
    try {
      await observer.runFinished?.(record);
    } catch (err) {
      observerErrors.push(`at the end of the run: ${(err as Error).message}`);
      emit({ type: 'warning', message: `attestation failed at the end of the run: ${(err as Error).message}` });
      record.ok = false;
    }
  }
  // A replay would redo the receipt too: a run whose receipt failed is not one to replay.
  if (recorder && !record.ok) forgetReplay(cache.root);
  events.emit('pipeline.completed', { ok: record.ok, total_duration_secs: record.totalDurationSecs, steps: record.steps.length, skipped: result.skipped.size });
  if (!options.events) await events.close();
  return { record, outcomes, skipped: result.skipped, observerErrors, evicted, ...(interrupted ? { interrupted } : {}) };
}
