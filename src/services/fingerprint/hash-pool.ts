import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import fsp from 'node:fs/promises';
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { EvidentError } from '../../core/index.js';
import { fromByteString } from '../../formats/index.js';

// Hashing many files fast with bounded resources. Measured on a 2-core machine (docs/performance.md):
// Node's asynchronous fs costs a thread-pool round trip per open/read/close, which made 10,000 small files
// ~3x slower than `tar | openssl`; synchronous reads in worker threads (one per core) beat it. Each worker
// holds one file open at a time and one reusable read buffer, so open files <= workers and memory is
// workers x READ_BUFFER whatever the file sizes. Starting a worker costs ~25 ms of CPU, so the process
// keeps its pool between walks (idle workers are unref'd and end after IDLE_MS). SHA-256 is Node's crypto,
// i.e. OpenSSL's.

const READ_BUFFER = 1 << 20;
const BATCH = 128;
/** Below this many files, starting workers costs more than it saves. */
export const IN_THREAD_MAX = 48;

// Plain CommonJS evaluated in the worker, so it runs the same from `src/` (vitest) and from `dist/`. The
// worker gets no execArgv: an inherited --input-type=module would make the eval an ES module, without
// require.
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const fs = require('node:fs');
const crypto = require('node:crypto');
const buf = Buffer.allocUnsafe(${READ_BUFFER});
// A file that fits the buffer is hashed in one call (crypto.hash, Node >= 20.12), without a Hash object.
const oneShot = typeof crypto.hash === 'function' ? (b) => crypto.hash('sha256', b, 'hex') : null;
function hashFd(fd) {
  const first = fs.readSync(fd, buf, 0, buf.length, null);
  if (first < buf.length && oneShot) {
    // Read on to end of file, as openssl does: a short read is not proof of the end everywhere.
    const more = first === 0 ? 0 : fs.readSync(fd, buf, first, buf.length - first, null);
    if (more === 0) return oneShot(buf.subarray(0, first));
    const hash = crypto.createHash('sha256').update(buf.subarray(0, first + more));
    return drain(fd, hash);
  }
  return drain(fd, crypto.createHash('sha256').update(buf.subarray(0, first)));
}
function drain(fd, hash) {
  for (;;) {
    const n = fs.readSync(fd, buf, 0, buf.length, null);
    if (n === 0) return hash.digest('hex');
    hash.update(buf.subarray(0, n));
  }
}
parentPort.on('message', ({ job, start, paths }) => {
  const out = [];
  for (const p of paths) {
    let fd;
    try {
      fd = fs.openSync(Buffer.from(p, 'latin1'), 'r');
      out.push(hashFd(fd));
    } catch (err) {
      out.push({ code: err.code || 'EIO', message: err.message });
      break;
    } finally {
      if (fd !== undefined) fs.closeSync(fd);
    }
  }
  parentPort.postMessage({ job, start, out });
});`;

/** Maps a file system error to an EvidentError naming the path. */
export function fsError(err: unknown, path: string): EvidentError {
  const code = (err as NodeJS.ErrnoException)?.code ?? '';
  const detail = (message: string) => ({ cause: err, details: [{ path, message }] });
  if (code === 'ENOENT' || code === 'ENOTDIR') return new EvidentError('NOT_FOUND', `no such file or directory: ${path}`, detail('does not exist'));
  if (code === 'EACCES' || code === 'EPERM') return new EvidentError('INVALID_ARGUMENT', `permission denied: ${path}`, detail('permission denied'));
  if (code === 'ELOOP') return new EvidentError('INVALID_ARGUMENT', `too many levels of symbolic links: ${path}`, detail('symbolic link loop'));
  if (code === 'EISDIR') return new EvidentError('INVALID_ARGUMENT', `${path} is a directory`, detail('is a directory'));
  return new EvidentError('INTERNAL', `cannot read ${path}: ${(err as Error)?.message ?? String(err)}`, detail(code || 'I/O error'));
}

/**
 * Streams one file through SHA-256 with two large buffers: the next read runs on the thread pool while the
 * current chunk is hashed, so reading and hashing overlap (faster than `openssl dgst`, which alternates).
 */
export async function hashFileStreaming(path: string | Buffer, display = String(path)): Promise<string> {
  let handle: FileHandle | undefined;
  try {
    handle = await fsp.open(path, 'r');
    const buffers = [Buffer.allocUnsafe(READ_BUFFER), Buffer.allocUnsafe(READ_BUFFER)];
    const hash = createHash('sha256');
    let which = 0;
    let position = 0;
    let pending = handle.read(buffers[0]!, 0, READ_BUFFER, position);
    for (;;) {
      const { bytesRead } = await pending;
      if (bytesRead === 0) break;
      position += bytesRead;
      const current = buffers[which]!;
      which ^= 1;
      pending = handle.read(buffers[which]!, 0, READ_BUFFER, position);
      hash.update(current.subarray(0, bytesRead));
    }
    return hash.digest('hex');
  } catch (err) {
    throw fsError(err, display);
  } finally {
    await handle?.close();
  }
}

type WorkerResult = string | { code: string; message: string };
interface Reply {
  job: number;
  start: number;
  out: WorkerResult[];
}

/** How long idle workers are kept for the next walk (their start-up costs more than a small walk). */
const IDLE_MS = 10_000;

/**
 * Worker threads that hash files by path. `warm` starts them as soon as a walk knows it has enough files, so
 * their start-up overlaps the listing. Idle workers do not keep the process alive (unref) and end after
 * IDLE_MS; several walks may share the pool at once (replies carry a job number).
 */
export class HashPool {
  private workers: Worker[] = [];
  private active = 0;
  private jobs = 0;
  private idle: NodeJS.Timeout | undefined;
  readonly size: number;

  constructor(concurrency?: number) {
    this.size = Math.max(1, concurrency ?? Math.min(os.availableParallelism(), 8));
  }

  warm(): void {
    clearTimeout(this.idle);
    while (this.workers.length < this.size) {
      const worker = new Worker(WORKER_SOURCE, { eval: true, execArgv: [] });
      if (this.active === 0) worker.unref();
      this.workers.push(worker);
    }
  }

  get warmed(): boolean {
    return this.workers.length > 0;
  }

  /** Hashes byte-string paths; `whileWaiting` runs on this thread once the work is handed out. */
  async hash(paths: readonly string[], whileWaiting?: () => void): Promise<string[]> {
    if (paths.length <= IN_THREAD_MAX && !this.warmed) {
      whileWaiting?.();
      const out: string[] = [];
      for (const p of paths) out.push(await hashFileStreaming(Buffer.from(p, 'latin1'), fromByteString(p)));
      return out;
    }
    this.warm();
    const workers = [...this.workers];
    if (this.active++ === 0) workers.forEach((w) => w.ref()); // keep the process alive while hashing
    const job = ++this.jobs;
    const results = new Array<string>(paths.length);
    const cleanups: (() => void)[] = [];
    let next = 0;
    let failure: EvidentError | undefined;
    const done = workers.map(
      (worker) =>
        new Promise<void>((resolve, reject) => {
          let inFlight = 0;
          const send = () => {
            if (next >= paths.length) return inFlight === 0 ? resolve() : undefined;
            const start = next;
            next = Math.min(paths.length, next + BATCH);
            inFlight++;
            worker.postMessage({ job, start, paths: paths.slice(start, next) });
          };
          const onMessage = (reply: Reply) => {
            if (reply.job !== job) return;
            inFlight--;
            for (let i = 0; i < reply.out.length; i++) {
              const r = reply.out[i]!;
              if (typeof r !== 'string') {
                next = paths.length; // hand out no more work
                const path = fromByteString(paths[reply.start + i]!);
                failure ??= fsError(Object.assign(new Error(r.message), { code: r.code }), path);
                break;
              }
              results[reply.start + i] = r;
            }
            send();
          };
          const onExit = (code: number) => reject(new EvidentError('INTERNAL', `a hashing worker stopped (exit code ${code})`));
          worker.on('message', onMessage).on('error', reject).on('exit', onExit);
          cleanups.push(() => worker.off('message', onMessage).off('error', reject).off('exit', onExit));
          // Two batches in flight, so a worker never waits for this thread to hand out the next one.
          send();
          send();
        }),
    );
    whileWaiting?.();
    try {
      await Promise.all(done);
    } catch (err) {
      await this.close(); // a worker died: start afresh next time
      throw err;
    } finally {
      cleanups.forEach((c) => c());
      if (--this.active === 0) this.release();
    }
    if (failure) throw failure;
    return results;
  }

  private release(): void {
    for (const w of this.workers) w.unref();
    clearTimeout(this.idle);
    this.idle = setTimeout(() => void this.close(), IDLE_MS).unref();
  }

  async close(): Promise<void> {
    clearTimeout(this.idle);
    await Promise.all(this.workers.splice(0).map((w) => w.terminate()));
  }
}

const shared = new Map<number, HashPool>();

/** The process's pool for a concurrency (default: one worker per CPU, at most 8), created on first use. */
export function hashPool(concurrency?: number): HashPool {
  const pool = new HashPool(concurrency);
  const existing = shared.get(pool.size);
  if (existing) return existing;
  shared.set(pool.size, pool);
  return pool;
}
