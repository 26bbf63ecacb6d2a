import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { schemas } from '../../client/index.js';
import { access, errorResponses, typed, type Services } from '../context.js';

/**
 * The org's log as C2SP tlog-tiles under the prefix `/api/v1/orgs/{org}/log`: `checkpoint` (log.ts) and here
 * `tile/<L>/<N>[.p/<W>]` and `tile/entries/<N>[.p/<W>]`. A tile of a given width never changes (the log is
 * append-only), so every answer is cacheable forever; `private`, because reading an org's log takes its token.
 */
export function tileRoutes(services: Services) {
  return async (fastify: FastifyInstance) => {
    const app = typed(fastify);
    app.get(
      '/api/v1/orgs/:org/log/tile/*',
      {
        schema: {
          tags: ['log'],
          summary: 'A C2SP tlog-tiles hash tile (tile/<L>/<N>[.p/<W>]) or entry bundle (tile/entries/<N>[.p/<W>]) of the log',
          params: Type.Intersect([schemas.OrgParams, Type.Object({ '*': Type.String({ maxLength: 64, description: 'the tile path after tile/: <L>/<N>[.p/<W>] or entries/<N>[.p/<W>]' }) })]),
          produces: ['application/octet-stream'],
          response: { 200: Type.Unsafe<Buffer>({ type: 'string', format: 'binary' }), ...errorResponses },
        },
      },
      async (request, reply) => {
        const org = await access(services, request, 'read', request.params.org);
        const { bytes } = await services.tiles.read(org, request.params['*']);
        void reply.type('application/octet-stream').header('cache-control', 'private, max-age=31536000, immutable');
        return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      },
    );
  };
}
