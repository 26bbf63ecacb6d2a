import type { FastifyInstance } from 'fastify';
import { schemas } from '../../client/index.js';
import { access, errorResponses, typed, type Services } from '../context.js';

export function orgRoutes(services: Services) {
  return async (fastify: FastifyInstance) => {
    const app = typed(fastify);
    app.get(
      '/api/v1/whoami',
      { schema: { tags: ['organisations'], summary: "The calling token's org and role", response: { 200: schemas.WhoAmI, ...errorResponses } } },
      async (request) => {
        await access(services, request, 'read');
        const p = request.principal!;
        return { org: p.org.name, role: p.role, token_id: p.tokenId, token_name: p.tokenName };
      },
    );
    app.get(
      '/api/v1/orgs/:org',
      { schema: { tags: ['organisations'], summary: 'One organisation', params: schemas.OrgParams, response: { 200: schemas.Org, ...errorResponses } } },
      async (request) => {
        await access(services, request, 'read', request.params.org);
        const org = await services.auth.org(request.params.org);
        return { name: org.name, created_at: org.createdAt };
      },
    );
  };
}
