import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { checkDigest } from '../core/index.js';
import type { BlobInfo, BlobLimits, BlobRead, BlobStore, PutResult } from './blob-types.js';
import { Meter, asBytes, tampered, verifying } from './blob-stream.js';

/** Temporary files older than this are left-overs of a crashed process, not uploads in progress. */
const STALE_TEMP_MS = 24 * 60 * 60 * 1000;
const TEMP_PREFIX = 'tmp-';
// O_NOFOLLOW: a symlink planted in the store must not make a read leave it.
const READ_FLAGS = fs.constants.O_RDONLY | (fs.constants.O_NOFOLLOW ?? 0);

/**
 * Blobs as files `<root>/ab/cdef…` (the digest split after two characters, as git does, so no directory
 * grows too large). A put streams into a temporary file in `<root>` while hashing, fsyncs it, then
 * hard-links it to its digest's path: link() fails when the path exists, so a blob is never overwritten
 * and concurrent puts of the same bytes both succeed with one copy kept.
 */
export class FilesystemBlobStore implements BlobStore {
  readonly kind = 'filesystem' as const;

  constructor(readonly root: string) {
    fs.mkdirSync(root, { recursive: true, mode: 0o700 });
    this.sweepStaleTemps();
  }

  private pathOf(digest: string): string {
    checkDigest(digest);
    return path.join(this.root, digest.slice(0, 2), digest.slice(2));
  }

  async put(source: AsyncIterable<Uint8Array>, limits: BlobLimits): Promise<PutResult> {
    const meter = new Meter(limits.maxBytes);
    const temp = path.join(this.root, `${TEMP_PREFIX}${randomBytes(12).toString('hex')}`);
    const file = await fsp.open(temp, 'wx', 0o600);
    let closed = false;
    try {
      for await (const chunk of source) {
        const bytes = asBytes(chunk);
        meter.take(bytes);
        await file.write(bytes);
      }
      await file.sync();
      // Read-only: the bytes are final; a careless writer gets EACCES rather than silently changing evidence.
      await file.chmod(0o400);
      await file.close();
      closed = true;
      const digest = meter.digest();
      const final = this.pathOf(digest);
      await fsp.mkdir(path.dirname(final), { recursive: true, mode: 0o700 });
      const created = await linkIfAbsent(temp, final);
      if (created) await syncDir(path.dirname(final));
      return { digest, size: meter.size, created };
    } finally {
      if (!closed) await file.close().catch(() => undefined);
      // After a link the temporary name is a second name for the same file; after a failure it is all there is.
      await fsp.rm(temp, { force: true });
    }
  }

  async has(digest: string): Promise<boolean> {
    return (await this.stat(digest)) !== undefined;
  }

  async stat(digest: string): Promise<BlobInfo | undefined> {
    const file = this.pathOf(digest);
    try {
      const st = await fsp.lstat(file);
      return st.isFile() ? { digest, size: st.size } : undefined;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  async get(digest: string): Promise<BlobRead | undefined> {
    const file = this.pathOf(digest);
    let handle: fsp.FileHandle;
    try {
      handle = await fsp.open(file, READ_FLAGS);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return undefined;
      if (code === 'ELOOP') throw tampered(digest, 'a symbolic link stands in its place');
      throw err;
    }
    let size: number;
    try {
      const st = await handle.stat();
      if (!st.isFile()) throw tampered(digest, 'something other than a file stands in its place');
      size = st.size;
    } catch (err) {
      await handle.close();
      throw err;
    }
    // The verifier fails the stream if the file no longer hashes to its name (edited on disk, bit rot).
    return { digest, size, stream: verifying(handle.createReadStream({ autoClose: true }), digest, size) };
  }

  /** Removes temporary files that no live upload can own (best effort: other processes may share the root). */
  private sweepStaleTemps(): void {
    const now = Date.now();
    for (const name of fs.readdirSync(this.root)) {
      if (!name.startsWith(TEMP_PREFIX)) continue;
      const file = path.join(this.root, name);
      try {
        if (now - fs.statSync(file).mtimeMs > STALE_TEMP_MS) fs.rmSync(file, { force: true });
      } catch {
        // Another process removed it first.
      }
    }
  }
}

/** link() refuses an existing path, which is exactly "only if absent"; returns whether it linked. */
async function linkIfAbsent(temp: string, final: string): Promise<boolean> {
  try {
    await fsp.link(temp, final);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    // File systems without hard links: rename is atomic too, but replaces, so look first. Two racing puts
    // then both write the same bytes, which is harmless because the name is the bytes' digest.
    if (code === 'EPERM' || code === 'ENOTSUP' || code === 'ENOSYS' || code === 'EOPNOTSUPP') {
      if (await exists(final)) return false;
      await fsp.rename(temp, final);
      return true;
    }
    throw err;
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await fsp.lstat(file);
    return true;
  } catch {
    return false;
  }
}

/** Makes the new directory entry durable, not only the file's bytes. Not possible on every platform. */
async function syncDir(dir: string): Promise<void> {
  let handle: fsp.FileHandle | undefined;
  try {
    handle = await fsp.open(dir, 'r');
    await handle.sync();
  } catch {
    // Windows cannot open directories; the rename/link is still atomic there.
  } finally {
    await handle?.close().catch(() => undefined);
  }
}
