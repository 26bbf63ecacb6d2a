import fs from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import * as workerThreads from 'node:worker_threads';
import { Worker } from 'node:worker_threads';

/** Node 21+; on Node 20 an untransferable buffer in a transfer list is copied rather than refused. */
const isMarkedAsUntransferable = (workerThreads as { isMarkedAsUntransferable?: (o: object) => boolean }).isMarkedAsUntransferable;
import { EvidentError } from '../core/index.js';
import { fromWire, runParse, type ParseKind, type ParseResults, type WireError } from './parse-jobs.js';

// Report files (JUnit, SARIF, provenance) are up to 50 MiB of attacker-chosen text: parsed on the event
// loop, a 49 MiB JUnit file stopped every request for 12.4 s (reliability report F4). They are parsed here
// in a few worker threads instead, with a bounded queue, a time limit and a heap limit per parse, so the
// server keeps answering whatever is uploaded. Starting a worker costs ~25 ms of CPU, so workers are kept
// between parses (unref'd, so they never hold the process open) and end after IDLE_MS unused.

export interface ParsePoolOptions {
  /** Worker threads (default: one per core beyond the first, at least 1, at most 4; 0 parses in this thread). */
  workers?: number;
  /** Parses waiting for a worker beyond those running; more are refused with 503 (default 16). */
  maxQueue?: number;
  /** Longest one parse may run; it is then stopped and refused with 422 (default 60 s). */
  timeoutMs?: number;
  /** Heap one parse may use, in MiB; beyond it the parse is stopped and refused with 422 (default 1024). */
  heapMb?: number;
  /** The worker's script (default: parse-worker.js beside this module, when built). */
  script?: URL;
}

export const DEFAULT_PARSE_POOL = { maxQueue: 16, timeoutMs: 60_000, heapMb: 1024 };
const IDLE_MS = 30_000;

interface Job { id: number; kind: ParseKind; bytes: Uint8Array; source: string; resolve(v: unknown): void; reject(e: Error): void }
interface Slot { worker: Worker; job?: Job; timer?: NodeJS.Timeout; idle?: NodeJS.Timeout }

/** Where the worker's script is: beside this module once built (dist/src, or the CLI bundle's dist/cli). */
function workerScript(): URL | undefined {
  const url = new URL('./parse-worker.js', import.meta.url);
  try {
    return fs.existsSync(fileURLToPath(url)) ? url : undefined;
  } catch {
    return undefined;
  }
}

export class ParsePool {
  readonly workers: number;
  readonly maxQueue: number;
  readonly timeoutMs: number;
  readonly heapMb: number;
  private readonly script: URL | undefined;
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private nextId = 1;
  private closed = false;

  constructor(options: ParsePoolOptions = {}) {
    this.script = options.script ?? workerScript();
    const cores = os.availableParallelism?.() ?? os.cpus().length;
    this.workers = this.script ? options.workers ?? Math.min(4, Math.max(1, cores - 1)) : 0;
    this.maxQueue = options.maxQueue ?? DEFAULT_PARSE_POOL.maxQueue;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_PARSE_POOL.timeoutMs;
    this.heapMb = options.heapMb ?? DEFAULT_PARSE_POOL.heapMb;
  }

  /** Parses `bytes` (UTF-8) as `kind`; the parser's own errors come back as they were thrown. */
  parse<K extends ParseKind>(kind: K, bytes: Uint8Array, source: string): Promise<ParseResults[K]> {
    if (this.workers === 0) return Promise.resolve().then(() => runParse(kind, bytes, source) as ParseResults[K]);
    if (this.closed) return Promise.reject(new EvidentError('UNAVAILABLE', 'the server is shutting down'));
    const busy = this.slots.filter((s) => s.job).length;
    if (busy >= this.workers && this.queue.length >= this.maxQueue) {
      return Promise.reject(new EvidentError('UNAVAILABLE', `the report parsers are busy (${this.maxQueue} reports waiting, the limit): try again shortly`, { details: { retry_after_secs: 5 } }));
    }
    // Transferred, not copied, when the bytes own their whole buffer; otherwise copied into a fresh one first
    // (`new Uint8Array(view)` copies; Buffer#slice would not). Node marks Buffer's shared pool, and buffers it
    // allocates itself, untransferable: Node 21+ refuses them in a transfer list (DataCloneError, issue #20).
    const exclusive = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && !(bytes.buffer instanceof SharedArrayBuffer)
      && !isMarkedAsUntransferable?.(bytes.buffer);
    const own = exclusive ? bytes : new Uint8Array(bytes);
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, kind, bytes: own, source, resolve: resolve as Job['resolve'], reject });
      this.dispatch();
    });
  }

  /** Stops every worker; parses in progress are refused. */
  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.reject(new EvidentError('UNAVAILABLE', 'the server is shutting down'));
    await Promise.all(this.slots.splice(0).map((s) => this.stop(s, new EvidentError('UNAVAILABLE', 'the server is shutting down'))));
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      let slot = this.slots.find((s) => !s.job);
      if (!slot && this.slots.length < this.workers) slot = this.spawn();
      if (!slot) return;
      const job = this.queue.shift()!;
      slot.job = job;
      clearTimeout(slot.idle);
      slot.worker.ref();
      slot.timer = setTimeout(() => {
        void this.stop(slot!, new EvidentError('VERIFICATION_FAILED', `${job.source} took longer than ${this.timeoutMs} ms to parse (the limit): nothing was recorded`));
      }, this.timeoutMs);
      slot.worker.postMessage({ id: job.id, kind: job.kind, bytes: job.bytes, source: job.source }, [job.bytes.buffer as ArrayBuffer]);
    }
  }

  private spawn(): Slot {
    const worker = new Worker(this.script!, { resourceLimits: { maxOldGenerationSizeMb: this.heapMb }, execArgv: [] });
    const slot: Slot = { worker };
    worker.on('message', (msg: { id: number; ok: boolean; value?: unknown; error?: WireError }) => {
      const job = slot.job;
      if (!job || job.id !== msg.id) return;
      this.finish(slot);
      if (msg.ok) job.resolve(msg.value);
      else job.reject(fromWire(msg.error!));
      this.dispatch();
    });
    worker.on('error', (err: NodeJS.ErrnoException) => {
      const job = slot.job;
      const message = err.code === 'ERR_WORKER_OUT_OF_MEMORY'
        ? `report ${job?.source ?? ''} needs more than ${this.heapMb} MiB to parse (the limit): nothing was recorded`
        : `the report parser failed: ${err.message}`;
      void this.stop(slot, new EvidentError(err.code === 'ERR_WORKER_OUT_OF_MEMORY' ? 'VERIFICATION_FAILED' : 'INTERNAL', message));
    });
    worker.on('exit', () => {
      const i = this.slots.indexOf(slot);
      if (i >= 0) this.slots.splice(i, 1);
      if (slot.job) this.fail(slot, new EvidentError('INTERNAL', 'the report parser stopped'));
      if (!this.closed) this.dispatch();
    });
    worker.unref();
    this.slots.push(slot);
    return slot;
  }

  private finish(slot: Slot): void {
    clearTimeout(slot.timer);
    slot.job = undefined;
    slot.worker.unref();
    slot.idle = setTimeout(() => void this.stop(slot), IDLE_MS);
    slot.idle.unref();
  }

  private fail(slot: Slot, err: Error): void {
    const job = slot.job;
    clearTimeout(slot.timer);
    slot.job = undefined;
    job?.reject(err);
  }

  private async stop(slot: Slot, err?: Error): Promise<void> {
    if (err) this.fail(slot, err);
    clearTimeout(slot.idle);
    const i = this.slots.indexOf(slot);
    if (i >= 0) this.slots.splice(i, 1);
    await slot.worker.terminate();
    if (!this.closed) this.dispatch();
  }
}
