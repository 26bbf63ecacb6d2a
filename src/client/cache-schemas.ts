import { Type, type Static } from 'typebox';
import { Hex32, OrgParams } from './schemas.js';

/** Shapes of the remote cache's API (docs/cache.md), shared by the server's routes and the client. */
export const CacheKeyParams = Type.Object({ ...OrgParams.properties, key: Type.String({ pattern: '^[0-9a-f]{64}$', description: 'the cache key: 64 lower-case hex' }) });

const Size = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });

export const CacheEntry = Type.Object(
  {
    v: Type.Literal(1),
    key: Hex32,
    step: Type.String({ minLength: 1, maxLength: 100 }),
    duration_secs: Type.Number({ minimum: 0 }),
    outputs: Type.Array(
      Type.Object({ path: Type.String({ minLength: 1, maxLength: 4096 }), sha256: Hex32, size: Size, executable: Type.Boolean() }, { additionalProperties: false }),
      { maxItems: 100_000 },
    ),
    log: Type.Object({ sha256: Hex32, size: Size }, { additionalProperties: false }),
    producer: Type.Object({ key_id: Hex32, public_key: Type.String({ maxLength: 200 }) }, { additionalProperties: false }),
    signature: Type.String({ minLength: 1, maxLength: 200, description: 'base64 Ed25519 signature over the entry without it (docs/cache.md)' }),
  },
  { additionalProperties: false },
);
export type CacheEntry = Static<typeof CacheEntry>;

export const StoredCacheEntry = Type.Object({ entry: CacheEntry, created_at: Type.String() });
export const CacheEntriesQuery = Type.Object({
  key_ids: Type.Optional(Type.String({ pattern: '^[0-9a-f]{64}(,[0-9a-f]{64}){0,49}$', description: "only these producers' entries: comma-separated key ids (at most 50), e.g. the consumer's trusted keys" })),
});
export const CacheEntryList = Type.Object({ key: Hex32, entries: Type.Array(StoredCacheEntry) });
export type CacheEntryList = Static<typeof CacheEntryList>;
export const CacheEntryStored = Type.Object({ ...StoredCacheEntry.properties, created: Type.Boolean() });
