import type { FastifyInstance } from 'fastify';
import { metricsSchemas as ms, schemas } from '../../client/index.js';
import { access, errorResponses, typed, type Services } from '../context.js';

/** `evident metrics dora` and the web UI's DORA charts: computed here so both show the same figures. */
export function metricsRoutes(services: Services) {
  return async (fastify: FastifyInstance) => {
    const app = typed(fastify);
    app.get(
      '/api/v1/orgs/:org/metrics/dora',
      {
        schema: {
          tags: ['environments', 'metrics'],
          summary: 'DORA metrics of an environment: deployment frequency, lead time for changes and change failure rate, per flow and overall, with a series and the deployments',
          params: schemas.OrgParams, querystring: ms.DoraQuery, response: { 200: ms.DoraReport, ...errorResponses },
        },
      },
      async (request) => {
        const org = await access(services, request, 'read', request.params.org);
        return services.dora.metrics(org, request.query);
      },
    );
  };
}
