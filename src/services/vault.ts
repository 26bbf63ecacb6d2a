import type { Readable } from 'node:stream';
import { EvidentError, checkDigest, isEvidentError, sanitiseEvidenceName } from '../core/index.js';
import type { OrgBlobRecord, OrgRecord, Store } from '../store/index.js';
import { systemClock, type Clock } from './clock.js';

/** Largest evidence file accepted by default: 100 MiB. */
export const DEFAULT_MAX_EVIDENCE_BYTES = 100 * 1024 * 1024;

export interface VaultOptions {
  /** Largest evidence file accepted, in bytes. */
  maxBytes?: number;
  clock?: Clock;
}

export interface EvidenceItem {
  digest: string;
  size: number;
  /** The uploaded file's name, sanitised; metadata only, never a path on the server. */
  name: string | null;
}

export interface EvidencePart {
  /** As the client sent it: it is sanitised here. */
  name?: string | null;
  stream: AsyncIterable<Uint8Array>;
}

export interface EvidenceDownload extends EvidenceItem {
  /** Checked against the digest while it streams (fails with TAMPERED). */
  stream: Readable;
}

/**
 * The evidence vault (DESIGN.md §1): files attestations point at by SHA-256 digest. Bytes are stored once
 * for everyone; an org may read only the blobs it uploaded itself, and asking for any other digest gets
 * the same NOT_FOUND whether the bytes exist or not, so one org cannot probe for another's evidence.
 */
export class VaultService {
  readonly maxBytes: number;
  private readonly clock: Clock;

  constructor(private readonly store: Store, options: VaultOptions = {}) {
    this.maxBytes = options.maxBytes ?? DEFAULT_MAX_EVIDENCE_BYTES;
    if (!Number.isSafeInteger(this.maxBytes) || this.maxBytes < 0) throw new EvidentError('INVALID_ARGUMENT', 'the evidence size limit must be a whole number of bytes');
    this.clock = options.clock ?? systemClock;
  }

  /**
   * Stores one file and grants it to `org`. With `expectDigest` (a content-addressed upload: Bazel's CAS)
   * bytes that hash to anything else are refused and granted to no one.
   */
  async put(org: OrgRecord, stream: AsyncIterable<Uint8Array>, options: { maxBytes?: number; name?: string | null; expectDigest?: string } = {}): Promise<EvidenceItem> {
    const [item] = await this.upload(org, once({ name: options.name, stream }), options);
    return item!;
  }

  /**
   * Stores each file as it arrives, then grants them all to `org` in one transaction. If any part fails
   * (too large, broken stream) the org is granted none: bytes already stored stay unreachable until an
   * upload that succeeds, so a failed request leaves nothing anyone can see.
   */
  async upload(org: OrgRecord, parts: AsyncIterable<EvidencePart>, options: { maxBytes?: number; expectDigest?: string } = {}): Promise<EvidenceItem[]> {
    const maxBytes = options.maxBytes ?? this.maxBytes;
    const items: EvidenceItem[] = [];
    for await (const part of parts) {
      const name = sanitiseEvidenceName(part.name);
      try {
        const { digest, size } = await this.store.blobs.put(part.stream, { maxBytes });
        if (options.expectDigest !== undefined && digest !== options.expectDigest) {
          throw new EvidentError('INVALID_ARGUMENT', `the body hashes to sha256:${digest}, not the sha256:${options.expectDigest} it was uploaded as; nothing was recorded`, { details: [{ path: 'body', message: 'digest mismatch' }] });
        }
        items.push({ digest, size, name });
      } catch (err) {
        throw explain(err, name, items.length);
      }
    }
    const at = this.clock.now().toISOString();
    const rows: OrgBlobRecord[] = items.map((i) => ({ orgId: org.id, digest: i.digest, size: i.size, name: i.name ?? '', createdAt: at }));
    await this.store.orgBlobs.link(rows);
    return items;
  }

  /** The org's evidence with this digest, or NOT_FOUND. */
  async stat(org: OrgRecord, digest: string): Promise<EvidenceItem> {
    const claim = await this.store.orgBlobs.find(org.id, checkDigest(digest));
    if (!claim) throw notFound(org, digest);
    return { digest, size: claim.size, name: claim.name === '' ? null : claim.name };
  }

  async exists(org: OrgRecord, digest: string): Promise<boolean> {
    return (await this.store.orgBlobs.find(org.id, checkDigest(digest))) !== undefined;
  }

  async get(org: OrgRecord, digest: string): Promise<EvidenceDownload> {
    const item = await this.stat(org, digest);
    const blob = await this.store.blobs.get(digest);
    // The org was granted these bytes, so they were stored: their absence is damage, not a miss.
    if (!blob) throw new EvidentError('TAMPERED', `evidence sha256:${digest} is recorded for organisation ${org.name} but missing from the blob store`);
    if (blob.size !== item.size) {
      blob.stream.destroy();
      throw new EvidentError('TAMPERED', `evidence sha256:${digest} was uploaded with ${item.size} bytes but the blob store holds ${blob.size}`);
    }
    return { ...item, stream: blob.stream };
  }
}

function notFound(org: OrgRecord, digest: string): EvidentError {
  return new EvidentError('NOT_FOUND', `no evidence sha256:${digest} in organisation ${org.name}`);
}

/** Names the file in a size error, and says what happened to the request's other files. */
function explain(err: unknown, name: string | null, stored: number): unknown {
  if (!isEvidentError(err, 'PAYLOAD_TOO_LARGE')) return err;
  const file = name === null ? `file ${stored + 1}` : `file ${JSON.stringify(name)}`;
  return new EvidentError('PAYLOAD_TOO_LARGE', `evidence ${file}: ${err.message}; no file of this upload was recorded`, { details: err.details, cause: err });
}

async function* once<T>(value: T): AsyncGenerator<T> {
  yield value;
}
