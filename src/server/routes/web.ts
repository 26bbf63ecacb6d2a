import type { FastifyInstance } from 'fastify';
import fastifyStatic from '@fastify/static';
import { isHashedAsset, WEB_SECURITY_HEADERS, webAssetsBuilt, webAssetsDir } from '../../web/index.js';

/**
 * The web UI (issue #7): the built files of dist/web at `/`. Routing is in the URL's hash (#/flows/…), so
 * every page is index.html and no fallback route is needed. The routes are hidden from the OpenAPI
 * document: they are not the API. Without a build (`npm run build`), nothing is served.
 */
export function webRoutes() {
  return async (fastify: FastifyInstance) => {
    if (!webAssetsBuilt()) return;
    await fastify.register(fastifyStatic, {
      root: webAssetsDir(),
      prefix: '/',
      // One route per built file (listed at start-up), so unknown paths still reach the JSON 404 handler.
      wildcard: false,
      index: ['index.html'],
      schemaHide: true,
      cacheControl: false,
      setHeaders(res, file) {
        for (const [name, value] of Object.entries(WEB_SECURITY_HEADERS)) void res.header(name, value);
        void res.header('cache-control', isHashedAsset(file) ? 'public, max-age=31536000, immutable' : 'no-cache');
      },
    });
  };
}
