import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { recordSchemas as rs, schemas } from '../../client/index.js';
import type { AttestationTypeRecord } from '../../store/index.js';
import { access, errorResponses, typed, type Services } from '../context.js';

export function attestationTypeJson(t: AttestationTypeRecord, summaries?: Map<number, { name: string; expression: string }[]>, archived?: Map<string, string>) {
  const summary = summaries?.get(t.entryIndex);
  return {
    name: t.name, version: t.version, description: t.description, schema: t.schema, jq_rules: t.rules, ...(summary ? { summary } : {}), created_at: t.createdAt,
    entry_index: t.entryIndex, archived_at: archived?.get(t.name) ?? null,
  };
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
        const type = await services.attestationTypes.create(org, { name: b.name, description: b.description, schema: b.schema, rules: b.jq_rules, summary: b.summary });
        void reply.status(201);
        return attestationTypeJson(type, await services.attestationTypes.summaries(org, [type]));
      },
    );
    app.get(
      '/api/v1/orgs/:org/attestation-types',
      { schema: { tags: ['attestation types'], summary: 'Every version of every custom attestation type', params: schemas.OrgParams, response: { 200: rs.AttestationTypeList, ...errorResponses } } },
      async (request) => {
        const org = await access(services, request, 'read', request.params.org);
        const types = await services.attestationTypes.list(org);
        const [summaries, archived] = await Promise.all([services.attestationTypes.summaries(org, types), services.attestationTypes.archived(org)]);
        return { items: types.map((t) => attestationTypeJson(t, summaries, archived)) };
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
        const type = await services.attestationTypes.get(org, request.params.ref);
        return attestationTypeJson(type, await services.attestationTypes.summaries(org, [type]), await services.attestationTypes.archived(org));
      },
    );
    app.post(
      '/api/v1/orgs/:org/attestation-types/:ref/archive',
      {
        schema: {
          tags: ['attestation types'], summary: "Archive a custom attestation type (Kosli): one log entry; it keeps its history and takes no new attestations or versions",
          params: Type.Object({ org: schemas.OrgParams.properties.org, ref: Type.String({ maxLength: 80 }) }), response: { 200: rs.AttestationType, ...errorResponses },
        },
      },
      async (request) => {
        const org = await access(services, request, 'write', request.params.org);
        await services.attestationTypes.archive(org, request.params.ref);
        const type = await services.attestationTypes.get(org, request.params.ref);
        return attestationTypeJson(type, await services.attestationTypes.summaries(org, [type]), await services.attestationTypes.archived(org));
      },
    );
  };
}
