import type { FastifyInstance } from 'fastify';
import { releaseSchemas as rs, schemas } from '../../client/index.js';
import { access, errorResponses, typed, type Services } from '../context.js';

/** `evident release plan FROM TO` (seed 001): computed here so the CLI and the web UI show the same plan. */
export function releasePlanRoutes(services: Services) {
  return async (fastify: FastifyInstance) => {
    const app = typed(fastify);
    app.get(
      '/api/v1/orgs/:org/release-plan',
      {
        schema: {
          tags: ['environments', 'releases'],
          summary: 'What a release from one environment to another would promote: incoming and outgoing by flow, unchanged, in progress, unmatched',
          params: schemas.OrgParams, querystring: rs.ReleasePlanQuery, response: { 200: rs.ReleasePlan, ...errorResponses },
        },
      },
      async (request) => {
        const org = await access(services, request, 'read', request.params.org);
        const { from, to, allow_in_progress } = request.query;
        return services.releasePlans.plan(org, from, to, { allowInProgress: allow_in_progress ?? false });
      },
    );
  };
}
