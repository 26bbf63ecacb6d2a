import { parentPort } from 'node:worker_threads';
import { EvidentError } from '../core/index.js';
import { MapTrees } from './map-trees.js';

// The entry point of the subject map's thread (map-thread.ts): the trees of one LogService, one request at
// a time, answered by id.
const trees = new MapTrees();

type Request =
  | { id: number; op: 'apply'; org: number; base: number; next: number; subjects: string; count: number; indexes: Float64Array; keys?: Uint8Array }
  | { id: number; op: 'prove'; org: number; size: number; key: Uint8Array }
  | { id: number; op: 'drop'; org: number };

parentPort?.on('message', (r: Request) => {
  try {
    if (r.op === 'apply') {
      // As map-thread.ts sends them: the subjects joined by newlines, the keys (if known) 32 bytes each.
      const subjects = r.count === 0 ? [] : r.subjects.split('\n');
      if (subjects.length !== r.count) throw new EvidentError('INTERNAL', 'a subject key with a newline');
      const result = r.keys
        ? trees.applyKeys(r.org, r.base, r.next, r.keys, r.indexes)
        : trees.apply(r.org, r.base, r.next, { subjects, indexes: r.indexes });
      parentPort!.postMessage({ id: r.id, ok: true, value: result });
    } else if (r.op === 'prove') {
      parentPort!.postMessage({ id: r.id, ok: true, value: trees.prove(r.org, r.size, r.key) });
    } else {
      trees.drop(r.org);
      parentPort!.postMessage({ id: r.id, ok: true });
    }
  } catch (err) {
    parentPort!.postMessage({ id: r.id, ok: false, code: err instanceof EvidentError ? err.code : 'INTERNAL', message: (err as Error).message });
  }
});
