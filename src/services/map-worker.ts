import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { EvidentError } from '../core/index.js';
import { MapTrees, keysOf } from './map-trees.js';

// The entry point of the subject map's thread (map-thread.ts): the trees of one LogService, one request at
// a time, answered by id on the port map-thread.ts handed over (it drains that port without waiting for its event loop).
const trees = new MapTrees();
const { replies } = workerData as { replies: MessagePort };

type Request =
  | { id: number; op: 'apply'; org: number; base: number; next: number; subjects: string; count: number; indexes: Float64Array; keys?: Uint8Array }
  | { id: number; op: 'keys'; subjects: string; count: number }
  | { id: number; op: 'prove'; org: number; size: number; key: Uint8Array }
  | { id: number; op: 'drop'; org: number };

parentPort?.on('message', (r: Request) => {
  try {
    if (r.op === 'apply') {
      // As map-thread.ts sends them: the keys 32 bytes each when known, else the subjects joined by newlines.
      const result = r.keys
        ? trees.applyKeys(r.org, r.base, r.next, r.keys, r.indexes)
        : trees.apply(r.org, r.base, r.next, { subjects: split(r.subjects, r.count), indexes: r.indexes });
      replies.postMessage({ id: r.id, ok: true, value: result });
    } else if (r.op === 'keys') {
      const keys = keysOf(split(r.subjects, r.count));
      replies.postMessage({ id: r.id, ok: true, value: keys }, [keys.buffer as ArrayBuffer]);
    } else if (r.op === 'prove') {
      replies.postMessage({ id: r.id, ok: true, value: trees.prove(r.org, r.size, r.key) });
    } else {
      trees.drop(r.org);
      replies.postMessage({ id: r.id, ok: true });
    }
  } catch (err) {
    replies.postMessage({ id: r.id, ok: false, code: err instanceof EvidentError ? err.code : 'INTERNAL', message: (err as Error).message });
  }
});

function split(joined: string, count: number): string[] {
  const subjects = count === 0 ? [] : joined.split('\n');
  if (subjects.length !== count) throw new EvidentError('INTERNAL', 'a subject key with a newline');
  return subjects;
}
