import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { ENVIRONMENT_POLICY_SCHEMA, ENVIRONMENT_POLICY_SCHEMA_ID, FLOW_TEMPLATE_SCHEMA, FLOW_TEMPLATE_SCHEMA_ID } from '../../formats/index.js';
import { typed, type Services } from '../context.js';

/**
 * The JSON Schemas of flow templates and environment policies, at the URLs their `$id` names, so editors
 * (`# yaml-language-server: $schema=…`) and policies' `_schema` can point at this server. Public: they
 * describe formats, not any organisation's data.
 */
export function schemaRoutes(_services: Services) {
  return async (fastify: FastifyInstance) => {
    const app = typed(fastify);
    const serve = (url: string, schema: object, summary: string) =>
      app.get(url, { schema: { tags: ['meta'], summary, security: [], response: { 200: Type.Unknown() } } }, async (_request, reply) => {
        void reply.header('content-type', 'application/schema+json; charset=utf-8').header('cache-control', 'public, max-age=3600');
        return schema;
      });
    serve(FLOW_TEMPLATE_SCHEMA_ID, FLOW_TEMPLATE_SCHEMA, 'The JSON Schema of flow templates (version 1)');
    serve(ENVIRONMENT_POLICY_SCHEMA_ID, ENVIRONMENT_POLICY_SCHEMA, 'The JSON Schema of environment policies (version 1)');
  };
}
