import { EvidentError } from '../core/index.js';
import type { OrgRecord, Store } from '../store/index.js';
import { systemClock, type Clock } from './clock.js';
import type { VaultService } from './vault.js';

// The server side of the remote cache (docs/cache.md, "The remote cache"). The server stores signed
// entries and hands them out; it does not judge signatures (trust is the consumer's decision, against
// its own trusted keys) but it checks the shape, that the key in the path is the entry's, and that every
// object the entry names was uploaded to the org's vault first, so an entry never points at nothing.
// Entries are not log entries: the cache is not a record.

export const CACHE_KEY_PATTERN = '^[0-9a-f]{64}$';
/** Largest entry accepted (its JSON), and most entries returned for one key. */
export const MAX_CACHE_ENTRY_BYTES = 512 * 1024;
export const MAX_ENTRIES_PER_KEY = 20;

export interface CacheEntryInput {
  v: number;
  key: string;
  step: string;
  outputs: { path: string; sha256: string; size: number; executable: boolean }[];
  log: { sha256: string; size: number };
  producer: { key_id: string; public_key: string };
  signature: string;
  [extra: string]: unknown;
}

export interface StoredCacheEntry {
  entry: CacheEntryInput;
  created_at: string;
}

export class CacheService {
  private readonly clock: Clock;

  constructor(private readonly store: Store, private readonly vault: VaultService, options: { clock?: Clock } = {}) {
    this.clock = options.clock ?? systemClock;
  }

  /** First writer wins per (key, producer key): the same producer putting the key again gets the stored entry back. */
  async put(org: OrgRecord, key: string, entry: CacheEntryInput): Promise<StoredCacheEntry & { created: boolean }> {
    if (entry.key !== key) throw new EvidentError('INVALID_ARGUMENT', `the entry is for key ${entry.key}, not ${key}`, { details: [{ path: '/key', message: 'must equal the key in the path' }] });
    const text = JSON.stringify(entry);
    if (Buffer.byteLength(text) > MAX_CACHE_ENTRY_BYTES) throw new EvidentError('PAYLOAD_TOO_LARGE', `a cache entry may be at most ${MAX_CACHE_ENTRY_BYTES} bytes`);
    const digests = new Set([...entry.outputs.map((o) => o.sha256), entry.log.sha256]);
    for (const digest of digests) {
      if (!(await this.vault.exists(org, digest))) {
        throw new EvidentError('INVALID_ARGUMENT', `object sha256:${digest} of the entry was not uploaded: upload the objects before the entry`, { details: [{ path: '/outputs', message: `missing object ${digest}` }] });
      }
    }
    const { row, created } = await this.store.cacheEntries.put({
      orgId: org.id, cacheKey: key, keyId: entry.producer.key_id, step: entry.step, entry: text, createdAt: this.clock.now().toISOString(),
    });
    return { entry: JSON.parse(row.entry) as CacheEntryInput, created_at: row.createdAt, created };
  }

  /** Every entry of the key (one per producer), oldest first; NOT_FOUND when there is none. */
  async get(org: OrgRecord, key: string): Promise<StoredCacheEntry[]> {
    const rows = await this.store.cacheEntries.list(org.id, key, MAX_ENTRIES_PER_KEY);
    if (rows.length === 0) throw new EvidentError('NOT_FOUND', `no cache entry ${key} in organisation ${org.name}`);
    return rows.map((r) => ({ entry: JSON.parse(r.entry) as CacheEntryInput, created_at: r.createdAt }));
  }
}
