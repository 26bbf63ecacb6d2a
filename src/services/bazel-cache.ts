import type { Readable } from 'node:stream';
import { EvidentError } from '../core/index.js';
import type { OrgRecord, Store } from '../store/index.js';
import { systemClock, type Clock } from './clock.js';
import type { LogService } from './log-service.js';
import { projectionCheck } from './records/projection-check.js';
import type { VaultService } from './vault.js';

// Bazel's HTTP remote cache (bazel.build/remote/caching, "HTTP caching protocol"; docs/cache.md "Bazel's
// remote cache") on the Evident server. Two namespaces, both keyed by a lowercase hex SHA-256:
//   - CAS (`/cas/<sha256>`): output files by the SHA-256 of their bytes. They live in the org's evidence
//     vault, which is itself content-addressed: an upload whose bytes hash to anything else is refused and
//     granted to no one, and a download is checked against the digest as it streams. Self-certifying, so
//     not logged (a blob is its own name).
//   - AC (`/ac/<sha256>`): the ActionResult (a protobuf message, stored as sent) for the SHA-256 of an
//     Action. Its key says nothing about its bytes, so each upload is a `bazel.action_result` log entry
//     (key, SHA-256, size, uploader), and a cache_entries row maps `bazel-ac/<key>` to that entry, checked
//     against it on every read exactly as turbo's artifacts are (turbo-cache.ts): a swapped row is
//     TAMPERED (500), never another result. First writer wins per key, as for Evident's own entries.

export const BAZEL_DIGEST_PATTERN = '^[0-9a-f]{64}$';
const DIGEST = new RegExp(BAZEL_DIGEST_PATTERN);
const KEY_ID = 'bazel-logged';
const ENTRY_TYPE = 'bazel.action_result';

export interface BazelActionResult {
  key: string;
  sha256: string;
  size: number;
  createdAt: string;
  /** The `bazel.action_result` entry that recorded the upload. */
  entryIndex: number;
}

/** The fields of a `bazel.action_result` entry the row repeats (named as in the entry). */
interface LoggedFields {
  key: string;
  sha256: string;
  size: number;
}

interface StoredRow extends LoggedFields {
  v: 1;
  kind: 'bazel-ac';
  entry_index: number;
}

function checkDigest(what: string, digest: string): string {
  if (!DIGEST.test(digest)) throw new EvidentError('INVALID_ARGUMENT', `invalid ${what} ${JSON.stringify(digest.slice(0, 80))}: 64 lowercase hex digits (a SHA-256)`, { details: [{ path: 'hash', message: 'invalid' }] });
  return digest;
}

function tampered(org: OrgRecord, key: string, why: string, cause?: unknown): EvidentError {
  return new EvidentError('TAMPERED', `Bazel action result ${key} of organisation ${org.name} refused: ${why}`, cause === undefined ? {} : { cause });
}

async function drain(body: AsyncIterable<Uint8Array>): Promise<void> {
  for await (const _ of body) void _;
}

export class BazelCacheService {
  private readonly clock: Clock;

  constructor(private readonly store: Store, private readonly log: LogService, private readonly vault: VaultService, options: { clock?: Clock } = {}) {
    this.clock = options.clock ?? systemClock;
  }

  /** Stores a CAS blob; bytes that do not hash to `digest` are refused (nothing is granted). */
  async putCas(org: OrgRecord, digest: string, body: AsyncIterable<Uint8Array>): Promise<{ created: boolean }> {
    checkDigest('CAS digest', digest);
    if (await this.vault.exists(org, digest)) {
      await drain(body);
      return { created: false };
    }
    await this.vault.put(org, body, { expectDigest: digest });
    return { created: true };
  }

  /** The blob's size, or undefined. */
  async findCas(org: OrgRecord, digest: string): Promise<number | undefined> {
    checkDigest('CAS digest', digest);
    if (!(await this.vault.exists(org, digest))) return undefined;
    return (await this.vault.stat(org, digest)).size;
  }

  /** The blob, checked against its digest as it streams (TAMPERED otherwise); NOT_FOUND when absent. */
  async getCas(org: OrgRecord, digest: string): Promise<{ size: number; body: Readable }> {
    checkDigest('CAS digest', digest);
    const download = await this.vault.get(org, digest);
    return { size: download.size, body: download.stream };
  }

  /** Stores and logs an action result; a known key is neither stored nor logged again. */
  async putAc(org: OrgRecord, key: string, body: AsyncIterable<Uint8Array>, uploadedBy: string): Promise<{ created: boolean; entryIndex?: number }> {
    checkDigest('action key', key);
    if (await this.rowOf(org, key)) {
      await drain(body);
      return { created: false };
    }
    const item = await this.vault.put(org, body, {});
    const fields: LoggedFields = { key, sha256: item.digest, size: item.size };
    // Logged before the row exists: a row never names an entry that is not there (a crash in between is a miss).
    const entry = await this.log.append(org, ENTRY_TYPE, { ...fields, uploaded_by: uploadedBy });
    const row: StoredRow = { v: 1, kind: 'bazel-ac', ...fields, entry_index: entry.index };
    const { created } = await this.store.cacheEntries.put({ orgId: org.id, cacheKey: `bazel-ac/${key}`, keyId: KEY_ID, step: 'bazel', entry: JSON.stringify(row), createdAt: this.clock.now().toISOString() });
    return created ? { created, entryIndex: entry.index } : { created };
  }

  private async rowOf(org: OrgRecord, key: string): Promise<{ entry: string; createdAt: string } | undefined> {
    const [row] = await this.store.cacheEntries.list(org.id, `bazel-ac/${key}`, 1, [KEY_ID]);
    return row;
  }

  /** The action result's record, its row checked against its log entry; undefined when absent. */
  async findAc(org: OrgRecord, key: string): Promise<BazelActionResult | undefined> {
    checkDigest('action key', key);
    const row = await this.rowOf(org, key);
    if (!row) return undefined;
    let parsed: StoredRow;
    try {
      parsed = JSON.parse(row.entry) as StoredRow;
    } catch {
      throw tampered(org, key, 'its row is not JSON');
    }
    if (parsed === null || typeof parsed !== 'object' || parsed.kind !== 'bazel-ac' || !Number.isSafeInteger(parsed.entry_index) || parsed.entry_index < 0) {
      throw tampered(org, key, 'its row does not name the log entry that recorded it');
    }
    const fields: LoggedFields = { key, sha256: parsed.sha256, size: parsed.size };
    try {
      await projectionCheck(this.store).rows(org, [{ table: 'cache_entries', entryIndex: parsed.entry_index, types: [ENTRY_TYPE], fields: { ...fields } }]);
    } catch (err) {
      if (err instanceof EvidentError && err.code === 'TAMPERED') throw tampered(org, key, err.message.replace(/^decision refused: /, ''), err);
      throw err;
    }
    return { key, sha256: parsed.sha256, size: parsed.size, createdAt: row.createdAt, entryIndex: parsed.entry_index };
  }

  /** The logged bytes: the vault checks them against the logged SHA-256 as they stream. */
  async getAc(org: OrgRecord, key: string): Promise<{ result: BazelActionResult; body: Readable }> {
    const result = await this.findAc(org, key);
    if (!result) throw new EvidentError('NOT_FOUND', `no Bazel action result ${key} in organisation ${org.name}`);
    const download = await this.vault.get(org, result.sha256);
    if (download.size !== result.size) {
      download.stream.destroy();
      throw tampered(org, key, `its log entry ${result.entryIndex} says ${result.size} bytes, the vault holds ${download.size}`);
    }
    return { result, body: download.stream };
  }
}
