import { parentPort } from 'node:worker_threads';
import { runHashJob, type HashJob } from './log-hash-job.js';

// The entry point of a `verify log --full` hashing thread (log-hashers.ts): one job at a time, answered by id.
parentPort?.on('message', (msg: { id: number; job: HashJob }) => {
  try {
    const result = runHashJob(msg.job);
    const { hashes, moves } = result;
    parentPort!.postMessage({ id: msg.id, ok: true, result }, [hashes.buffer, moves.indexes.buffer, moves.prevs.buffer, moves.keys.buffer] as ArrayBuffer[]);
  } catch (err) {
    parentPort!.postMessage({ id: msg.id, ok: false, message: (err as Error).message });
  }
});
