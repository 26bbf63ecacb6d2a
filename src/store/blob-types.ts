import type { Readable } from 'node:stream';

export type BlobStoreKind = 'filesystem' | 'database';

export interface BlobLimits {
  /** The put fails with PAYLOAD_TOO_LARGE, keeping nothing, as soon as the source passes this many bytes. */
  maxBytes: number;
}

export interface PutResult {
  /** SHA-256 of the bytes, 64 lower-case hex. */
  digest: string;
  size: number;
  /** False when the same bytes were already stored (by anyone): they were not written again. */
  created: boolean;
}

export interface BlobInfo {
  digest: string;
  size: number;
}

export interface BlobRead extends BlobInfo {
  /**
   * The bytes. They are checked against the digest as they stream: on a mismatch the stream fails with
   * TAMPERED before its last chunk, so a reader never sees a complete copy of altered bytes.
   */
  stream: Readable;
}

/**
 * The evidence vault's bytes, content-addressed by SHA-256 (DESIGN.md §1). Blobs are immutable: a put of
 * bytes already present changes nothing. Only a digest, never a name from outside, becomes a storage key.
 * Org ownership is not kept here (see OrgBlobStore): the same bytes are stored once for everyone.
 */
export interface BlobStore {
  readonly kind: BlobStoreKind;
  put(source: AsyncIterable<Uint8Array>, limits: BlobLimits): Promise<PutResult>;
  has(digest: string): Promise<boolean>;
  stat(digest: string): Promise<BlobInfo | undefined>;
  get(digest: string): Promise<BlobRead | undefined>;
}

/** One org's claim to a blob: it uploaded those bytes (under that name, kept only as metadata). */
export interface OrgBlobRecord {
  orgId: number;
  digest: string;
  size: number;
  /** '' when the upload had no usable name. */
  name: string;
  createdAt: string;
}

/** Which orgs may read which blobs. Append-only, like the log. */
export interface OrgBlobStore {
  /** Records every claim in one transaction; claims already present are left as they are. */
  link(rows: readonly OrgBlobRecord[]): Promise<void>;
  /** The org's earliest claim to the digest, or undefined: the same answer for absent and another org's. */
  find(orgId: number, digest: string): Promise<OrgBlobRecord | undefined>;
}

export interface BlobStoreOptions {
  /** Default: filesystem on SQLite, database on PostgreSQL (so every server process sees every blob). */
  blobs?: BlobStoreKind;
  /** Directory of the filesystem blob store. Default `<dataDir>/blobs`. */
  blobDir?: string;
}
