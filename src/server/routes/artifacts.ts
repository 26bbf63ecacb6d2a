import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { recordSchemas as rs, schemas } from '../../client/index.js';
import { access, errorResponses, typed, type Services } from '../context.js';
import { artifactDetailJson, artifactJson, attestationJson } from './record-json.js';

export function artifactRoutes(services: Services) {
  return async (fastify: FastifyInstance) => {
    const app = typed(fastify);
    app.post(
      '/api/v1/orgs/:org/flows/:flow/trails/:trail/artifacts',
      { schema: { tags: ['artifacts'], summary: 'Report an artifact into a trail (one log entry)', params: rs.TrailParams, body: rs.ArtifactCreate, response: { 201: rs.Artifact, ...errorResponses } } },
      async (request, reply) => {
        const org = await access(services, request, 'write', request.params.org);
        const { flow, trail } = request.params;
        const b = request.body;
        const artifact = await services.artifacts.report(org, {
          flow, trail, name: b.name, fingerprint: b.fingerprint, displayName: b.display_name, gitCommit: b.git_commit,
          commitUrl: b.commit_url, buildUrl: b.build_url, annotations: b.annotations,
        });
        void reply.status(201);
        return artifactJson(artifact, flow, trail);
      },
    );
    app.post(
      '/api/v1/orgs/:org/flows/:flow/trails/:trail/attestations/generic',
      { schema: { tags: ['attestations'], summary: 'Report a generic attestation: compliant true or false (one log entry)', params: rs.TrailParams, body: rs.GenericAttestationCreate, response: { 201: rs.Attestation, ...errorResponses } } },
      async (request, reply) => {
        const org = await access(services, request, 'write', request.params.org);
        const { flow, trail } = request.params;
        const b = request.body;
        const att = await services.attestations.generic(org, {
          flow, trail, name: b.name, compliant: b.compliant, fingerprint: b.fingerprint, gitCommit: b.git_commit,
          description: b.description, userData: b.user_data, annotations: b.annotations,
        });
        void reply.status(201);
        return attestationJson(att, flow, trail);
      },
    );
    app.get(
      '/api/v1/orgs/:org/artifacts/:ref',
      {
        schema: {
          tags: ['artifacts'], summary: 'Artifacts by FLOW@FINGERPRINT, FLOW:COMMIT or a fingerprint prefix (>= 5 hex)',
          params: Type.Object({ org: schemas.OrgParams.properties.org, ref: Type.String({ maxLength: 200 }) }),
          response: { 200: rs.ArtifactDetails, ...errorResponses, 409: schemas.ErrorBody },
        },
      },
      async (request) => {
        const org = await access(services, request, 'read', request.params.org);
        const views = await services.artifacts.find(org, request.params.ref);
        return { items: views.map(artifactDetailJson) };
      },
    );
  };
}
