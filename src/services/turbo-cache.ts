import type { Readable } from 'node:stream';
import { EvidentError } from '../core/index.js';
import type { OrgRecord, Store } from '../store/index.js';
import { systemClock, type Clock } from './clock.js';
import type { LogService } from './log-service.js';
import { projectionCheck } from './records/projection-check.js';
import type { VaultService } from './vault.js';

// turbo's remote cache (Vercel's `/v8/artifacts` API, docs/cache.md "turbo's remote cache") on the
// Evident server. An artifact is the tarball turbo uploads for a task hash: its bytes go to the org's
// evidence vault (content-addressed, checked against their SHA-256 whenever they are read), each upload
// is a `turbo.artifact` log entry (hash, SHA-256, size, duration, team, uploader: issue #19), and a row of
// the remote cache (cache_entries) maps `turbo/<hash>` to that entry. The row is a projection whoever holds
// the database can edit (DESIGN.md §2.1), so every read checks it against its entry before the digest is
// used: a swapped row or blob is TAMPERED (500), never other bytes. First writer wins per hash, as for
// Evident's entries; a later upload of a known hash is neither stored nor logged.
//
// Signatures (turbo's `remoteCache.signature`, key TURBO_REMOTE_CACHE_SIGNATURE_KEY): turbo sends a tag in
// `x-artifact-tag`, base64 of HMAC-SHA256(key, hash ‖ teamId ‖ artifact bytes) (vercel/turborepo,
// crates/turborepo-cache/src/signature_authentication.rs), and on download checks the tag the server
// returns against the bytes with its own key, refusing the artifact when it does not verify (http.rs
// `fetch`). The key is a secret shared by turbo users only: the server never has it, so it cannot and
// does not check the tag. It keeps the tag as sent, logs it in the `turbo.artifact` entry with the
// artifact's SHA-256, and serves it back only after the row that holds it was checked against that
// entry: the server vouches for "this uploader sent these bytes with this tag", the turbo client for "the
// tag is one of ours". A signed upload of a hash first stored unsigned (or with another key) is dropped
// like any second upload (first writer wins), so turbo with signing on treats that hash as a miss.

export const TURBO_HASH_PATTERN = '^[0-9A-Za-z_-]{1,128}$';
const HASH = new RegExp(TURBO_HASH_PATTERN);
/** A tag as turbo writes it: standard base64, padded or not (turbo's versions differ), at most 200 characters. */
export const TURBO_TAG_PATTERN = '^[A-Za-z0-9+/]{4,198}={0,2}$';
const TAG = new RegExp(TURBO_TAG_PATTERN);
/** Most hashes one `POST /v8/artifacts` query may ask about. */
export const MAX_TURBO_QUERY_HASHES = 1000;
/**
 * The producer column of the rows: 'turbo-logged' since rows point at log entries. Rows of the first
 * version ('turbo', no entry) are not read: they were never logged, so they are not trusted.
 */
const KEY_ID = 'turbo-logged';
const ENTRY_TYPE = 'turbo.artifact';

export interface TurboArtifact {
  hash: string;
  sha256: string;
  size: number;
  durationMs: number;
  /** turbo's `x-artifact-tag` as uploaded (null: unsigned); checked by turbo, not by the server. */
  tag: string | null;
  createdAt: string;
  /** The `turbo.artifact` entry that recorded the upload. */
  entryIndex: number;
}

/** The fields of a `turbo.artifact` entry the row repeats (named as in the entry). */
interface LoggedFields {
  hash: string;
  sha256: string;
  size: number;
  duration_ms: number;
  /** Absent in rows and entries written before tags were kept: read as null (unsigned). */
  tag?: string | null;
}

interface StoredRow extends LoggedFields {
  v: 2;
  kind: 'turbo';
  entry_index: number;
}

/** Who uploaded, as the route knows it: the team the request named, and the token. */
export interface TurboUploader {
  /** `teamId` or `slug` as sent (null: the token's own org). */
  team: string | null;
  /** `token NAME (ID)`. */
  uploadedBy: string;
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

  constructor(private readonly store: Store, private readonly log: LogService, private readonly vault: VaultService, options: TurboCacheOptions = {}) {
    this.clock = options.clock ?? systemClock;
  }

  /** Stores the bytes as they stream in, with turbo's tag when it signed them (kept, logged, not checked: above). */
  async put(org: OrgRecord, hash: string, body: AsyncIterable<Uint8Array>, meta: { tag?: string; durationMs?: number }, by: TurboUploader): Promise<{ created: boolean; entryIndex?: number }> {
    checkHash(hash);
    if (meta.tag !== undefined && !TAG.test(meta.tag)) {
      throw new EvidentError('INVALID_ARGUMENT', 'x-artifact-tag must be standard base64 (what turbo sends when remoteCache.signature is on)', { details: [{ path: 'x-artifact-tag', message: 'invalid' }] });
    }
    const duration = meta.durationMs ?? 0;
    if (!Number.isSafeInteger(duration) || duration < 0) throw new EvidentError('INVALID_ARGUMENT', 'x-artifact-duration must be a whole number of milliseconds');
    if (await this.rowOf(org, hash)) {
      // Known hash: first writer wins. The body is read to the end (the client is still sending) and dropped.
      for await (const _ of body) void _;
      return { created: false };
    }
    const item = await this.vault.put(org, body, {});
    const fields: LoggedFields = { hash, sha256: item.digest, size: item.size, duration_ms: duration, tag: meta.tag ?? null };
    // Logged before the row exists: a row never points at an entry that is not there. A crash between the
    // two leaves an entry and no row (a miss; the next upload logs again).
    const entry = await this.log.append(org, ENTRY_TYPE, { ...fields, team: by.team, uploaded_by: by.uploadedBy });
    const row: StoredRow = { v: 2, kind: 'turbo', ...fields, entry_index: entry.index };
    const { created } = await this.store.cacheEntries.put({ orgId: org.id, cacheKey: `turbo/${hash}`, keyId: KEY_ID, step: 'turbo', entry: JSON.stringify(row), createdAt: this.clock.now().toISOString() });
    return created ? { created, entryIndex: entry.index } : { created };
  }

  private async rowOf(org: OrgRecord, hash: string): Promise<{ entry: string; createdAt: string } | undefined> {
    const [row] = await this.store.cacheEntries.list(org.id, `turbo/${hash}`, 1, [KEY_ID]);
    return row;
  }

  /**
   * The artifact, or undefined; its row checked against its `turbo.artifact` log entry (the entry hashed
   * against the stored tree, then each field compared), so what is returned is what was logged. A row
   * that is not one this service wrote, or that differs from its entry, is TAMPERED.
   */
  async find(org: OrgRecord, hash: string): Promise<TurboArtifact | undefined> {
    checkHash(hash);
    const row = await this.rowOf(org, hash);
    if (!row) return undefined;
    let parsed: StoredRow;
    try {
      parsed = JSON.parse(row.entry) as StoredRow;
    } catch {
      throw tampered(org, hash, 'its row is not JSON');
    }
    if (parsed === null || typeof parsed !== 'object' || parsed.kind !== 'turbo' || !Number.isSafeInteger(parsed.entry_index) || parsed.entry_index < 0) {
      throw tampered(org, hash, 'its row does not name the log entry that recorded it');
    }
    const tag = parsed.tag ?? null;
    // The tag is compared like every other field: a row whose tag was edited (or removed) is TAMPERED.
    const fields: LoggedFields = { hash, sha256: parsed.sha256, size: parsed.size, duration_ms: parsed.duration_ms, tag };
    try {
      await projectionCheck(this.store).rows(org, [{ table: 'cache_entries', entryIndex: parsed.entry_index, types: [ENTRY_TYPE], fields: { ...fields } }]);
    } catch (err) {
      if (err instanceof EvidentError && err.code === 'TAMPERED') throw tampered(org, hash, err.message.replace(/^decision refused: /, ''), err);
      throw err;
    }
    return { hash, sha256: parsed.sha256, size: parsed.size, durationMs: parsed.duration_ms, tag, createdAt: row.createdAt, entryIndex: parsed.entry_index };
  }

  /** The bytes to serve: the vault checks them against the logged SHA-256 as they stream (TAMPERED otherwise). */
  async get(org: OrgRecord, hash: string): Promise<{ artifact: TurboArtifact; body: Readable }> {
    const artifact = await this.find(org, hash);
    if (!artifact) throw new EvidentError('NOT_FOUND', `no turbo artifact ${hash} in organisation ${org.name}`);
    const download = await this.vault.get(org, artifact.sha256);
    if (download.size !== artifact.size) {
      download.stream.destroy();
      throw tampered(org, hash, `its log entry ${artifact.entryIndex} says ${artifact.size} bytes, the vault holds ${download.size}`);
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


function tampered(org: OrgRecord, hash: string, why: string, cause?: unknown): EvidentError {
  return new EvidentError('TAMPERED', `turbo artifact ${hash} of organisation ${org.name} refused: ${why}`, cause === undefined ? {} : { cause });
}
