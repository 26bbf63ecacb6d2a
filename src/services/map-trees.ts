import { EvidentError } from '../core/index.js';
import { mapHashOf, mapKey, proveMap, updateMap, type Hash, type MapNode, type MapProof } from '../ledger/index.js';

// The subject map's trees (docs/log.md, "The subject map"), one per org, as the map thread (map-thread.ts)
// keeps them: the writer sends each batch's moved subjects and gets back the new root and the subjects'
// map keys, so the ~11 SHA-256 per entry of the tree update run beside the writer's inserts (performance.md,
// issue #17). Trees are immutable and shared between versions; two versions per org are kept, the base and
// the result of the latest update, because a batch whose transaction is rolled back is tried again from the
// same base.

export interface TreeUpdates {
  subjects: string[];
  indexes: number[];
  /** Map keys already known (e.g. read from verified rows), one per subject or none. */
  keys?: Uint8Array[];
}

export interface TreeResult {
  root: Hash;
  /** The map key of each subject, 32 bytes each, in the order given. */
  keys: Uint8Array;
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
  private readonly orgs = new Map<number, Map<number, MapNode | null>>();

  /** The tree of size `next`: the tree of size `base` (0: empty) with each subject moved to its index. */
  apply(org: number, base: number, next: number, updates: TreeUpdates): TreeResult {
    const versions = this.orgs.get(org);
    const from = base === 0 ? null : versions?.get(base);
    if (from === undefined) throw new EvidentError('CONFLICT', `the subject map of size ${base} is not in memory`);
    const n = updates.subjects.length;
    const keys = new Uint8Array(32 * n);
    const ups = new Array<{ key: Hash; index: number }>(n);
    // A whole table loaded at start-up (hundreds of thousands of distinct subjects) would only churn the cache.
    const derive = n > RECENT_KEYS ? mapKey : keyOf;
    for (let i = 0; i < n; i++) {
      const key = updates.keys?.[i] ?? derive(updates.subjects[i]!);
      keys.set(key, 32 * i);
      ups[i] = { key, index: updates.indexes[i]! };
    }
    const root = updateMap(from, ups);
    this.orgs.set(org, new Map([[base, from], [next, root]]));
    return { root: mapHashOf(root), keys };
  }

  prove(org: number, size: number, key: Hash): MapProof {
    const root = size === 0 ? null : this.orgs.get(org)?.get(size);
    if (root === undefined) throw new EvidentError('CONFLICT', `the subject map of size ${size} is not in memory`);
    return proveMap(root, key);
  }

  drop(org: number): void {
    this.orgs.delete(org);
  }
}
