import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { schemas } from '../../client/index.js';
import type { TokenRecord } from '../../store/index.js';
import { access, errorResponses, typed, type Services } from '../context.js';

function tokenJson(t: TokenRecord) {
  return { id: t.id, name: t.name, role: t.role, created_at: t.createdAt, created_by: t.createdBy, expires_at: t.expiresAt, revoked_at: t.revokedAt };
}

/** API tokens of an org: admins list, create (the secret is in the answer, once) and revoke them. */
export function tokenRoutes(services: Services) {
  return async (fastify: FastifyInstance) => {
    const app = typed(fastify);
    app.get(
      '/api/v1/orgs/:org/tokens',
      {
        schema: {
          tags: ['tokens'], summary: "List the org's API tokens (never their secrets)",
          params: schemas.OrgParams, querystring: schemas.PageQuery, response: { 200: schemas.TokenPage, ...errorResponses },
        },
      },
      async (request) => {
        const org = await access(services, request, 'admin', request.params.org);
        const page = await services.auth.list(org, request.query.cursor ?? null, request.query.limit ?? 100);
        return { items: page.items.map(tokenJson), next_cursor: page.nextCursor };
      },
    );
    app.post(
      '/api/v1/orgs/:org/tokens',
      {
        schema: {
          tags: ['tokens'], summary: 'Create an API token; the secret is returned once',
          params: schemas.OrgParams, body: schemas.TokenCreate, response: { 201: schemas.TokenCreated, ...errorResponses },
        },
      },
      async (request, reply) => {
        const org = await access(services, request, 'admin', request.params.org);
        const issued = await services.auth.issue(org, {
          name: request.body.name, role: request.body.role, expiresAt: request.body.expires_at ?? null, createdBy: request.principal!.tokenId,
        });
        void reply.status(201);
        return { token: tokenJson(issued.token), secret: issued.secret };
      },
    );
    app.delete(
      '/api/v1/orgs/:org/tokens/:id',
      {
        schema: {
          tags: ['tokens'], summary: 'Revoke an API token (it stops working at once; the record stays)',
          params: Type.Object({ org: schemas.OrgParams.properties.org, id: Type.String({ maxLength: 100 }) }),
          response: { 200: schemas.Token, ...errorResponses },
        },
      },
      async (request) => {
        const org = await access(services, request, 'admin', request.params.org);
        return tokenJson(await services.auth.revoke(org, request.params.id));
      },
    );
  };
}
