import { EvidentError } from '../core/index.js';
import { cacheKey, type KeyComponents } from './cache-key.js';
import { describeChange, diffKeyComponents, type KeyChange } from './explain.js';
import { closureOf, planPipeline } from './plan.js';
import { openCache } from './run.js';
import type { LoadedSpec } from './spec.js';
import { digestGlobalInputs, keyComponents } from './step-inputs.js';
import path from 'node:path';
import { readStepHistory } from './step-history.js';
import { parsePattern } from './patterns.js';

// `evident cache explain STEP`: the step's key as the workspace is now, against the key inputs recorded by
// the last run, component by component. The keys of the steps it needs are worked out the same way.

export interface KeyExplanation {
  step: string;
  key: string;
  components: KeyComponents;
  previous?: { key: string; at: string };
  changes: KeyChange[];
  /** Would `evident run` hit the cache for this step now? */
  cached: boolean;
  /** Human lines, in the order of `changes`. */
  lines: string[];
}

export async function explainStep(loaded: LoadedSpec, name: string): Promise<KeyExplanation> {
  const { spec, workspace } = loaded;
  if (!spec.steps.has(name)) throw new EvidentError('NOT_FOUND', `no step ${JSON.stringify(name)} in ${loaded.file} (steps: ${[...spec.steps.keys()].join(', ')})`);
  const steps = [...spec.steps.values()];
  const keep = closureOf(steps, name);
  const cache = openCache(loaded);
  const keys = new Map<string, string>();
  let components: KeyComponents | undefined;
  try {
    const global = await digestGlobalInputs(workspace, spec, path.basename(loaded.file), cache.memo);
    for (const stepName of planPipeline(steps.filter((s) => keep.has(s.name))).order) {
      const step = spec.steps.get(stepName)!;
      try {
        components = await keyComponents(step, { workspace, spec, memo: cache.memo, needKeys: keys, global });
      } catch (err) {
        throw new EvidentError('INVALID_ARGUMENT', `cannot work out the key of ${stepName}: ${(err as Error).message}`, { cause: err });
      }
      keys.set(stepName, cacheKey(components));
    }
    const key = keys.get(name)!;
    const history = readStepHistory(cache.root, name);
    const changes = history ? diffKeyComponents(history.components, components!) : [];
    const found = spec.cache.enabled && spec.steps.get(name)!.cache ? cache.lookup(key, spec.steps.get(name)!.outputs.map(parsePattern)) : undefined;
    return {
      step: name,
      key,
      components: components!,
      ...(history ? { previous: { key: history.key, at: history.at } } : {}),
      changes,
      cached: found !== undefined && 'manifest' in found,
      lines: changes.map(describeChange),
    };
  } finally {
    cache.close();
  }
}
