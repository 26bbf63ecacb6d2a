import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import type * as Streams from 'node:stream';
import type * as StreamPromises from 'node:stream/promises';
import type * as Zlib from 'node:zlib';
import type { Compression } from './spec.js';

// Content-addressed objects of the cache: `.evident/cache/outputs/<aa>/<sha256>` (plus `.gz` or `.br` when
// stored compressed, `cache.compression`). One object per distinct content, shared by every entry that
// produced it. Objects are never trusted on the way out: every read is hashed and compared with its name.

const SMALL = 8 * 1024 * 1024;
/** Compression is not worth a syscall's worth of bytes. */
const COMPRESS_MIN = 512;
const SUFFIX: Record<Compression, string> = { none: '', gzip: '.gz', brotli: '.br' };
const ENCODINGS: Compression[] = ['none', 'gzip', 'brotli'];

// zlib and streams load on first use: a warm run, whose objects are already in place, and a replayed run
// (replay.ts) use neither, and loading them is a few milliseconds of every start-up.
const requireBuiltin = createRequire(import.meta.url);
const zlib = (): typeof Zlib => requireBuiltin('node:zlib') as typeof Zlib;
const streams = (): typeof StreamPromises => requireBuiltin('node:stream/promises') as typeof StreamPromises;
const brotli = () => ({ params: { [zlib().constants.BROTLI_PARAM_QUALITY]: 5 } });

export interface StoredObject {
  file: string;
  encoding: Compression;
  /** Bytes on disk (what max_size counts). */
  size: number;
}

export class ObjectStore {
  constructor(
    readonly dir: string,
    private readonly compression: Compression,
  ) {}

  private base(sha: string): string {
    return path.join(this.dir, sha.slice(0, 2), sha);
  }

  find(sha: string): StoredObject | undefined {
    for (const encoding of ENCODINGS) {
      const file = this.base(sha) + SUFFIX[encoding];
      const st = fs.statSync(file, { throwIfNoEntry: false });
      if (st?.isFile()) return { file, encoding, size: st.size };
    }
    return undefined;
  }

  /** Stores the file's bytes under `sha` (already computed by the caller) unless present. */
  async put(sha: string, abs: string, size: number): Promise<StoredObject> {
    const existing = this.find(sha);
    if (existing) return existing;
    fs.mkdirSync(path.dirname(this.base(sha)), { recursive: true });
    const tmp = `${this.base(sha)}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    let encoding: Compression = size >= COMPRESS_MIN ? this.compression : 'none';
    if (size <= SMALL) {
      const raw = fs.readFileSync(abs);
      let data: Buffer = raw;
      if (encoding !== 'none') {
        data = encoding === 'gzip' ? zlib().gzipSync(raw) : zlib().brotliCompressSync(raw, brotli());
        if (data.length >= raw.length * 0.9) [data, encoding] = [raw, 'none'];
      }
      fs.writeFileSync(tmp, data);
    } else if (encoding === 'none') {
      fs.copyFileSync(abs, tmp);
    } else {
      const compressor = encoding === 'gzip' ? zlib().createGzip() : zlib().createBrotliCompress(brotli());
      await streams().pipeline(fs.createReadStream(abs), compressor, fs.createWriteStream(tmp));
    }
    const file = this.base(sha) + SUFFIX[encoding];
    fs.renameSync(tmp, file);
    return { file, encoding, size: fs.statSync(file).size };
  }

  /**
   * Writes the object's content to `dest`, checking it hashes to `sha` and has `size` bytes. Returns the
   * problem when it does not (or is missing); `dest` is then removed.
   */
  async extract(sha: string, size: number, dest: string): Promise<string | undefined> {
    const object = this.find(sha);
    if (!object) return `object ${sha.slice(0, 12)} is missing`;
    try {
      let got: string;
      let length: number;
      if (object.size <= SMALL && size <= SMALL) {
        const stored = fs.readFileSync(object.file);
        const data = object.encoding === 'none' ? stored : object.encoding === 'gzip' ? zlib().gunzipSync(stored) : zlib().brotliDecompressSync(stored);
        [got, length] = [createHash('sha256').update(data).digest('hex'), data.length];
        if (got === sha && length === size) fs.writeFileSync(dest, data);
      } else {
        const hash = createHash('sha256');
        length = 0;
        const { Transform } = requireBuiltin('node:stream') as typeof Streams;
        const tap = new Transform({
          transform(chunk: Buffer, _enc, done) {
            hash.update(chunk);
            length += chunk.length;
            done(null, chunk);
          },
        });
        const stages: NodeJS.ReadWriteStream[] = object.encoding === 'none' ? [] : [object.encoding === 'gzip' ? zlib().createGunzip() : zlib().createBrotliDecompress()];
        await streams().pipeline([fs.createReadStream(object.file), ...stages, tap, fs.createWriteStream(dest)]);
        got = hash.digest('hex');
      }
      if (got === sha && length === size) return undefined;
      fs.rmSync(dest, { force: true });
      return `object ${sha.slice(0, 12)} is corrupted (its content hashes to ${got.slice(0, 12)}, ${length} bytes)`;
    } catch (err) {
      fs.rmSync(dest, { force: true });
      return `object ${sha.slice(0, 12)} is unreadable (${(err as Error).message})`;
    }
  }

  remove(sha: string): void {
    for (const encoding of ENCODINGS) fs.rmSync(this.base(sha) + SUFFIX[encoding], { force: true });
  }

  /** Every object on disk: digest → bytes (for stats and for sweeping objects no entry refers to). */
  list(): Map<string, number> {
    const out = new Map<string, number>();
    for (const prefix of readdirSafe(this.dir)) {
      for (const name of readdirSafe(path.join(this.dir, prefix))) {
        const sha = name.slice(0, 64);
        if (!/^[0-9a-f]{64}(\.gz|\.br)?$/.test(name)) continue;
        out.set(sha, (out.get(sha) ?? 0) + (fs.statSync(path.join(this.dir, prefix, name), { throwIfNoEntry: false })?.size ?? 0));
      }
    }
    return out;
  }
}

function readdirSafe(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}
