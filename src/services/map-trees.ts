import { EvidentError } from '../core/index.js';
import { MapForest, mapKey, type Hash, type MapProof } from '../ledger/index.js';

// The subject map's trees (docs/log.md, "The subject map"), one per org, as the map thread (map-thread.ts)
// keeps them: the writer sends each batch's moved subjects and gets back the new root, so the ~11 SHA-256
// per entry of the tree update run beside the writer's inserts (performance.md, issue #17). Each org's tree
// is a MapForest (ledger/map-flat.ts): nodes in typed arrays, two versions kept,
// the base and the result of the latest update, because a batch whose transaction is rolled back is tried
// again from the same base.

export interface TreeUpdates {
  subjects: string[];
  indexes: ArrayLike<number>;
  /** Map keys already known (e.g. read from verified rows), one per subject or none. */
  keys?: Uint8Array[];
  /** Or all of them in one array, 32 bytes per subject in order (a whole table's, derived in the map thread). */
  flat?: Uint8Array;
}

/** The map keys of `subjects` (SHA-256 of each text), 32 bytes each in order. */
export function keysOf(subjects: readonly string[]): Uint8Array {
  const out = new Uint8Array(32 * subjects.length);
  for (let i = 0; i < subjects.length; i++) out.set(mapKey(subjects[i]!), 32 * i);
  return out;
}

export interface TreeResult {
  root: Hash;
}

// A trail, flow or environment is the subject of many entries in a row: its key is hashed once. Bounded:
// cleared when full (keys are derived from the subject text, never trusted state).
const recentKeys = new Map<string, Hash>();
const RECENT_KEYS = 4096;

function keyOf(subject: string): Hash {
  let key = recentKeys.get(subject);
  if (!key) {
    if (recentKeys.size >= RECENT_KEYS) recentKeys.clear();
    recentKeys.set(subject, (key = mapKey(subject)));
  }
  return key;
}

export class MapTrees {
  private readonly orgs = new Map<number, MapForest>();

  /** The tree of size `next`: the tree of size `base` (0: empty) with each subject moved to its index. */
  apply(org: number, base: number, next: number, updates: TreeUpdates): TreeResult {
    if (updates.flat) return this.applyKeys(org, base, next, updates.flat, updates.indexes);
    const n = updates.subjects.length;
    const keys = new Uint8Array(32 * n);
    if (updates.keys) updates.keys.forEach((k, i) => keys.set(k, 32 * i));
    else {
      // A whole table loaded at start-up (hundreds of thousands of distinct subjects) would only churn the cache.
      const derive = n > RECENT_KEYS ? mapKey : keyOf;
      for (let i = 0; i < n; i++) keys.set(derive(updates.subjects[i]!), 32 * i);
    }
    return this.applyKeys(org, base, next, keys, updates.indexes);
  }

  /** apply with the subjects' map keys already known, 32 bytes each in order (copied into the tree). */
  applyKeys(org: number, base: number, next: number, keys: Uint8Array, indexes: ArrayLike<number>): TreeResult {
    let forest = this.orgs.get(org);
    if (!forest) {
      if (base !== 0) throw new EvidentError('CONFLICT', `the subject map of size ${base} is not in memory`);
      this.orgs.set(org, (forest = new MapForest()));
    }
    return { root: forest.apply(base, next, keys, indexes) };
  }

  prove(org: number, size: number, key: Hash): MapProof {
    const forest = this.orgs.get(org);
    if (size === 0) return { key, siblings: [], leaf: null };
    if (!forest?.has(size)) throw new EvidentError('CONFLICT', `the subject map of size ${size} is not in memory`);
    return forest.prove(size, key);
  }

  drop(org: number): void {
    this.orgs.delete(org);
  }
}
