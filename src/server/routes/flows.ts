import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { recordSchemas as rs, schemas } from '../../client/index.js';
import { access, errorResponses, typed, type Services } from '../context.js';
import { FLOW_SORTS } from '../../services/index.js';
import { flowJson, flowSummaryJson } from './record-json.js';

export function flowRoutes(services: Services) {
  return async (fastify: FastifyInstance) => {
    const app = typed(fastify);
    app.post(
      '/api/v1/orgs/:org/flows',
      { schema: { tags: ['flows'], summary: 'Create a flow, or update the one of that name (Kosli\'s create flow): 201 created, 200 updated (one log entry) or unchanged (none)', params: schemas.OrgParams, body: rs.FlowCreate, response: { 200: rs.Flow, 201: rs.Flow, ...errorResponses, 409: schemas.ErrorBody } } },
      async (request, reply) => {
        const org = await access(services, request, 'write', request.params.org);
        const { flow, outcome } = await services.flows.createOrUpdate(org, request.body);
        void reply.status(outcome === 'created' ? 201 : 200);
        return flowJson(flow);
      },
    );
    app.get(
      '/api/v1/orgs/:org/flows',
      {
        schema: {
          tags: ['flows'], summary: "List flows with each one's last deployment and latest trail's compliance; oldest first unless sorted", params: schemas.OrgParams,
          querystring: Type.Object({
            ...schemas.PageQuery.properties,
            include_archived: Type.Optional(Type.Boolean()),
            sort: Type.Optional(Type.Union(FLOW_SORTS.map((s) => Type.Literal(s)), { description: 'name; last-deployment (most recent first); compliance (worst first)' })),
            missing_attestation_type: Type.Optional(Type.String({ maxLength: 80, description: 'only flows whose latest trail recorded no attestation of this type' })),
          }),
          response: { 200: rs.FlowSummaryPage, ...errorResponses },
        },
      },
      async (request) => {
        const org = await access(services, request, 'read', request.params.org);
        const q = request.query;
        const page = await services.flows.overview(org, {
          cursor: q.cursor ?? null, limit: q.limit ?? 100, includeArchived: q.include_archived ?? false, sort: q.sort, missingAttestationType: q.missing_attestation_type,
        });
        return { items: page.items.map(flowSummaryJson), next_cursor: page.nextCursor };
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
      '/api/v1/orgs/:org/flows/:flow/tags',
      {
        schema: {
          tags: ['flows'], summary: "Set and unset a flow's tags (one log entry, none if nothing changes)", params: rs.FlowParams, body: rs.FlowTagChange,
          response: { 200: rs.Flow, ...errorResponses },
        },
      },
      async (request) => {
        const org = await access(services, request, 'write', request.params.org);
        return flowJson(await services.flows.tag(org, request.params.flow, request.body));
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
