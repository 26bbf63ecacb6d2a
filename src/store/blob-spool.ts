import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';

/** Below this many bytes an upload stays in memory; above it, it goes to a local temporary file. */
const MEMORY_LIMIT = 4 * 1024 * 1024;

/**
 * Holds an upload until its digest is known, so the database store can write it in one short transaction
 * instead of holding a pooled connection for as long as a slow client takes to send it. Memory per upload
 * stays bounded (MEMORY_LIMIT), whatever the blob's size.
 */
export class Spool {
  private readonly memory: Uint8Array[] = [];
  private memoryBytes = 0;
  private file: fsp.FileHandle | undefined;
  private filePath: string | undefined;
  size = 0;

  constructor(private readonly dir: string = os.tmpdir()) {}

  async write(chunk: Uint8Array): Promise<void> {
    this.size += chunk.byteLength;
    if (!this.file && this.memoryBytes + chunk.byteLength <= MEMORY_LIMIT) {
      // Copied: a stream may reuse its buffer after handing it over.
      this.memory.push(Uint8Array.from(chunk));
      this.memoryBytes += chunk.byteLength;
      return;
    }
    if (!this.file) {
      this.filePath = path.join(this.dir, `evident-spool-${randomBytes(12).toString('hex')}`);
      this.file = await fsp.open(this.filePath, 'wx+', 0o600);
      for (const held of this.memory) await this.file.write(held);
      this.memory.length = 0;
      this.memoryBytes = 0;
    }
    await this.file.write(chunk);
  }

  /** The spooled bytes again, re-cut into pieces of exactly `size` bytes (the last may be shorter). */
  async *chunks(size: number): AsyncGenerator<Buffer> {
    if (!this.file) {
      const all = Buffer.concat(this.memory);
      for (let at = 0; at < all.length; at += size) yield all.subarray(at, at + size);
      return;
    }
    for (let at = 0; at < this.size; at += size) {
      const buffer = Buffer.alloc(Math.min(size, this.size - at));
      let filled = 0;
      while (filled < buffer.length) {
        const { bytesRead } = await this.file.read(buffer, filled, buffer.length - filled, at + filled);
        if (bytesRead === 0) throw new Error('spool file shrank while being read');
        filled += bytesRead;
      }
      yield buffer;
    }
  }

  async dispose(): Promise<void> {
    this.memory.length = 0;
    await this.file?.close().catch(() => undefined);
    if (this.filePath) await fsp.rm(this.filePath, { force: true });
    this.file = undefined;
    this.filePath = undefined;
  }
}
