import { EvidentError } from '../core/index.js';
import { verifyCacheEntrySignature } from '../formats/index.js';
import type { OrgRecord, Store } from '../store/index.js';
import { systemClock, type Clock } from './clock.js';
import type { VaultService } from './vault.js';

// The server side of the remote cache (docs/cache.md, "The remote cache"). The server stores signed
// entries and hands them out. Trust is the consumer's decision, against its own trusted keys; but the
// server refuses an entry whose signature does not verify against the public key it carries, or whose
// key id is not that key's (issue 14, finding 2): entries are kept one per (cache key, producer key id),
// so an unverified entry claiming a producer's id would occupy that producer's slot for good. It also
// checks the shape, that the key in the path is the entry's, and that every object the entry names was
// uploaded to the org's vault first, so an entry never points at nothing. Consumers ask for the entries
// of the producers they trust (`?key_ids=`), so no number of other producers' entries can hide them.
// Entries are not log entries: the cache is not a record.

export const CACHE_KEY_PATTERN = '^[0-9a-f]{64}$';
/** Largest entry accepted (its JSON), and most entries returned for one key. */
export const MAX_CACHE_ENTRY_BYTES = 512 * 1024;
export const MAX_ENTRIES_PER_KEY = 20;
/** Most producer key ids one request may ask for. */
export const MAX_KEY_IDS_PER_QUERY = 50;

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
    const verdict = verifyCacheEntrySignature(entry);
    if (!verdict.ok) {
      throw new EvidentError('VERIFICATION_FAILED', `cache entry refused: ${verdict.reason.replace(/^remote entry /, 'the entry ')}`, { details: [{ path: '/signature', message: verdict.reason }] });
    }
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

  /**
   * The entries of the key (one per producer), oldest first, at most MAX_ENTRIES_PER_KEY; with `keyIds`,
   * only those producers' entries. NOT_FOUND when there is none.
   */
  async get(org: OrgRecord, key: string, keyIds?: readonly string[]): Promise<StoredCacheEntry[]> {
    if (keyIds && keyIds.length > MAX_KEY_IDS_PER_QUERY) throw new EvidentError('INVALID_ARGUMENT', `at most ${MAX_KEY_IDS_PER_QUERY} key ids per request`, { details: [{ path: 'key_ids', message: 'too many' }] });
    const rows = await this.store.cacheEntries.list(org.id, key, keyIds ? keyIds.length : MAX_ENTRIES_PER_KEY, keyIds);
    if (rows.length === 0) throw new EvidentError('NOT_FOUND', `no cache entry ${key} in organisation ${org.name}`);
    return rows.map((r) => ({ entry: JSON.parse(r.entry) as CacheEntryInput, created_at: r.createdAt }));
  }
}
