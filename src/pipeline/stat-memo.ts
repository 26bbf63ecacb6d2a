import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Sealer } from './seal.js';

// A memo of file digests keyed by what stat says (size, mtime, ctime, inode), kept in
// `.evident/cache/inputs/stat-memo.json` (seed 003 §3.2: "inputs/ # Hashed input files"), so that a warm run
// does not read unchanged files again: the same trick as git's index and Turborepo's file hashing.
//
// "Racy" entries are not trusted (git's racy-git rule): a file modified again within the file system's
// timestamp granularity after it was hashed keeps the same mtime. So an entry counts only when the file's
// mtime is older than the moment it was hashed by more than RACY_MARGIN_MS; a younger file is hashed again.

export const RACY_MARGIN_MS = 2000;
const VERSION = 1;
/** An untouched entry survives a save while the memo is below this size. */
const KEEP_UNTOUCHED_BELOW = 50_000;

type Entry = [size: number, mtimeMs: number, ctimeMs: number, ino: number, sha256: string, hashedAtMs: number];

export class StatMemo {
  private entries = new Map<string, Entry>();
  private touched = new Set<string>();
  private dirty = false;

  /** `sealer`: the memo says which digest a file has without reading it, so it is sealed (seal.ts). */
  constructor(
    private readonly file: string,
    private readonly sealer: Sealer,
  ) {}

  load(): this {
    try {
      const body = this.sealer.open('stat-memo', fs.readFileSync(this.file, 'utf8'));
      // Unsealed or mis-sealed: every file is hashed again, and the memo rewritten.
      if (body === undefined) {
        this.dirty = fs.existsSync(this.file);
        return this;
      }
      const data = JSON.parse(body) as { v?: number; files?: Record<string, Entry> };
      if (data.v === VERSION && data.files && typeof data.files === 'object') {
        for (const [rel, e] of Object.entries(data.files)) if (Array.isArray(e) && e.length === 6 && typeof e[4] === 'string') this.entries.set(rel, e);
      }
    } catch {
      // no memo yet, or an unreadable one: start empty (it is only a speed-up)
    }
    return this;
  }

  /** The recorded digest of `rel` if `stat` still matches it and the entry is not racy. */
  lookup(rel: string, stat: fs.Stats): string | undefined {
    const e = this.entries.get(rel);
    if (!e) return undefined;
    this.touched.add(rel);
    if (e[0] !== stat.size || e[1] !== stat.mtimeMs || e[2] !== stat.ctimeMs || e[3] !== stat.ino) return undefined;
    if (stat.mtimeMs > e[5] - RACY_MARGIN_MS) return undefined;
    return e[4];
  }

  record(rel: string, stat: fs.Stats, sha256: string, hashedAtMs: number): void {
    this.entries.set(rel, [stat.size, stat.mtimeMs, stat.ctimeMs, stat.ino, sha256, hashedAtMs]);
    this.touched.add(rel);
    this.dirty = true;
  }

  forget(rel: string): void {
    if (this.entries.delete(rel)) this.dirty = true;
  }

  save(): void {
    if (!this.dirty) return;
    const files: Record<string, Entry> = {};
    const keepAll = this.entries.size < KEEP_UNTOUCHED_BELOW;
    for (const [rel, e] of this.entries) if (keepAll || this.touched.has(rel)) files[rel] = e;
    writeFileAtomic(this.file, this.sealer.seal('stat-memo', JSON.stringify({ v: VERSION, files })));
    this.dirty = false;
  }
}

/** Writes through a temporary file and a rename, so a reader never sees half a file. */
export function writeFileAtomic(file: string, data: string | Uint8Array, mode = 0o644): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  fs.writeFileSync(tmp, data, { mode });
  fs.renameSync(tmp, file);
}

/** Files up to this size are read in one call; larger ones are streamed. */
const WHOLE_READ_MAX = 8 * 1024 * 1024;

/** SHA-256 of a file's bytes (a link is followed). */
export async function hashFile(abs: string, size: number): Promise<string> {
  if (size <= WHOLE_READ_MAX) return createHash('sha256').update(fs.readFileSync(abs)).digest('hex');
  const hash = createHash('sha256');
  for await (const chunk of fs.createReadStream(abs, { highWaterMark: 1024 * 1024 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** The digest of a file, from the memo when stat still vouches for it, else read and remembered. */
export async function digestWithMemo(memo: StatMemo, rel: string, abs: string, stat: fs.Stats): Promise<string> {
  const known = memo.lookup(rel, stat);
  if (known) return known;
  const hashedAt = Date.now();
  const sha = await hashFile(abs, stat.size);
  // Only remember it if the file did not change while it was read.
  const after = fs.statSync(abs, { throwIfNoEntry: false });
  if (after && after.mtimeMs === stat.mtimeMs && after.size === stat.size && after.ino === stat.ino) memo.record(rel, after, sha, hashedAt);
  return sha;
}

export const isExecutable = (stat: fs.Stats): boolean => (stat.mode & 0o111) !== 0;
