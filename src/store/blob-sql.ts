import { Readable } from 'node:stream';
import type { Kysely } from 'kysely';
import { checkDigest } from '../core/index.js';
import type { Database } from './schema.js';
import type { BlobInfo, BlobLimits, BlobRead, BlobStore, OrgBlobRecord, OrgBlobStore, PutResult } from './blob-types.js';
import { Meter, asBytes, tampered, verifying } from './blob-stream.js';
import { Spool } from './blob-spool.js';

/** Tables of migration 0003_blobs, kept beside their only users rather than in the shared schema. */
// A type alias, not an interface: Kysely's withTables() needs an index-signature-compatible shape.
export type BlobTables = {
  /** One row per stored blob (database store only); its bytes are in blob_chunks. */
  blobs: { digest: string; size: number; chunks: number; created_at: string };
  /** The bytes, BLOB_CHUNK_BYTES per row, numbered from 0. */
  blob_chunks: { digest: string; seq: number; bytes: Uint8Array };
  /** Which org uploaded which blob (both stores): an org reads only what it uploaded. */
  org_blobs: { org_id: number; digest: string; name: string; size: number; created_at: string };
};

/**
 * Rows of 1 MiB keep every value far below PostgreSQL's 1 GB bytea ceiling and let a read stream a blob
 * one short query at a time: neither side ever holds a whole blob in memory.
 */
export const BLOB_CHUNK_BYTES = 1024 * 1024;

export type Writer = <T>(work: (tx: Kysely<Database>) => Promise<T>) => Promise<T>;

/**
 * Blobs in the database, for PostgreSQL deployments where many stateless servers must all see every
 * blob. An upload is spooled (memory, then a local temporary file) while hashed, then written in one
 * transaction that inserts the `blobs` row only if absent: concurrent puts of the same bytes keep one copy.
 * The tables are append-only (triggers), like the log.
 */
export class DatabaseBlobStore implements BlobStore {
  readonly kind = 'database' as const;

  constructor(private readonly db: Kysely<Database>, private readonly write: Writer, private readonly spoolDir?: string) {}

  private get t() {
    return this.db.withTables<BlobTables>();
  }

  async put(source: AsyncIterable<Uint8Array>, limits: BlobLimits): Promise<PutResult> {
    const meter = new Meter(limits.maxBytes);
    const spool = new Spool(this.spoolDir);
    try {
      for await (const chunk of source) {
        const bytes = asBytes(chunk);
        meter.take(bytes);
        await spool.write(bytes);
      }
      const digest = meter.digest();
      const size = meter.size;
      if (await this.has(digest)) return { digest, size, created: false };
      const created = await this.write(async (tx) => {
        const t = tx.withTables<BlobTables>();
        const chunks = Math.ceil(size / BLOB_CHUNK_BYTES);
        const row = await t
          .insertInto('blobs')
          .values({ digest, size, chunks, created_at: new Date().toISOString() })
          .onConflict((oc) => oc.column('digest').doNothing())
          .returning('digest')
          .executeTakeFirst();
        // Another server stored the same bytes since has() looked: theirs stands, ours is dropped.
        if (!row) return false;
        let seq = 0;
        for await (const piece of spool.chunks(BLOB_CHUNK_BYTES)) {
          await t.insertInto('blob_chunks').values({ digest, seq: seq++, bytes: piece }).execute();
        }
        return true;
      });
      return { digest, size, created };
    } finally {
      await spool.dispose();
    }
  }

  async has(digest: string): Promise<boolean> {
    return (await this.stat(digest)) !== undefined;
  }

  async stat(digest: string): Promise<BlobInfo | undefined> {
    checkDigest(digest);
    const row = await this.t.selectFrom('blobs').select(['size']).where('digest', '=', digest).executeTakeFirst();
    return row && { digest, size: Number(row.size) };
  }

  async get(digest: string): Promise<BlobRead | undefined> {
    checkDigest(digest);
    const row = await this.t.selectFrom('blobs').select(['size', 'chunks']).where('digest', '=', digest).executeTakeFirst();
    if (!row) return undefined;
    const size = Number(row.size);
    const count = Number(row.chunks);
    const t = this.t;
    async function* pieces(): AsyncGenerator<Buffer> {
      for (let seq = 0; seq < count; seq++) {
        const chunk = await t.selectFrom('blob_chunks').select('bytes').where('digest', '=', digest).where('seq', '=', seq).executeTakeFirst();
        if (!chunk) throw tampered(digest, `chunk ${seq} of ${count} is missing`);
        yield Buffer.from(chunk.bytes);
      }
    }
    return { digest, size, stream: verifying(Readable.from(pieces(), { objectMode: false }), digest, size) };
  }
}

/** org_blobs: the org-to-blob claims, in SQL whichever store holds the bytes. */
export class SqlOrgBlobStore implements OrgBlobStore {
  constructor(private readonly db: Kysely<Database>, private readonly write: Writer) {}

  async link(rows: readonly OrgBlobRecord[]): Promise<void> {
    if (rows.length === 0) return;
    await this.write(async (tx) => {
      const t = tx.withTables<BlobTables>();
      for (const r of rows) {
        await t
          .insertInto('org_blobs')
          .values({ org_id: r.orgId, digest: checkDigest(r.digest), name: r.name, size: r.size, created_at: r.createdAt })
          .onConflict((oc) => oc.columns(['org_id', 'digest', 'name']).doNothing())
          .execute();
      }
    });
  }

  async find(orgId: number, digest: string): Promise<OrgBlobRecord | undefined> {
    const row = await this.db
      .withTables<BlobTables>()
      .selectFrom('org_blobs')
      .selectAll()
      .where('org_id', '=', orgId)
      .where('digest', '=', checkDigest(digest))
      .orderBy('created_at')
      .orderBy('name')
      .limit(1)
      .executeTakeFirst();
    return row && { orgId: row.org_id, digest: row.digest, name: row.name, size: Number(row.size), createdAt: row.created_at };
  }
}
