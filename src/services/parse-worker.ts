import { parentPort } from 'node:worker_threads';
import { runParse, toWire, type ParseKind } from './parse-jobs.js';

// The entry point of a ParsePool worker thread (parse-pool.ts): one parse at a time, answered by id.
parentPort?.on('message', (job: { id: number; kind: ParseKind; bytes: Uint8Array; source: string }) => {
  try {
    parentPort!.postMessage({ id: job.id, ok: true, value: runParse(job.kind, job.bytes, job.source) });
  } catch (err) {
    parentPort!.postMessage({ id: job.id, ok: false, error: toWire(err) });
  }
});
