import { parentPort } from 'node:worker_threads';
import { runHashJob, type HashJob, type HashResult } from './log-hash-job.js';
import { fetchBundles, type JobFetch } from './log-hash-fetch.js';

// The entry point of a `verify log --full` hashing thread (log-hashers.ts), answered by id. A job either
// brings its bundles (hashed at once) or says where to GET them (log-hash-fetch.ts): then the thread may have
// a second job downloading while it hashes one.
parentPort?.on('message', (msg: { id: number; job: HashJob; fetch?: JobFetch }) => {
  if (!msg.fetch) {
    answer(msg.id, msg.job, () => runHashJob(msg.job));
    return;
  }
  fetchBundles(msg.fetch).then(
    (bundles) => {
      if (!bundles) return parentPort!.postMessage({ id: msg.id, ok: true, result: null });
      const job = { ...msg.job, bundles };
      answer(msg.id, job, () => runHashJob(job));
    },
    (err: Error) => parentPort!.postMessage({ id: msg.id, ok: false, message: err.message }),
  );
});

function answer(id: number, job: HashJob, run: () => HashResult): void {
  try {
    const result = run();
    release(job);
    const { hashes, moves } = result;
    parentPort!.postMessage({ id, ok: true, result }, [hashes.buffer, moves.indexes.buffer, moves.prevs.buffer, moves.keys.buffer] as ArrayBuffer[]);
  } catch (err) {
    parentPort!.postMessage({ id, ok: false, message: (err as Error).message });
  }
}

/**
 * Frees the job's bundles now rather than at this isolate's next full GC. The bundles came in transferred, and
 * their ArrayBuffers usually outlive a scavenge while the job runs, so they reach the old generation, which
 * the job hardly grows: V8 then collects them only when their external memory reaches its limit, ~64 MB a
 * thread (measured: 21 → 64 MB over 40 jobs, most of the verifier's peak RSS; issue #21). Moving each
 * backing store to a fresh, unreferenced ArrayBuffer (a transfer to nowhere) leaves it to the next scavenge.
 */
function release(job: HashJob): void {
  for (const b of job.bundles) {
    if (Array.isArray(b) || b.buffer.byteLength === 0) continue;
    try {
      structuredClone(b.buffer, { transfer: [b.buffer as ArrayBuffer] });
    } catch {
      // not transferable here: left to the GC, as before
    }
  }
}
