import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { EvidentError, type ErrorCode } from '../core/index.js';
import type { Hash, MapProof } from '../ledger/index.js';
import { MapTrees, keysOf, type TreeResult, type TreeUpdates } from './map-trees.js';

// Where the subject map's trees live (map-trees.ts): in a thread of their own when the worker script is
// built (dist/src, or the CLI bundle's dist/cli), so that a batch's tree update (~11 SHA-256 per entry)
// runs while the writer inserts the batch's rows; in this thread otherwise (the unit tests run the sources).
// The answers are the same either way: the thread runs the same MapTrees.
//
// The thread answers on a port of its own, which the writer can drain without waiting for a turn of the event
// loop (`poll`): under load, a turn of a server's main thread serves tens of HTTP requests, and a batch's root,
// hashed in 0.45 ms, waited 2.6 ms there before it was received (issue #21, fourteenth round).

export interface MapEngine {
  apply(org: number, base: number, next: number, updates: TreeUpdates): Promise<TreeResult>;
  /** The map keys of `subjects`, 32 bytes each (a fresh load derives them page by page while it reads the next). */
  keys(subjects: readonly string[]): Promise<Uint8Array>;
  prove(org: number, size: number, key: Hash): Promise<MapProof>;
  drop(org: number): void;
  /** Takes the answers the thread has sent already, now rather than at the event loop's next turn. */
  poll(): void;
}

function workerScript(): URL | undefined {
  const url = new URL('./map-worker.js', import.meta.url);
  try {
    return fs.existsSync(fileURLToPath(url)) ? url : undefined;
  } catch {
    return undefined;
  }
}

/** The trees in this thread: each call answers on a later turn, as the thread would. */
class InThread implements MapEngine {
  private readonly trees = new MapTrees();
  apply(org: number, base: number, next: number, updates: TreeUpdates): Promise<TreeResult> {
    return Promise.resolve().then(() => this.trees.apply(org, base, next, updates));
  }
  keys(subjects: readonly string[]): Promise<Uint8Array> {
    return Promise.resolve().then(() => keysOf(subjects));
  }
  prove(org: number, size: number, key: Hash): Promise<MapProof> {
    return Promise.resolve().then(() => this.trees.prove(org, size, key));
  }
  drop(org: number): void {
    this.trees.drop(org);
  }
  poll(): void {
    // Each answer is a microtask already.
  }
}

interface Reply { id: number; ok: boolean; value?: unknown; code?: ErrorCode; message?: string }

/**
 * The trees in a worker thread. If the thread stops, pending calls fail and the next call starts a new one:
 * it holds no tree, so the log service rebuilds the map from its verified rows (a CONFLICT answer).
 */
class Threaded implements MapEngine {
  private worker: Worker | undefined;
  private replies: MessagePort | undefined;
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  private nextId = 1;

  constructor(private readonly script: URL) {}

  private start(): { worker: Worker; replies: MessagePort } {
    if (this.worker && this.replies) return { worker: this.worker, replies: this.replies };
    const { port1: replies, port2 } = new MessageChannel();
    const worker = new Worker(this.script, { execArgv: [], workerData: { replies: port2 }, transferList: [port2] });
    replies.on('message', (r: Reply) => this.answer(r));
    const fail = (err: Error) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      this.replies = undefined;
      replies.close();
      const failure = new EvidentError('INTERNAL', `subject map thread stopped: ${err.message}`, { cause: err });
      for (const p of this.pending.values()) p.reject(failure);
      this.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`exit code ${code}`)));
    // Idle, the thread must not keep a finished process alive (it has nothing to flush): the reply port is
    // ref'd only while a call waits for its answer. (Adding a 'message' listener refs a port, so this comes after.)
    worker.unref();
    replies.unref();
    this.worker = worker;
    this.replies = replies;
    return { worker, replies };
  }

  private answer(r: Reply): void {
    const p = this.pending.get(r.id);
    this.pending.delete(r.id);
    if (this.pending.size === 0) this.replies?.unref();
    if (r.ok) p?.resolve(r.value);
    else p?.reject(new EvidentError(r.code ?? 'INTERNAL', `subject map thread: ${r.message}`));
  }

  poll(): void {
    const replies = this.replies;
    if (!replies) return;
    // Not waiting when the answer has not come yet: blocking this thread for it was no faster (fourteenth round).
    // receiveMessageOnPort takes a message out of the port's queue; no 'message' event is emitted for it.
    for (let m = receiveMessageOnPort(replies); m; m = receiveMessageOnPort(replies)) this.answer(m.message as Reply);
  }

  private call<T>(msg: Record<string, unknown>, transfer: ArrayBuffer[] = []): Promise<T> {
    const { worker, replies } = this.start();
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      if (this.pending.size === 0) replies.ref();
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      worker.postMessage({ ...msg, id }, transfer);
    });
  }

  apply(org: number, base: number, next: number, updates: TreeUpdates): Promise<TreeResult> {
    // One string and one transferred array instead of a clone of each subject (the writer pays for the
    // clone): subject keys are JSON text, in which a newline is always escaped.
    const indexes = Float64Array.from(updates.indexes);
    // `flat` is handed over (transferred: the caller keeps no use of it); with keys the thread needs no subjects.
    const keys = updates.flat ?? (updates.keys ? joinKeys(updates.keys) : undefined);
    const transfer = (keys ? [indexes.buffer, keys.buffer] : [indexes.buffer]) as ArrayBuffer[];
    const subjects = keys ? '' : updates.subjects.join('\n');
    return this.call({ op: 'apply', org, base, next, subjects, count: updates.subjects.length, indexes, keys }, transfer);
  }
  keys(subjects: readonly string[]): Promise<Uint8Array> {
    return this.call({ op: 'keys', subjects: subjects.join('\n'), count: subjects.length });
  }
  prove(org: number, size: number, key: Hash): Promise<MapProof> {
    return this.call({ op: 'prove', org, size, key });
  }
  drop(org: number): void {
    if (this.worker) void this.call({ op: 'drop', org }).catch(() => undefined);
  }
}

function joinKeys(keys: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(32 * keys.length);
  keys.forEach((k, i) => out.set(k, 32 * i));
  return out;
}

/** `thread` false (or no built worker script) keeps the trees in this thread; `script`: that worker script (tests). */
export function mapEngine(thread = true, script = thread ? workerScript() : undefined): MapEngine {
  return script ? new Threaded(script) : new InThread();
}
