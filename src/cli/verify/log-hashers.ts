import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { EvidentError } from '../../core/index.js';
import { runHashJob, type HashJob, type HashResult } from './log-hash-job.js';
import { fetchAndHash, type JobFetch } from './log-hash-fetch.js';
import * as workerThreads from 'node:worker_threads';

const isMarkedAsUntransferable = (workerThreads as { isMarkedAsUntransferable?: (o: object) => boolean }).isMarkedAsUntransferable;

// Hashing threads for `verify log --full` (log-stream.ts): SHA-256 and the canonical-JSON check of every
// entry cost ~12 µs each, several times what fetching a bundle costs, so they run beside the thread that
// fetches. Jobs go to the least busy thread; answers come back by id, in any order.

interface Pending { resolve(r: HashResult | null): void; reject(e: Error): void }
interface Slot { worker: Worker; busy: Map<number, Pending> }

/** The worker's script beside this module once built (dist/src/cli/verify, or the CLI bundle's dist/cli). */
function workerScript(): URL | undefined {
  const url = new URL('./log-hash-worker.js', import.meta.url);
  try {
    return fs.existsSync(fileURLToPath(url)) ? url : undefined;
  } catch {
    return undefined;
  }
}

export class Hashers {
  private readonly slots: Slot[] = [];
  private nextId = 1;
  private failure: Error | undefined;

  /** `threads` 0 (or no built worker script, as under the unit tests) hashes in this thread. */
  constructor(threads: number) {
    const script = threads > 0 ? workerScript() : undefined;
    if (!script) return;
    for (let i = 0; i < threads; i++) {
      const slot: Slot = { worker: new Worker(script, { execArgv: [], resourceLimits: { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 48 } }), busy: new Map() };
      slot.worker.on('message', (msg: { id: number; ok: boolean; result?: HashResult | null; message?: string }) => {
        const pending = slot.busy.get(msg.id);
        slot.busy.delete(msg.id);
        if (msg.ok) pending?.resolve(msg.result ?? null);
        else pending?.reject(new EvidentError('INTERNAL', `hashing thread: ${msg.message}`));
      });
      const fail = (err: Error) => {
        this.failure ??= new EvidentError('INTERNAL', `hashing thread stopped: ${err.message}`, { cause: err });
        for (const p of slot.busy.values()) p.reject(this.failure);
        slot.busy.clear();
      };
      slot.worker.on('error', fail);
      slot.worker.on('exit', (code) => fail(new Error(`exit code ${code}`)));
      this.slots.push(slot);
    }
  }

  get threads(): number {
    return this.slots.length;
  }

  /** Runs one job; its bundles' buffers are handed over to the thread (the caller must not use them after). */
  run(job: HashJob): Promise<HashResult>;
  /**
   * Runs one job whose bundles the thread downloads itself (log-hash-fetch.ts); null when a download failed
   * and the caller must read the bundles and run the job with them.
   */
  run(job: HashJob, fetch: JobFetch): Promise<HashResult | null>;
  run(job: HashJob, fetch?: JobFetch): Promise<HashResult | null> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.slots.length === 0) return fetch ? fetchAndHash(job, fetch) : new Promise((resolve) => setImmediate(() => resolve(runHashJob(job))));
    const slot = this.slots.reduce((a, b) => (b.busy.size < a.busy.size ? b : a));
    const id = this.nextId++;
    const transfer = job.bundles.flatMap((b) => (Array.isArray(b) ? [] : [b.buffer as ArrayBuffer]));
    return new Promise((resolve, reject) => {
      slot.busy.set(id, { resolve, reject });
      slot.worker.postMessage({ id, job, fetch }, uniqueWhole(transfer, job));
    });
  }

  async close(): Promise<void> {
    const slots = this.slots.splice(0);
    await Promise.all(slots.map((s) => { s.worker.removeAllListeners('exit'); return s.worker.terminate(); }));
  }
}

/** Transfers only buffers the bundles own whole: a bundle sharing its buffer with other data is copied instead. */
function uniqueWhole(buffers: ArrayBuffer[], job: HashJob): ArrayBuffer[] {
  const seen = new Set<ArrayBuffer>();
  return buffers.filter((buf, i) => {
    const view = job.bundles.filter((b) => !Array.isArray(b))[i] as Uint8Array;
    // Node 21+ refuses a buffer it marked untransferable (Buffer's pool) in a transfer list: that one is copied.
    if (seen.has(buf) || view.byteOffset !== 0 || view.byteLength !== buf.byteLength || isMarkedAsUntransferable?.(buf)) return false;
    seen.add(buf);
    return true;
  });
}
