import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { environmentSchemas as es, schemas } from '../../client/index.js';
import { diffSnapshots } from '../../services/index.js';
import { access, errorResponses, typed, type Services } from '../context.js';

/** `evident diff snapshots A B`: A and B may be snapshots of different environments. Linear in the artifacts. */
export function diffRoutes(services: Services) {
  return async (fastify: FastifyInstance) => {
    const app = typed(fastify);
    app.get(
      '/api/v1/orgs/:org/diff/snapshots',
      {
        schema: {
          tags: ['environments'], summary: 'Only in A, only in B, changed instance counts and unchanged, between two snapshots',
          params: schemas.OrgParams,
          querystring: Type.Object({ a: Type.String({ maxLength: 200 }), b: Type.String({ maxLength: 200 }), show_unchanged: Type.Optional(Type.Boolean({ description: 'also list the artifacts unchanged in both (Kosli --show-unchanged)' })) }),
          response: { 200: es.SnapshotDiff, ...errorResponses },
        },
      },
      async (request) => {
        const org = await access(services, request, 'read', request.params.org);
        const [a, b] = await Promise.all([request.query.a, request.query.b].map((expr) => services.environments.snapshot(org, expr)));
        return diffSnapshots(services.store, org, a!, b!, request.query.show_unchanged ?? false);
      },
    );
  };
}
