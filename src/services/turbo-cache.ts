import type { Readable } from 'node:stream';
import { EvidentError } from '../core/index.js';
import type { OrgRecord, Store } from '../store/index.js';
import { systemClock, type Clock } from './clock.js';
import type { VaultService } from './vault.js';

// turbo's remote cache (Vercel's `/v8/artifacts` API, docs/cache.md "turbo's remote cache") on the
// Evident server. An artifact is the tarball turbo uploads for a task hash: its bytes go to the org's
// evidence vault (content-addressed, checked against their SHA-256 whenever they are read), and a row of
// the remote cache (cache_entries, as Evident's own entries: a shared speed-up, not a log record) maps
// `turbo/<hash>` to the bytes' digest, size and duration. First writer wins per hash, as for
// Evident's entries.
//
// Signatures (turbo's `remoteCache.signature`, key TURBO_REMOTE_CACHE_SIGNATURE_KEY, tag in
// `x-artifact-tag`): refused. The server must check a tag before it stores or serves the artifact ("signed
// means verified"), and the HMAC scheme of turbo's published sources (hash ‖ teamId ‖ bytes, and the older
// JSON-metadata form) does not reproduce the tags turbo 2.11.11 sends, measured against the real binary
// (docs/cache.md "turbo's remote cache"). Until it does, a signed upload is a 422 that says so, and turbo
// goes on with its local cache. Unsigned artifacts are checked by their SHA-256 whenever they are read.

export const TURBO_HASH_PATTERN = '^[0-9A-Za-z_-]{1,128}$';
const HASH = new RegExp(TURBO_HASH_PATTERN);
/** Most hashes one `POST /v8/artifacts` query may ask about. */
export const MAX_TURBO_QUERY_HASHES = 1000;
const KEY_ID = 'turbo';

export interface TurboArtifact {
  hash: string;
  sha256: string;
  size: number;
  durationMs: number;
  createdAt: string;
}

interface StoredRow {
  v: 1;
  kind: 'turbo';
  hash: string;
  sha256: string;
  size: number;
  duration_ms: number;
}

export interface TurboCacheOptions {
  clock?: Clock;
}

function checkHash(hash: string): string {
  if (!HASH.test(hash)) throw new EvidentError('INVALID_ARGUMENT', `invalid artifact hash ${JSON.stringify(hash.slice(0, 140))}: letters, digits, _ and -, at most 128`, { details: [{ path: 'hash', message: 'invalid' }] });
  return hash;
}

export class TurboCacheService {
  private readonly clock: Clock;

  constructor(private readonly store: Store, private readonly vault: VaultService, options: TurboCacheOptions = {}) {
    this.clock = options.clock ?? systemClock;
  }

  /** Stores the bytes as they stream in; a signed artifact is refused before a byte is read. */
  async put(org: OrgRecord, hash: string, body: AsyncIterable<Uint8Array>, meta: { tag?: string; durationMs?: number }): Promise<{ created: boolean }> {
    checkHash(hash);
    if (meta.tag !== undefined) {
      throw new EvidentError('VERIFICATION_FAILED', "the artifact is signed (x-artifact-tag), and this server cannot check turbo's signatures yet: it stores nothing it cannot verify. Turn remoteCache.signature off to share unsigned artifacts (their SHA-256 is checked on every read)");
    }
    const duration = meta.durationMs ?? 0;
    if (!Number.isSafeInteger(duration) || duration < 0) throw new EvidentError('INVALID_ARGUMENT', 'x-artifact-duration must be a whole number of milliseconds');
    const item = await this.vault.put(org, body, {});
    const row: StoredRow = { v: 1, kind: 'turbo', hash, sha256: item.digest, size: item.size, duration_ms: duration };
    const { created } = await this.store.cacheEntries.put({ orgId: org.id, cacheKey: `turbo/${hash}`, keyId: KEY_ID, step: 'turbo', entry: JSON.stringify(row), createdAt: this.clock.now().toISOString() });
    return { created };
  }

  /** The artifact's row, or undefined. A row that is not one this service wrote is damage. */
  async find(org: OrgRecord, hash: string): Promise<TurboArtifact | undefined> {
    checkHash(hash);
    const [row] = await this.store.cacheEntries.list(org.id, `turbo/${hash}`, 1, [KEY_ID]);
    if (!row) return undefined;
    let parsed: StoredRow;
    try {
      parsed = JSON.parse(row.entry) as StoredRow;
    } catch {
      throw new EvidentError('TAMPERED', `turbo artifact ${hash} of organisation ${org.name}: its row is not JSON`);
    }
    if (parsed.kind !== 'turbo' || parsed.hash !== hash || !/^[0-9a-f]{64}$/.test(parsed.sha256 ?? '')) throw new EvidentError('TAMPERED', `turbo artifact ${hash} of organisation ${org.name}: its row does not describe it`);
    return { hash, sha256: parsed.sha256, size: parsed.size, durationMs: parsed.duration_ms, createdAt: row.createdAt };
  }

  /** The bytes to serve: the vault checks them against the row's SHA-256 as they stream (TAMPERED otherwise). */
  async get(org: OrgRecord, hash: string): Promise<{ artifact: TurboArtifact; body: Readable }> {
    const artifact = await this.find(org, hash);
    if (!artifact) throw new EvidentError('NOT_FOUND', `no turbo artifact ${hash} in organisation ${org.name}`);
    const download = await this.vault.get(org, artifact.sha256);
    if (download.size !== artifact.size) {
      download.stream.destroy();
      throw new EvidentError('TAMPERED', `turbo artifact ${hash}: its row says ${artifact.size} bytes, the vault holds ${download.size}`);
    }
    return { artifact, body: download.stream };
  }

  /** `POST /v8/artifacts`: what is known of each hash (null when nothing). */
  async query(org: OrgRecord, hashes: readonly string[]): Promise<Record<string, { size: number; taskDurationMs: number } | null>> {
    if (hashes.length > MAX_TURBO_QUERY_HASHES) throw new EvidentError('INVALID_ARGUMENT', `at most ${MAX_TURBO_QUERY_HASHES} hashes per query`);
    const out: Record<string, { size: number; taskDurationMs: number } | null> = {};
    for (const hash of hashes) {
      const a = await this.find(org, hash);
      out[hash] = a ? { size: a.size, taskDurationMs: a.durationMs } : null;
    }
    return out;
  }
}

