import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { recordSchemas as rs, schemas } from '../../client/index.js';
import { access, errorResponses, typed, type Services } from '../context.js';
import { flowJson } from './record-json.js';

export function flowRoutes(services: Services) {
  return async (fastify: FastifyInstance) => {
    const app = typed(fastify);
    app.post(
      '/api/v1/orgs/:org/flows',
      { schema: { tags: ['flows'], summary: 'Create a flow (one log entry)', params: schemas.OrgParams, body: rs.FlowCreate, response: { 201: rs.Flow, ...errorResponses, 409: schemas.ErrorBody } } },
      async (request, reply) => {
        const org = await access(services, request, 'write', request.params.org);
        const flow = await services.flows.create(org, request.body);
        void reply.status(201);
        return flowJson(flow);
      },
    );
    app.get(
      '/api/v1/orgs/:org/flows',
      {
        schema: {
          tags: ['flows'], summary: 'List flows, oldest first', params: schemas.OrgParams,
          querystring: Type.Object({ ...schemas.PageQuery.properties, include_archived: Type.Optional(Type.Boolean()) }),
          response: { 200: rs.FlowPage, ...errorResponses },
        },
      },
      async (request) => {
        const org = await access(services, request, 'read', request.params.org);
        const page = await services.flows.list(org, request.query.cursor ?? null, request.query.limit ?? 100, request.query.include_archived ?? false);
        return { items: page.items.map(flowJson), next_cursor: page.nextCursor };
      },
    );
    app.get(
      '/api/v1/orgs/:org/flows/:flow',
      { schema: { tags: ['flows'], summary: 'One flow', params: rs.FlowParams, response: { 200: rs.Flow, ...errorResponses } } },
      async (request) => {
        const org = await access(services, request, 'read', request.params.org);
        return flowJson(await services.flows.get(org, request.params.flow));
      },
    );
    app.post(
      '/api/v1/orgs/:org/flows/:flow/archive',
      { schema: { tags: ['flows'], summary: 'Archive a flow: it keeps its history and takes no new trails', params: rs.FlowParams, response: { 200: rs.Flow, ...errorResponses } } },
      async (request) => {
        const org = await access(services, request, 'write', request.params.org);
        return flowJson(await services.flows.archive(org, request.params.flow));
      },
    );
  };
}
