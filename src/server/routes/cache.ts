import type { FastifyInstance } from 'fastify';
import type { Static } from 'typebox';
import { cacheSchemas as cs, schemas } from '../../client/index.js';
import { MAX_CACHE_ENTRY_BYTES, type CacheEntryInput } from '../../services/index.js';
import { access, errorResponses, typed, type Services } from '../context.js';

/**
 * The remote cache of `evident run` (docs/cache.md): signed entries by cache key. The objects they name
 * live in the evidence vault (POST/HEAD/GET /evidence), so bytes are stored once, whoever uploads them.
 */
export function cacheRoutes(services: Services) {
  return async (fastify: FastifyInstance) => {
    const app = typed(fastify);
    const path = '/api/v1/orgs/:org/cache/entries/:key';
    app.put(
      path,
      {
        bodyLimit: MAX_CACHE_ENTRY_BYTES,
        schema: {
          tags: ['cache'],
          summary: 'Store a signed cache entry (its objects must be in the evidence vault already)',
          description:
            'One entry per cache key and producer key: the first one stored wins (the same producer putting the key again ' +
            'gets 200 and the stored entry). The signature must verify against the entry\'s public key, and the key id must be that ' +
            'key\'s (422 otherwise), so nobody can occupy another producer\'s slot. Whether to trust the producer is each consumer\'s decision.',
          params: cs.CacheKeyParams,
          body: cs.CacheEntry,
          response: { 200: cs.CacheEntryStored, 201: cs.CacheEntryStored, ...errorResponses, 413: schemas.ErrorBody, 422: schemas.ErrorBody },
        },
      },
      async (request, reply) => {
        const org = await access(services, request, 'write', request.params.org);
        const stored = await services.cache.put(org, request.params.key, request.body as CacheEntryInput);
        void reply.status(stored.created ? 201 : 200);
        // The entry was validated against cs.CacheEntry on the way in and is returned as stored.
        return stored as Static<typeof cs.CacheEntryStored>;
      },
    );
    app.get(
      path,
      {
        schema: {
          tags: ['cache'],
          summary: 'The entries stored under a cache key (one per producer key, oldest first; ?key_ids= only those producers\'); 404 when there is none',
          params: cs.CacheKeyParams,
          querystring: cs.CacheEntriesQuery,
          response: { 200: cs.CacheEntryList, ...errorResponses },
        },
      },
      async (request) => {
        const org = await access(services, request, 'read', request.params.org);
        const keyIds = request.query.key_ids?.split(',');
        const entries = (await services.cache.get(org, request.params.key, keyIds)) as Static<typeof cs.StoredCacheEntry>[];
        return { key: request.params.key, entries };
      },
    );
  };
}
