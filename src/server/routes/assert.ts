import type { FastifyInstance } from 'fastify';
import { policySchemas as ps, schemas } from '../../client/index.js';
import { access, errorResponses, typed, type Services } from '../context.js';

/**
 * Gates: the server decides (the CLI only prints), so a decision is made on the records of the log and, with
 * `vsa: true`, signed by the log key as a SLSA VSA. A non-compliant decision is a 200 with `compliant: false`:
 * the request succeeded; `evident assert` turns it into exit status 1.
 */
export function assertRoutes(services: Services) {
  return async (fastify: FastifyInstance) => {
    const app = typed(fastify);
    app.post(
      '/api/v1/orgs/:org/assert/artifact',
      {
        schema: {
          tags: ['policies'], summary: 'Is an artifact compliant: in an environment, with policies, or in a flow? Every failing rule and why; optionally a signed VSA',
          params: schemas.OrgParams, body: ps.AssertArtifact, response: { 200: ps.AssertResult, ...errorResponses },
        },
      },
      async (request) => {
        const org = await access(services, request, 'read', request.params.org);
        const b = request.body;
        return services.asserts.artifact(org, { fingerprint: b.fingerprint, environment: b.environment, policies: b.policies, flow: b.flow }, { vsa: b.vsa });
      },
    );
    app.post(
      '/api/v1/orgs/:org/assert/snapshot',
      {
        schema: {
          tags: ['policies'], summary: 'Is a snapshot compliant (every artifact against the policies attached at it)? Optionally a signed VSA',
          params: schemas.OrgParams, body: ps.AssertSnapshot, response: { 200: ps.AssertResult, ...errorResponses },
        },
      },
      async (request) => {
        const org = await access(services, request, 'read', request.params.org);
        return services.asserts.snapshot(org, request.body.snapshot, { vsa: request.body.vsa });
      },
    );
  };
}
