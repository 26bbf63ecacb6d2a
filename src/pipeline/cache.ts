import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ObjectStore, type StoredObject } from './objects.js';
import { MANIFEST_VERSION, checkManifest, type EntryFile, type EntryManifest } from './manifest.js';
import type { Pattern } from './patterns.js';
import type { Compression } from './spec.js';
import { StatMemo, writeFileAtomic } from './stat-memo.js';
import { Sealer } from './seal.js';

// The local content-addressed cache, `.evident/cache/` (seed 003 §3.2):
//   inputs/stat-memo.json         digests of files by stat (stat-memo.ts)
//   outputs/<aa>/<sha256>[.gz|.br] output and log contents, one object per distinct content (objects.ts)
//   receipts/                     run receipts (written by the attestation side)
//   metadata/entries/<key>.json   one manifest per cache key (manifest.ts)
//   metadata/index.json           per entry: step, created, last used, objects — for LRU eviction
//   metadata/steps/<step>.json    the last run's key and key inputs per step (`cache explain`)
// Manifests and the stat memo decide what a hit vouches for, so both are sealed with the runner's key
// (seal.ts); an unsealed or mis-sealed one is treated as absent or discarded (docs/cache.md "Threat model").

export const CACHE_DIRS = ['inputs', 'outputs', 'receipts', 'metadata'] as const;
const INDEX_VERSION = 1;
const DAY_MS = 86_400_000;

interface IndexEntry {
  step: string;
  created: number;
  used: number;
  /** Digests of the objects the entry refers to (outputs and log). */
  objects: string[];
}

interface IndexFile {
  v: number;
  entries: Record<string, IndexEntry>;
  /** Stored bytes per object. */
  sizes: Record<string, number>;
  /** The key of each step's last run (its key inputs are in metadata/steps/<step>.json). */
  steps?: Record<string, string>;
}

export interface CacheOptions {
  compression: Compression;
  maxBytes: number;
  retentionDays: number;
}

export interface CacheStats {
  entries: number;
  objects: number;
  bytes: number;
  maxBytes: number;
  oldestUse?: string;
}

export class LocalCache {
  readonly objects: ObjectStore;
  readonly memo: StatMemo;
  private index: IndexFile = { v: INDEX_VERSION, entries: {}, sizes: {} };
  private dirty = false;

  /**
   * `sealer`: the workspace's (seal.ts). Without one, a key of this process only: nothing written by
   * another process is then trusted, which is safe and only slower.
   */
  constructor(
    readonly root: string,
    readonly options: CacheOptions,
    readonly sealer: Sealer = Sealer.fromKey(randomBytes(32)),
  ) {
    this.objects = new ObjectStore(path.join(root, 'outputs'), options.compression);
    this.memo = new StatMemo(path.join(root, 'inputs', 'stat-memo.json'), sealer);
  }

  private get indexFile(): string {
    return path.join(this.root, 'metadata', 'index.json');
  }

  entryFile(key: string): string {
    return path.join(this.root, 'metadata', 'entries', `${key}.json`);
  }

  /** `memo: false` leaves the stat memo unread, for a caller that does not look at files (replay.ts). */
  open(options: { memo?: boolean } = {}): this {
    for (const dir of CACHE_DIRS) fs.mkdirSync(path.join(this.root, dir), { recursive: true });
    fs.mkdirSync(path.join(this.root, 'metadata', 'entries'), { recursive: true });
    try {
      const data = JSON.parse(fs.readFileSync(this.indexFile, 'utf8')) as IndexFile;
      if (data.v === INDEX_VERSION && data.entries && data.sizes) this.index = data;
    } catch {
      // no index yet (or a damaged one): entries are still found by their manifests
    }
    if (options.memo !== false) this.memo.load();
    return this;
  }

  /**
   * The entry for `key`: its manifest when present and safe for `outputs`, `{ problem }` when present but
   * unusable (the caller discards it loudly), undefined when there is none.
   */
  lookup(key: string, outputs: readonly Pattern[]): { manifest: EntryManifest } | { problem: string } | undefined {
    let text: string;
    try {
      text = fs.readFileSync(this.entryFile(key), 'utf8');
    } catch {
      return undefined;
    }
    const body = this.sealer.open('manifest', text);
    if (body === undefined) return { problem: "the manifest's seal does not verify (not written by this workspace's runner)" };
    let value: unknown;
    try {
      value = JSON.parse(body);
    } catch {
      return { problem: 'the manifest is not valid JSON' };
    }
    return checkManifest(value, key, outputs);
  }

  /** Marks an entry used now (LRU); re-indexes an entry whose manifest exists but was not indexed. */
  touch(manifest: EntryManifest, now = Date.now()): void {
    if (!this.markUsed(manifest.key, now)) {
      const objects = [...new Set([...manifest.files.filter((f) => f.link === undefined).map((f) => f.sha256), manifest.log.sha256])];
      for (const sha of objects) this.index.sizes[sha] ??= this.objects.find(sha)?.size ?? 0;
      this.index.entries[manifest.key] = { step: manifest.step, created: now, used: now, objects };
    }
    this.dirty = true;
  }

  isIndexed(key: string): boolean {
    return Object.hasOwn(this.index.entries, key);
  }

  /** Marks an indexed entry used now (LRU); false when the index does not hold it. */
  markUsed(key: string, now = Date.now()): boolean {
    if (!this.isIndexed(key)) return false;
    this.index.entries[key]!.used = now;
    this.dirty = true;
    return true;
  }

  /** The key of the step's last run, as far as the index knows. */
  lastKey(step: string): string | undefined {
    return this.index.steps && Object.hasOwn(this.index.steps, step) ? this.index.steps[step] : undefined;
  }

  setLastKey(step: string, key: string): void {
    (this.index.steps ??= {})[step] = key;
    this.dirty = true;
  }

  /** Removes an entry (its objects go when no other entry refers to them, at the next prune). */
  discard(key: string): void {
    fs.rmSync(this.entryFile(key), { force: true });
    if (this.index.entries[key]) {
      delete this.index.entries[key];
      this.dirty = true;
    }
  }

  /** Records a new entry; `files` and `log` are already hashed by the caller. */
  async store(
    entry: { key: string; step: string; durationSecs: number; files: (EntryFile & { abs: string })[]; log: { abs: string; sha256: string; size: number } },
    now = Date.now(),
  ): Promise<EntryManifest> {
    const stored = new Map<string, StoredObject>();
    for (const f of [...entry.files, { ...entry.log, path: '', executable: false }]) {
      // A link is stored as its target, in the manifest: it has no object.
      if ('link' in f && f.link !== undefined) continue;
      if (!stored.has(f.sha256)) stored.set(f.sha256, await this.objects.put(f.sha256, f.abs, f.size));
    }
    const manifest: EntryManifest = {
      v: MANIFEST_VERSION,
      key: entry.key,
      step: entry.step,
      created_at: new Date(now).toISOString(),
      duration_secs: entry.durationSecs,
      files: entry.files.map(({ path: p, sha256, size, executable, link }) => ({ path: p, sha256, size, executable, ...(link !== undefined ? { link } : {}) })),
      log: { sha256: entry.log.sha256, size: entry.log.size },
    };
    this.writeManifest(manifest);
    for (const [sha, object] of stored) this.index.sizes[sha] = object.size;
    this.index.entries[entry.key] = { step: entry.step, created: now, used: now, objects: [...stored.keys()] };
    this.dirty = true;
    return manifest;
  }

  /** Writes an entry's manifest, sealed (a remote entry is adopted through this after its checks). */
  writeManifest(manifest: EntryManifest): void {
    writeFileAtomic(this.entryFile(manifest.key), this.sealer.seal('manifest', JSON.stringify(manifest)));
  }

  /** Forgets an object that failed verification, so that the next store writes it afresh. */
  dropObject(sha: string): void {
    this.objects.remove(sha);
    delete this.index.sizes[sha];
    this.dirty = true;
  }

  /**
   * `retention_days`, then `max_size` by least recent use; objects no remaining entry refers to are
   * deleted. Returns the evicted keys.
   */
  prune(now = Date.now()): string[] {
    const entries = this.index.entries;
    const refs = new Map<string, number>();
    let total = 0;
    for (const e of Object.values(entries)) {
      for (const sha of e.objects) {
        const n = refs.get(sha) ?? 0;
        if (n === 0) total += this.index.sizes[sha] ?? 0;
        refs.set(sha, n + 1);
      }
    }
    const evicted: string[] = [];
    const evict = (key: string) => {
      for (const sha of entries[key]!.objects) {
        const n = refs.get(sha)! - 1;
        refs.set(sha, n);
        if (n === 0) total -= this.index.sizes[sha] ?? 0;
      }
      this.discard(key);
      evicted.push(key);
    };
    const byUse = Object.entries(entries).sort((a, b) => a[1].used - b[1].used);
    for (const [key, e] of byUse) if (now - e.used > this.options.retentionDays * DAY_MS) evict(key);
    for (const [key] of byUse) {
      if (total <= this.options.maxBytes) break;
      if (entries[key]) evict(key);
    }
    if (evicted.length > 0) this.sweep();
    return evicted;
  }

  /** Deletes objects that no indexed entry refers to. */
  private sweep(): void {
    const live = new Set(Object.values(this.index.entries).flatMap((e) => e.objects));
    for (const sha of Object.keys(this.index.sizes)) {
      if (live.has(sha)) continue;
      this.objects.remove(sha);
      delete this.index.sizes[sha];
    }
    this.dirty = true;
  }

  stats(): CacheStats {
    const uses = Object.values(this.index.entries).map((e) => e.used);
    const objects = this.objects.list();
    let bytes = 0;
    for (const size of objects.values()) bytes += size;
    return {
      entries: Object.keys(this.index.entries).length,
      objects: objects.size,
      bytes,
      maxBytes: this.options.maxBytes,
      ...(uses.length > 0 ? { oldestUse: new Date(Math.min(...uses)).toISOString() } : {}),
    };
  }

  /** Empties the cache (entries, objects, memo, step records); keeps receipts. */
  clean(): void {
    for (const dir of ['outputs', 'metadata', 'inputs']) fs.rmSync(path.join(this.root, dir), { recursive: true, force: true });
    this.index = { v: INDEX_VERSION, entries: {}, sizes: {}, steps: {} };
    this.dirty = false;
  }

  close(): void {
    if (this.dirty) writeFileAtomic(this.indexFile, JSON.stringify(this.index));
    this.dirty = false;
    this.memo.save();
  }
}
