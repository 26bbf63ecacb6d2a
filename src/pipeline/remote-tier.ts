import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { LocalCache } from './cache.js';
import type { KeySigner, TrustedKey } from './keys.js';
import { checkManifest, type EntryManifest } from './manifest.js';
import { parsePattern } from './patterns.js';
import { signRemoteEntry, verifyRemoteEntry, type RemoteCacheStore } from './remote-cache.js';
import type { StepSpec } from './types.js';

// The remote tier of the cache (docs/cache.md, "The remote cache"), consulted only on a local miss so the
// warm path stays local. A remote entry is used only when it is signed by a trusted key and every object
// it needs downloads with the right digest and size; it is then adopted into the local cache and restored
// by the same code as a local hit (which checks every file again). Anything else is a loud miss. After a
// step runs, its objects and signed entry are uploaded in the background; upload failures only warn.

export interface RemoteCacheOptions {
  store: RemoteCacheStore;
  /** Keys whose entries are accepted (.evident/keys/trusted/). */
  trusted: TrustedKey[];
  /** Signs uploaded entries; without it nothing is uploaded. */
  signer?: KeySigner;
  /** Where the store is, for messages. */
  label: string;
}

export type RemoteFetch = { manifest: EntryManifest } | { miss: string } | undefined;

export class RemoteTier {
  private disabled = false;
  private readonly uploads: Promise<void>[] = [];

  constructor(
    private readonly o: RemoteCacheOptions,
    private readonly workspace: string,
    private readonly cache: LocalCache,
    private readonly warn: (message: string) => void,
  ) {}

  private unreachable(err: unknown): void {
    if (this.disabled) return;
    this.disabled = true;
    this.warn(`remote cache ${this.o.label} not used for the rest of this run: ${(err as Error).message}`);
  }

  /**
   * The remote entry for a step that missed locally: its manifest once adopted into the local cache, a
   * loud miss (`{ miss }`, with a warning) when entries exist but none may be used, undefined when the
   * server has none (or cannot be reached).
   */
  async fetch(step: StepSpec, key: string): Promise<RemoteFetch> {
    if (this.disabled) return undefined;
    let list: unknown[];
    try {
      // Only the producers this runner trusts: the server keeps one entry per producer, and anyone with a
      // token can add producers, so an unfiltered list (at most 20) could hide a trusted one. When none of
      // them has an entry, the others are asked for only to say, on a miss, whose entries were there.
      const trusted = this.o.trusted.map((t) => t.keyId);
      list = trusted.length > 0 ? await this.o.store.entries(key, trusted) : [];
      if (list.length === 0) list = await this.o.store.entries(key);
    } catch (err) {
      this.unreachable(err);
      return undefined;
    }
    if (list.length === 0) return undefined;
    const outputs = step.outputs.map(parsePattern);
    let reason: string | undefined;
    for (const value of list) {
      const verdict = verifyRemoteEntry(value, key, this.o.trusted);
      if (!verdict.ok) {
        reason ??= verdict.reason;
        continue;
      }
      const checked = checkManifest({ ...verdict.manifest, step: step.name }, key, outputs);
      if ('problem' in checked) {
        reason ??= `remote entry rejected: ${checked.problem}`;
        continue;
      }
      const problem = await this.download(checked.manifest);
      if (problem) {
        this.warn(`remote cache entry ${key.slice(0, 12)} of ${step.name} not used: ${problem}`);
        return { miss: problem };
      }
      this.cache.writeManifest(checked.manifest);
      this.cache.touch(checked.manifest);
      return { manifest: checked.manifest };
    }
    const why = reason ?? 'remote entry unusable';
    this.warn(`remote cache entry ${key.slice(0, 12)} of ${step.name} not used: ${why}`);
    return { miss: why };
  }

  /**
   * What fetch() would find, without downloading or writing anything (`run --dry`): 'hit' when a trusted
   * entry that passes every check exists and the server holds every object it needs that the local cache
   * lacks; else the reason a run would miss, or undefined when the server has no entry (or is unreachable).
   */
  async peek(step: StepSpec, key: string): Promise<{ hit: true } | { hit: false; reason: string } | undefined> {
    if (this.disabled) return undefined;
    try {
      const trusted = this.o.trusted.map((t) => t.keyId);
      let list = trusted.length > 0 ? await this.o.store.entries(key, trusted) : [];
      if (list.length === 0) list = await this.o.store.entries(key);
      if (list.length === 0) return undefined;
      const outputs = step.outputs.map(parsePattern);
      let reason: string | undefined;
      for (const value of list) {
        const verdict = verifyRemoteEntry(value, key, this.o.trusted);
        const checked = verdict.ok ? checkManifest({ ...verdict.manifest, step: step.name }, key, outputs) : undefined;
        if (!verdict.ok || checked === undefined || 'problem' in checked) {
          reason ??= !verdict.ok ? verdict.reason : `remote entry rejected: ${(checked as { problem: string }).problem}`;
          continue;
        }
        const needed = [...checked.manifest.files.filter((f) => f.link === undefined), checked.manifest.log].map((f) => f.sha256).filter((sha) => !this.cache.objects.find(sha));
        const present = needed.length === 0 ? new Set<string>() : await this.o.store.hasObjects([...new Set(needed)]);
        const missing = needed.find((sha) => !present.has(sha));
        if (missing === undefined) return { hit: true };
        reason ??= `remote object ${missing.slice(0, 12)} is not on the server`;
      }
      return { hit: false, reason: reason ?? 'remote entry unusable' };
    } catch (err) {
      this.unreachable(err);
      return undefined;
    }
  }

  /** Fetches the objects the local cache lacks, each checked against its digest and size. */
  private async download(manifest: EntryManifest): Promise<string | undefined> {
    const wanted = new Map<string, number>();
    for (const f of [...manifest.files.filter((f) => f.link === undefined), manifest.log]) if (!this.cache.objects.find(f.sha256)) wanted.set(f.sha256, f.size);
    if (wanted.size === 0) return undefined;
    const tmpDir = path.join(this.workspace, '.evident', 'tmp');
    fs.mkdirSync(tmpDir, { recursive: true });
    for (const [sha, size] of wanted) {
      let bytes: Uint8Array;
      try {
        bytes = await this.o.store.getObject(sha, size);
      } catch (err) {
        return `remote object ${sha.slice(0, 12)} could not be downloaded (${(err as Error).message})`;
      }
      const got = createHash('sha256').update(bytes).digest('hex');
      if (got !== sha || bytes.length !== size) {
        return `remote object ${sha.slice(0, 12)} is corrupted (its content hashes to ${got.slice(0, 12)}, ${bytes.length} bytes)`;
      }
      const tmp = path.join(tmpDir, `remote-${sha.slice(0, 16)}-${randomBytes(6).toString('hex')}`);
      try {
        fs.writeFileSync(tmp, bytes);
        await this.cache.objects.put(sha, tmp, size);
      } finally {
        fs.rmSync(tmp, { force: true });
      }
    }
    return undefined;
  }

  /** Uploads a freshly stored entry in the background (see flush). */
  upload(manifest: EntryManifest, files: readonly { path: string; abs: string; sha256: string }[], log: { abs: string; sha256: string }): void {
    if (this.disabled || !this.o.signer) return;
    const signer = this.o.signer;
    this.uploads.push(
      (async () => {
        try {
          const byDigest = new Map<string, { abs: string; path: string }>();
          for (const f of files) if (!byDigest.has(f.sha256)) byDigest.set(f.sha256, f);
          if (!byDigest.has(log.sha256)) byDigest.set(log.sha256, { abs: log.abs, path: `log of ${manifest.step}` });
          const present = await this.o.store.hasObjects([...byDigest.keys()]);
          const send = [...byDigest].filter(([sha]) => !present.has(sha));
          if (send.length > 0) {
            const got = await this.o.store.putObjects(send.map(([sha, f]) => ({ abs: f.abs, name: `evident-cache/${sha}` })));
            const changed = send.find(([sha], i) => got[i] !== sha);
            if (changed) throw new Error(`${changed[1].path} changed while it was being uploaded`);
          }
          await this.o.store.putEntry(signRemoteEntry(manifest, signer));
        } catch (err) {
          this.warn(`remote cache: ${manifest.step} not uploaded to ${this.o.label}: ${(err as Error).message}`);
        }
      })(),
    );
  }

  /** Waits for every upload started so far. */
  async flush(): Promise<void> {
    await Promise.all(this.uploads.splice(0));
  }
}
