import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { recordSchemas as rs, schemas } from '../../client/index.js';
import { access, errorResponses, typed, type Services } from '../context.js';

/** Kosli's `tag env|control|repo` (services/records/tags.ts); a flow's tags: POST /flows/:flow/tags. */
export function tagRoutes(services: Services) {
  return async (fastify: FastifyInstance) => {
    const app = typed(fastify);
    app.post(
      '/api/v1/orgs/:org/tags',
      {
        schema: {
          tags: ['tags'], summary: "Set and unset the tags of an environment, control or repository: one log entry (<kind>.tagged), none if nothing changes",
          params: schemas.OrgParams, body: rs.TagRequest, response: { 200: rs.TagResult, ...errorResponses },
        },
      },
      async (request) => {
        const org = await access(services, request, 'write', request.params.org);
        const b = request.body;
        return services.tags.tag(org, b.kind, b.name, { set: b.set, unset: b.unset });
      },
    );
    app.get(
      '/api/v1/orgs/:org/tags/:kind',
      {
        schema: {
          tags: ['tags'], summary: 'The tags of every tagged environment, control or repository (or of the one named), replayed from verified log entries',
          params: Type.Object({ org: schemas.OrgParams.properties.org, kind: Type.Union([Type.Literal('environment'), Type.Literal('control'), Type.Literal('repo')]) }),
          querystring: Type.Object({ name: Type.Optional(Type.String({ maxLength: 512 })) }), response: { 200: rs.TagList, ...errorResponses },
        },
      },
      async (request) => {
        const org = await access(services, request, 'read', request.params.org);
        const tags = await services.tags.tags(org, request.params.kind, request.query.name === undefined ? undefined : [request.query.name]);
        return { items: [...tags].map(([name, t]) => ({ name, tags: t })) };
      },
    );
  };
}
