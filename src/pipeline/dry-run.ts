import path from 'node:path';
import { cacheKey } from './cache-key.js';
import { planPipeline } from './plan.js';
import { parsePattern } from './patterns.js';
import { RemoteTier, type RemoteCacheOptions } from './remote-tier.js';
import { openCache } from './run.js';
import type { LoadedSpec } from './spec.js';
import { allInputs, digestGlobalInputs, keyComponents } from './step-inputs.js';

// `evident run --dry` / `--dry=json` (turbo's `--dry-run`, issue #19 item 3): what the run would do,
// without running anything — per step its command, needs, inputs and outputs, its cache key as the
// workspace is now and whether that key is in the local cache or, with a remote cache, on the server
// (turbo's dry run reports both). Read-only: nothing is written to the cache but the stat memo the key
// computation shares with `evident cache explain`, and nothing is downloaded.

export interface DryStep {
  name: string;
  command: string;
  needs: string[];
  /** Steps of this run that need it. */
  dependents: string[];
  inputs: string[];
  outputs: string[];
  /** Parallel group (1 = first), as `pipeline graph`. */
  group: number;
  /** The cache key now; null when it cannot be worked out (a missing input: the run would fail the step). */
  key: string | null;
  /**
   * hit: restored from the local cache; remote: from the remote cache (a trusted entry that passes every
   * check, its objects on the server); miss: would run; disabled: `cache: false` or cache.enabled false.
   */
  cache: 'hit' | 'remote' | 'miss' | 'disabled' | 'unknown';
  /** Why the key is unknown. */
  problem?: string;
  /** Why the remote cache's entry for this key would not be used (a loud miss in the run). */
  remote_miss?: string;
  /**
   * A step it needs is not a hit: that step runs first and may rewrite this one's input files, so the
   * key shown (from the files as they are now) may not be the one the run uses.
   */
  provisional?: true;
  /** How many input files the key covers (global inputs included), when the key is known. */
  input_files?: number;
}

export interface DryPlan {
  pipeline: string;
  /** The steps the filters picked (the others run because these need them). */
  targets: string[];
  groups: string[][];
  steps: DryStep[];
  /** The remote cache asked, when one is configured. */
  remote_cache?: string;
  warnings: string[];
}

export async function dryRun(
  loaded: LoadedSpec, selected: readonly string[], targets: readonly string[], isolation?: 'process' | 'sandbox', remoteOptions?: RemoteCacheOptions,
): Promise<DryPlan> {
  const { spec, workspace } = loaded;
  const keep = new Set(selected);
  const steps = [...spec.steps.values()].filter((s) => keep.has(s.name));
  const plan = planPipeline(steps);
  const groupOf = new Map(plan.groups.flatMap((g, i) => g.map((n) => [n, i + 1] as const)));
  const cache = openCache(loaded);
  const keys = new Map<string, string>();
  const status = new Map<string, string>();
  const out: DryStep[] = [];
  const warnings: string[] = [];
  const remote = remoteOptions ? new RemoteTier(remoteOptions, workspace, cache, (message) => warnings.push(message)) : undefined;
  try {
    let global: Awaited<ReturnType<typeof digestGlobalInputs>> | undefined;
    let globalProblem: string | undefined;
    try {
      global = await digestGlobalInputs(workspace, spec, path.basename(loaded.file), cache.memo);
    } catch (err) {
      globalProblem = `global inputs: ${(err as Error).message}`;
    }
    for (const name of plan.order) {
      const step = spec.steps.get(name)!;
      const base = {
        name, command: step.run, needs: step.needs, dependents: steps.filter((d) => d.needs.includes(name)).map((d) => d.name),
        inputs: step.inputs, outputs: step.outputs, group: groupOf.get(name)!,
      };
      const upstream = step.needs.find((n) => !keys.has(n));
      if (globalProblem || upstream !== undefined) {
        out.push({ ...base, key: null, cache: 'unknown', problem: globalProblem ?? `the key of ${upstream} is unknown` });
        continue;
      }
      try {
        const components = await keyComponents(step, { workspace, spec, memo: cache.memo, needKeys: keys, global: global!, ...(isolation ? { isolation } : {}) });
        const key = cacheKey(components);
        keys.set(name, key);
        const enabled = spec.cache.enabled && step.cache;
        const found = enabled ? cache.lookup(key, step.outputs.map(parsePattern)) : undefined;
        const provisional = step.needs.some((n) => status.get(n) !== 'hit' && status.get(n) !== 'remote');
        let cacheStatus: DryStep['cache'] = !enabled ? 'disabled' : found !== undefined && 'manifest' in found ? 'hit' : 'miss';
        let remoteMiss: string | undefined;
        if (cacheStatus === 'miss' && remote) {
          const peeked = await remote.peek(step, key);
          if (peeked?.hit) cacheStatus = 'remote';
          else if (peeked) remoteMiss = peeked.reason;
        }
        status.set(name, provisional && cacheStatus !== 'miss' && cacheStatus !== 'disabled' ? 'provisional' : cacheStatus);
        out.push({
          ...base, key, cache: cacheStatus, input_files: allInputs(components).length, ...(provisional ? { provisional: true as const } : {}),
          ...(remoteMiss ? { remote_miss: remoteMiss } : {}),
        });
      } catch (err) {
        out.push({ ...base, key: null, cache: 'unknown', problem: (err as Error).message });
      }
    }
  } finally {
    cache.close();
  }
  return { pipeline: spec.name, targets: [...targets], groups: plan.groups, steps: out, ...(remoteOptions ? { remote_cache: remoteOptions.label } : {}), warnings };
}
