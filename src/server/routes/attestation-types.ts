import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { recordSchemas as rs, schemas } from '../../client/index.js';
import type { AttestationTypeRecord } from '../../store/index.js';
import { access, errorResponses, typed, type Services } from '../context.js';

export function attestationTypeJson(t: AttestationTypeRecord) {
  return { name: t.name, version: t.version, description: t.description, schema: t.schema, jq_rules: t.rules, created_at: t.createdAt, entry_index: t.entryIndex };
}

/** Custom attestation types: a JSON Schema plus jq rules; each definition is a new immutable version. */
export function attestationTypeRoutes(services: Services) {
  return async (fastify: FastifyInstance) => {
    const app = typed(fastify);
    app.post(
      '/api/v1/orgs/:org/attestation-types',
      { schema: { tags: ['attestation types'], summary: 'Define a custom attestation type (or its next version)', params: schemas.OrgParams, body: rs.AttestationTypeCreate, response: { 201: rs.AttestationType, ...errorResponses } } },
      async (request, reply) => {
        const org = await access(services, request, 'write', request.params.org);
        const b = request.body;
        const type = await services.attestationTypes.create(org, { name: b.name, description: b.description, schema: b.schema, rules: b.jq_rules });
        void reply.status(201);
        return attestationTypeJson(type);
      },
    );
    app.get(
      '/api/v1/orgs/:org/attestation-types',
      { schema: { tags: ['attestation types'], summary: 'Every version of every custom attestation type', params: schemas.OrgParams, response: { 200: rs.AttestationTypeList, ...errorResponses } } },
      async (request) => {
        const org = await access(services, request, 'read', request.params.org);
        return { items: (await services.attestationTypes.list(org)).map(attestationTypeJson) };
      },
    );
    app.get(
      '/api/v1/orgs/:org/attestation-types/:ref',
      {
        schema: {
          tags: ['attestation types'], summary: 'A custom attestation type: NAME (latest) or NAME@VERSION',
          params: Type.Object({ org: schemas.OrgParams.properties.org, ref: Type.String({ maxLength: 80 }) }), response: { 200: rs.AttestationType, ...errorResponses },
        },
      },
      async (request) => {
        const org = await access(services, request, 'read', request.params.org);
        return attestationTypeJson(await services.attestationTypes.get(org, request.params.ref));
      },
    );
  };
}
